// tests/image_decode.hpp — minimal PNG and GIF decoders written for the tests, independent of the
// writers: a PNG is read chunk by chunk (CRCs checked), inflated by zlib and unfiltered (all five filter
// types); a GIF is walked block by block and its LZW decoded the textbook way.
#pragma once
#include "diffusion/io/bytes.hpp"

#include <zlib.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace imgtest {

using diffuscope::io::Bytes;
using diffuscope::io::ByteSpan;

struct Png {
    int width = 0, height = 0, bit_depth = 0, color_type = 0, channels = 0;
    std::vector<uint8_t> pixels;
};

inline Png decode_png(const Bytes& b) {
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (b.size() < 8 || std::memcmp(b.data(), sig, 8) != 0) throw std::runtime_error("no PNG signature");
    Png p;
    Bytes idat;
    bool seen_end = false;
    for (size_t at = 8; at < b.size() && !seen_end;) {
        if (b.size() - at < 12) throw std::runtime_error("truncated chunk");
        const uint32_t len = diffuscope::io::load_u32_be(b, at);
        if (b.size() - at - 12 < len) throw std::runtime_error("chunk longer than the file");
        const std::string type(reinterpret_cast<const char*>(b.data() + at + 4), 4);
        uLong crc = crc32(crc32(0, nullptr, 0), reinterpret_cast<const Bytef*>(b.data() + at + 4), len + 4);
        if (crc != diffuscope::io::load_u32_be(b, at + 8 + len)) throw std::runtime_error("bad CRC in " + type);
        if (type == "IHDR") {
            ByteSpan h(b.data() + at + 8, len);
            p.width = int(diffuscope::io::load_u32_be(h, 0));
            p.height = int(diffuscope::io::load_u32_be(h, 4));
            p.bit_depth = int(h[8]);
            p.color_type = int(h[9]);
            if (h[10] != std::byte{0} || h[11] != std::byte{0} || h[12] != std::byte{0})
                throw std::runtime_error("unexpected compression/filter/interlace method");
        } else if (type == "IDAT") {
            idat.insert(idat.end(), b.begin() + long(at + 8), b.begin() + long(at + 8 + len));
        } else if (type == "IEND") {
            seen_end = true;
        }
        at += 12 + len;
    }
    if (!seen_end) throw std::runtime_error("no IEND");
    static const int channels_of[7] = {1, 0, 3, 0, 2, 0, 4};
    if (p.bit_depth != 8 || p.color_type > 6 || !channels_of[p.color_type]) throw std::runtime_error("unsupported");
    p.channels = channels_of[p.color_type];
    const size_t stride = size_t(p.width) * p.channels;
    std::vector<uint8_t> raw(p.height * (stride + 1));
    uLongf raw_len = uLongf(raw.size());
    if (uncompress(raw.data(), &raw_len, reinterpret_cast<const Bytef*>(idat.data()), uLong(idat.size())) != Z_OK ||
        raw_len != raw.size())
        throw std::runtime_error("IDAT does not inflate to height·(1 + width·channels) bytes");
    // Unfilter (PNG spec §9): each row starts with its filter type; a = left, b = up, c = up-left.
    p.pixels.resize(p.height * stride);
    for (int y = 0; y < p.height; ++y) {
        const uint8_t filter = raw[y * (stride + 1)];
        const uint8_t* in = &raw[y * (stride + 1) + 1];
        uint8_t* out = &p.pixels[y * stride];
        const uint8_t* up = y ? &p.pixels[(y - 1) * stride] : nullptr;
        for (size_t i = 0; i < stride; ++i) {
            int a = i >= size_t(p.channels) ? out[i - p.channels] : 0, bb = up ? up[i] : 0,
                c = (up && i >= size_t(p.channels)) ? up[i - p.channels] : 0;
            int pred = 0;
            switch (filter) {
                case 0: pred = 0; break;
                case 1: pred = a; break;
                case 2: pred = bb; break;
                case 3: pred = (a + bb) / 2; break;
                case 4: {
                    int pp = a + bb - c, pa = std::abs(pp - a), pb = std::abs(pp - bb), pc = std::abs(pp - c);
                    pred = (pa <= pb && pa <= pc) ? a : pb <= pc ? bb : c;
                    break;
                }
                default: throw std::runtime_error("bad filter type " + std::to_string(filter));
            }
            out[i] = uint8_t(in[i] + pred);
        }
    }
    return p;
}

