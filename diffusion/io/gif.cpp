// diffusion/io/gif.cpp — GIF89a container and the LZW encoder.
#include "diffusion/io/gif.hpp"

#include "diffusion/io/atomic_file.hpp"

#include <algorithm>
#include <array>
#include <memory>
#include <stdexcept>
#include <string>

namespace diffuscope::io {

namespace {

// Packs variable-width codes least-significant bit first, as GIF requires.
struct BitWriter {
    Bytes out;
    uint32_t acc = 0;
    int bits = 0;
    void put(uint32_t code, int width) {
        acc |= code << bits;
        bits += width;
        while (bits >= 8) {
            out.push_back(std::byte(acc & 0xff));
            acc >>= 8;
            bits -= 8;
        }
    }
    void flush() {
        if (bits > 0) out.push_back(std::byte(acc & 0xff));
        acc = 0;
        bits = 0;
    }
};

// The string table as a hash from (prefix code, next byte) to code: open addressing, linear probing.
// At most 4096 entries live at once, so 8192 slots keep the probes short.
class CodeTable {
public:
    void clear() { slots_.fill(kEmpty); }
    // The code for prefix+byte, or -1.
    int find(int prefix, uint8_t byte) const {
        uint32_t key = uint32_t(prefix) << 8 | byte;
        for (uint32_t h = hash(key);; h = (h + 1) & kMask) {
            if (slots_[h] == kEmpty) return -1;
            if (slots_[h] >> 12 == key) return int(slots_[h] & 0xfff);
        }
    }
    void insert(int prefix, uint8_t byte, int code) {
        uint32_t key = uint32_t(prefix) << 8 | byte;
        uint32_t h = hash(key);
        while (slots_[h] != kEmpty) h = (h + 1) & kMask;
        slots_[h] = key << 12 | uint32_t(code);
    }

private:
    static constexpr uint32_t kMask = 8191, kEmpty = 0xffffffffu;  // a slot holds key (20 bits) << 12 | code
    static uint32_t hash(uint32_t key) { return (key * 2654435761u) >> 19 & kMask; }
    std::array<uint32_t, 8192> slots_{};
};

}  // namespace

// GIF LZW (spec appendix F). Codes 0..2^m−1 are the single indices, 2^m is Clear, 2^m+1 End of Information,
// new strings get codes from 2^m+2 up. Codes start min_code_size+1 bits wide; the decoder widens after it
// has added the entry 2^width − 1, which it does one code later than the encoder (it learns an entry only on
// seeing the next code). So the encoder widens right after *emitting* a code while next_code ≥ 2^width —
// before adding its own entry — which keeps both sides in step, including for the End code. At 4095 the
// table is full: the encoder sends Clear and both start over (a conservative choice giflib also makes).
Bytes gif_lzw_encode(std::span<const uint8_t> indices, int min_code_size) {
    if (min_code_size < 2 || min_code_size > 8) throw std::runtime_error("gif_lzw_encode: min code size must be 2-8");
    const int clear_code = 1 << min_code_size, end_code = clear_code + 1;
    auto table = std::make_unique<CodeTable>();
    BitWriter w;
    int width = min_code_size + 1, next_code = end_code + 1;
    auto emit = [&](int code) {
        w.put(uint32_t(code), width);
        if (next_code >= (1 << width) && width < 12) ++width;
    };
    auto reset = [&] {
        table->clear();
        width = min_code_size + 1;
        next_code = end_code + 1;
    };
    reset();
    w.put(uint32_t(clear_code), width);  // start with Clear, as most encoders do
    if (!indices.empty()) {
        if (indices[0] >= clear_code) throw std::runtime_error("gif_lzw_encode: index beyond the palette");
        int prefix = indices[0];
        for (size_t i = 1; i < indices.size(); ++i) {
            const uint8_t c = indices[i];
            if (c >= clear_code) throw std::runtime_error("gif_lzw_encode: index beyond the palette");
            if (int code = table->find(prefix, c); code >= 0) {
                prefix = code;  // prefix+c is known: keep extending
                continue;
            }
            emit(prefix);
            if (next_code < 4095) {
                table->insert(prefix, c, next_code++);
            } else {
                w.put(uint32_t(clear_code), width);
                reset();
            }
            prefix = c;
        }
        emit(prefix);
    }
    w.put(uint32_t(end_code), width);
    w.flush();
    return std::move(w.out);
}

Bytes encode_gif(std::span<const GifFrame> frames, uint16_t loop_count) {
    if (frames.empty()) throw std::runtime_error("encode_gif: no frames");
    const int W = frames[0].image.width, H = frames[0].image.height;
    if (W <= 0 || H <= 0 || W > 65535 || H > 65535)
        throw std::runtime_error("encode_gif: frame size " + std::to_string(W) + "x" + std::to_string(H) +
                                 "; expected 1-65535 on each side");
    Bytes out;
    append_text(out, "GIF89a");
    // Logical screen descriptor: size; flags 0xF7 = global colour table present, 8 bits of colour
    // resolution, unsorted, 2^(7+1) = 256 entries; background index 0; no aspect ratio.
    append_u16_le(out, uint16_t(W));
    append_u16_le(out, uint16_t(H));
    for (int b : {0xF7, 0, 0}) out.push_back(std::byte(b));
    for (int i = 0; i < 256; ++i)
        for (int c = 0; c < 3; ++c) out.push_back(std::byte(i));  // palette entry i is grey level i
    // Application extension NETSCAPE2.0: sub-block {1, loop count u16}.
    for (int b : {0x21, 0xFF, 0x0B}) out.push_back(std::byte(b));
    append_text(out, "NETSCAPE2.0");
    for (int b : {0x03, 0x01}) out.push_back(std::byte(b));
    append_u16_le(out, loop_count);
    out.push_back(std::byte{0});

    for (size_t f = 0; f < frames.size(); ++f) {
        const Image& img = frames[f].image;
        if (img.width != W || img.height != H || img.channels != 1 || img.pixels.size() != size_t(W) * H)
            throw std::runtime_error("encode_gif: frame " + std::to_string(f) + " is " + std::to_string(img.width) + "x" +
                                     std::to_string(img.height) + "x" + std::to_string(img.channels) + "; expected " +
                                     std::to_string(W) + "x" + std::to_string(H) + " grey like frame 0");
        // Graphic control extension: flags 0x04 = disposal 1 ("leave in place"), no transparency; delay.
        for (int b : {0x21, 0xF9, 0x04, 0x04}) out.push_back(std::byte(b));
        append_u16_le(out, frames[f].delay_cs);
        for (int b : {0, 0}) out.push_back(std::byte(b));  // transparent index (unused), block terminator
        // Image descriptor: at (0,0), full size, no local palette, not interlaced.
        out.push_back(std::byte{0x2C});
        append_u16_le(out, 0);
        append_u16_le(out, 0);
        append_u16_le(out, uint16_t(W));
        append_u16_le(out, uint16_t(H));
        out.push_back(std::byte{0});
        // Image data: the LZW minimum code size, then the code stream in sub-blocks of at most 255 bytes.
        out.push_back(std::byte{8});
        Bytes lzw = gif_lzw_encode(img.pixels, 8);
        for (size_t at = 0; at < lzw.size(); at += 255) {
            size_t n = std::min<size_t>(255, lzw.size() - at);
            out.push_back(std::byte(n));
            out.insert(out.end(), lzw.begin() + at, lzw.begin() + at + n);
        }
        out.push_back(std::byte{0});
    }
    out.push_back(std::byte{0x3B});  // trailer
    return out;
}

void write_gif(const std::filesystem::path& path, std::span<const GifFrame> frames, uint16_t loop_count) {
    write_encoded_atomically(path, [&] { return encode_gif(frames, loop_count); });
}

}  // namespace diffuscope::io