// GIF LZW decoding, as in the spec's appendix F: the decoder learns each string one code late.
inline std::vector<uint8_t> lzw_decode(ByteSpan data, int min_code_size) {
    const int clear = 1 << min_code_size, eoi = clear + 1;
    std::vector<std::vector<uint8_t>> table;
    int width = 0, prev = -1;
    auto reset = [&] {
        table.assign(size_t(eoi + 1), {});
        for (int i = 0; i < clear; ++i) table[i] = {uint8_t(i)};
        width = min_code_size + 1;
        prev = -1;
    };
    reset();
    size_t bitpos = 0;
    auto read = [&](int n) {
        if (bitpos + n > data.size() * 8) throw std::runtime_error("LZW data ends without an End code");
        int v = 0;
        for (int k = 0; k < n; ++k, ++bitpos) v |= (int(data[bitpos / 8]) >> (bitpos % 8) & 1) << k;
        return v;
    };
    std::vector<uint8_t> out;
    for (;;) {
        int code = read(width);
        if (code == clear) {
            reset();
            continue;
        }
        if (code == eoi) break;
        std::vector<uint8_t> entry;
        if (prev < 0) {
            if (code >= clear) throw std::runtime_error("first code after Clear is not a palette index");
            entry = table[code];
        } else {
            if (code < int(table.size())) {
                entry = table[code];
            } else if (code == int(table.size())) {
                entry = table[prev];
                entry.push_back(table[prev][0]);  // the KwKwK case
            } else {
                throw std::runtime_error("LZW code " + std::to_string(code) + " beyond the table (" +
                                         std::to_string(table.size()) + ")");
            }
            if (table.size() < 4096) {
                std::vector<uint8_t> added = table[prev];
                added.push_back(entry[0]);
                table.push_back(std::move(added));
                if (table.size() == size_t(1) << width && width < 12) ++width;
            }
        }
        out.insert(out.end(), entry.begin(), entry.end());
        prev = code;
    }
    return out;
}

struct Gif {
    int width = 0, height = 0, loop_count = -1;  // -1: no NETSCAPE2.0 block
    std::vector<uint8_t> palette;                // 3 bytes per entry
    std::vector<std::vector<uint8_t>> frames;    // palette indices, full frames
    std::vector<int> delays_cs;
};

inline Gif decode_gif(const Bytes& b) {
    Gif g;
    size_t at = 0;
    auto need = [&](size_t n) {
        if (b.size() - at < n) throw std::runtime_error("GIF truncated at byte " + std::to_string(at));
    };
    auto u8 = [&] { need(1); return uint8_t(b[at++]); };
    auto u16 = [&] { need(2); uint16_t v = diffuscope::io::load_u16_le(b, at); at += 2; return v; };
    auto sub_blocks = [&] {
        Bytes data;
        for (uint8_t n; (n = u8()) != 0;) {
            need(n);
            data.insert(data.end(), b.begin() + long(at), b.begin() + long(at + n));
            at += n;
        }
        return data;
    };
    need(6);
    if (std::string(reinterpret_cast<const char*>(b.data()), 6) != "GIF89a") throw std::runtime_error("not GIF89a");
    at = 6;
    g.width = u16();
    g.height = u16();
    const uint8_t flags = u8();
    u8();
    u8();
    if (flags & 0x80) {
        size_t n = 3u << ((flags & 7) + 1);
        need(n);
        g.palette.assign(reinterpret_cast<const uint8_t*>(b.data() + at), reinterpret_cast<const uint8_t*>(b.data() + at + n));
        at += n;
    }
    int delay = 0;
    for (;;) {
        const uint8_t block = u8();
        if (block == 0x3B) break;
        if (block == 0x21) {
            const uint8_t label = u8();
            Bytes data = sub_blocks();
            if (label == 0xF9 && data.size() == 4) delay = diffuscope::io::load_u16_le(data, 1);
            if (label == 0xFF && data.size() == 11 + 3 &&
                std::string(reinterpret_cast<const char*>(data.data()), 11) == "NETSCAPE2.0" && data[11] == std::byte{1})
                g.loop_count = diffuscope::io::load_u16_le(data, 12);
            continue;
        }
        if (block != 0x2C) throw std::runtime_error("unknown block 0x" + std::to_string(block));
        const int x = u16(), y = u16(), w = u16(), h = u16();
        if (x || y || w != g.width || h != g.height || u8() != 0)
            throw std::runtime_error("the test decoder handles full frames without a local palette only");
        const int min_code_size = u8();
        auto indices = lzw_decode(sub_blocks(), min_code_size);
        if (indices.size() != size_t(w) * h)
            throw std::runtime_error("frame decodes to " + std::to_string(indices.size()) + " pixels");
        g.frames.push_back(std::move(indices));
        g.delays_cs.push_back(delay);
    }
    if (at != b.size()) throw std::runtime_error("bytes after the trailer");
    return g;
}

}  // namespace imgtest
