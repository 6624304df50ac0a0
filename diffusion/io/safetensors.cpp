// diffusion/io/safetensors.cpp — header validation first (sizes, offsets, overlaps), then conversion.
#include "diffusion/io/safetensors.hpp"

#include "diffusion/io/atomic_file.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <tuple>

namespace diffuscope::io {

using nlohmann::json;

float f16_to_f32(uint16_t h) {
    // binary16: sign 1 | exponent 5 (bias 15) | mantissa 10. Re-bias to binary32 (bias 127); a subnormal
    // half (exponent 0) is normalised by shifting its mantissa up until the implicit 1 appears.
    uint32_t sign = uint32_t(h >> 15) << 31, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | mant << 13;  // Inf, or NaN with its payload
    } else if (exp != 0) {
        bits = sign | (exp + 127 - 15) << 23 | mant << 13;
    } else if (mant == 0) {
        bits = sign;  // ±0
    } else {
        int e = -1;
        do {
            ++e;
            mant <<= 1;
        } while (!(mant & 0x400));
        bits = sign | uint32_t(127 - 15 - e) << 23 | (mant & 0x3ff) << 13;
    }
    return std::bit_cast<float>(bits);
}

float bf16_to_f32(uint16_t b) { return std::bit_cast<float>(uint32_t(b) << 16); }  // the top half of a float

namespace {

constexpr uint64_t kMaxHeader = 100u << 20;  // the format's own limit (100 MB of JSON)

struct Entry {
    std::string name;
    size_t dtype_size;
    std::string dtype;
    std::vector<int64_t> shape;
    uint64_t begin, end;
};

[[noreturn]] void fail(const std::string& file, const std::string& what) {
    throw std::runtime_error(file + ": " + what);
}

size_t dtype_size(const std::string& d) {
    if (d == "F32") return 4;
    if (d == "F16" || d == "BF16") return 2;
    return 0;
}

// One tensor's header entry, checked against the data region of `data_size` bytes.
Entry parse_entry(const std::string& file, const std::string& tname, const json& v, uint64_t data_size) {
    const std::string t = "tensor \"" + tname + "\"";
    if (!v.is_object()) fail(file, t + ": expected a JSON object {\"dtype\", \"shape\", \"data_offsets\"}");
    Entry e{tname, 0, "", {}, 0, 0};
    auto dt = v.find("dtype");
    if (dt == v.end() || !dt->is_string()) fail(file, t + ": missing \"dtype\" string");
    e.dtype = dt->get<std::string>();
    e.dtype_size = dtype_size(e.dtype);
    if (e.dtype_size == 0)
        fail(file, t + " has dtype " + e.dtype + "; diffuscope reads F32, F16 and BF16 (convert it, e.g. "
                                                 "tensor.float(), before saving)");
    auto sh = v.find("shape");
    if (sh == v.end() || !sh->is_array()) fail(file, t + ": missing \"shape\" array");
    if (sh->size() > 32) fail(file, t + ": shape has " + std::to_string(sh->size()) + " dimensions; expected at most 32");
    for (const json& d : *sh) {
        if (!d.is_number_unsigned() || d.get<uint64_t>() > uint64_t(INT64_MAX))
            fail(file, t + ": shape " + sh->dump() + " holds " + d.dump() + "; expected non-negative integers");
        e.shape.push_back(int64_t(d.get<uint64_t>()));
    }
    auto off = v.find("data_offsets");
    if (off == v.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
        !(*off)[1].is_number_unsigned())
        fail(file, t + ": expected \"data_offsets\": [begin, end] with non-negative integers");
    e.begin = (*off)[0].get<uint64_t>();
    e.end = (*off)[1].get<uint64_t>();
    if (e.begin > e.end || e.end > data_size)
        fail(file, t + " has data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                       "]; expected 0 <= begin <= end <= " + std::to_string(data_size) +
                       " (the size of the data after the header)");
    auto count = element_count(e.shape);
    auto bytes = count ? checked_mul(*count, e.dtype_size) : std::nullopt;
    if (!bytes || *bytes != e.end - e.begin)
        fail(file, t + " has shape " + format_shape(e.shape) + " of " + e.dtype + ", which needs " +
                       (bytes ? std::to_string(*bytes) : std::string("more than 2^64")) + " bytes, but data_offsets [" +
                       std::to_string(e.begin) + ", " + std::to_string(e.end) + "] span " +
                       std::to_string(e.end - e.begin));
    return e;
}

}  // namespace

namespace {

SafeTensors parse_checked(ByteSpan b, const std::string& name) {
    if (b.size() < 8) fail(name, "truncated at byte " + std::to_string(b.size()) + ": expected the 8-byte header length");
    const uint64_t n = load_u64_le(b, 0);
    if (n > b.size() - 8)
        fail(name, "bytes 0-7 say the JSON header is " + std::to_string(n) + " bytes, but the file has only " +
                       std::to_string(b.size() - 8) + " after them (truncated, or not a safetensors file)");
    if (n > kMaxHeader)
        fail(name, "bytes 0-7 say the JSON header is " + std::to_string(n) + " bytes; expected at most " +
                       std::to_string(kMaxHeader));
    const char* text = reinterpret_cast<const char*>(b.data() + 8);
    json header;
    try {
        header = json::parse(text, text + n);
    } catch (const json::parse_error& e) {
        fail(name, "the JSON header (bytes 8-" + std::to_string(8 + n) + ") is invalid: " + e.what());
    }
    if (!header.is_object()) fail(name, "the JSON header is a " + std::string(header.type_name()) + "; expected an object");

    SafeTensors st;
    st.source = name;
    const ByteSpan data = b.subspan(8 + n);
    std::vector<Entry> entries;
    for (const auto& [key, v] : header.items()) {
        if (key == "__metadata__") {
            if (!v.is_object()) fail(name, "\"__metadata__\" is a " + std::string(v.type_name()) + "; expected an object");
            for (const auto& [mk, mv] : v.items()) {
                if (!mv.is_string())
                    fail(name, "\"__metadata__\" entry \"" + mk + "\" is a " + mv.type_name() + "; expected a string");
                st.metadata[mk] = mv.get<std::string>();
            }
            continue;
        }
        entries.push_back(parse_entry(name, key, v, data.size()));
    }

    // No two tensors may share bytes (empty tensors overlap nothing).
    std::vector<const Entry*> by_offset;
    for (const Entry& e : entries) by_offset.push_back(&e);
    std::sort(by_offset.begin(), by_offset.end(),
              [](const Entry* a, const Entry* b) { return std::tie(a->begin, a->end) < std::tie(b->begin, b->end); });
    const Entry* prev = nullptr;
    for (const Entry* e : by_offset) {
        if (e->begin == e->end) continue;
        if (prev && e->begin < prev->end)
            fail(name, "tensor \"" + e->name + "\" (bytes " + std::to_string(e->begin) + "-" + std::to_string(e->end) +
                           " of the data) overlaps tensor \"" + prev->name + "\" (bytes " +
                           std::to_string(prev->begin) + "-" + std::to_string(prev->end) + ")");
        prev = e;
    }

    for (const Entry& e : entries) {
        Tensor t{e.shape, std::vector<float>((e.end - e.begin) / e.dtype_size)};
        const std::byte* src = data.data() + e.begin;
        if (e.dtype == "F32") {
            if (!t.data.empty()) std::memcpy(t.data.data(), src, e.end - e.begin);  // memcpy(nullptr, …, 0) is UB
        } else {
            float (*convert)(uint16_t) = e.dtype == "F16" ? f16_to_f32 : bf16_to_f32;
            for (size_t i = 0; i < t.data.size(); ++i)
                t.data[i] = convert(load_u16_le(ByteSpan(src, e.end - e.begin), 2 * i));
        }
        st.tensors.emplace(e.name, std::move(t));
    }
    return st;
}

}  // namespace

SafeTensors parse_safetensors(ByteSpan b, const std::string& name) {
    try {
        return parse_checked(b, name);
    } catch (const json::exception& e) {
        // A safety net: every access above checks the JSON type first, so this should not happen; if it
        // does, it is still a clean error about this file rather than an unexpected exception type.
        fail(name, std::string("unexpected JSON structure in the header: ") + e.what());
    }
}

SafeTensors read_safetensors(const std::filesystem::path& path) {
    return parse_safetensors(read_file(path), path.string());
}

Bytes encode_safetensors(const SafeTensors& st) {
    json header = json::object();
    uint64_t offset = 0;
    for (const auto& [tname, t] : st.tensors) {  // std::map: sorted by name
        if (tname == "__metadata__") throw std::runtime_error("encode_safetensors: \"__metadata__\" is not a tensor name");
        auto count = element_count(t.shape);
        if (!count || *count != t.data.size())
            throw std::runtime_error("encode_safetensors: tensor \"" + tname + "\" has shape " + format_shape(t.shape) +
                                     " but holds " + std::to_string(t.data.size()) + " values");
        header[tname] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + 4 * t.data.size()}}};
        offset += 4 * t.data.size();
    }
    if (!st.metadata.empty()) header["__metadata__"] = st.metadata;
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');  // keeps the data 8-byte aligned, as the reference writer does

    Bytes out;
    out.reserve(8 + text.size() + offset);
    append_u64_le(out, text.size());
    append_text(out, text);
    for (const auto& [tname, t] : st.tensors) append_raw(out, std::span<const float>(t.data));
    return out;
}

void write_safetensors(const std::filesystem::path& path, const SafeTensors& st) {
    write_encoded_atomically(path, [&] { return encode_safetensors(st); });
}

const Tensor& require(const SafeTensors& st, const std::string& name, std::span<const int64_t> expected_shape) {
    const std::string file = st.source.empty() ? "safetensors" : st.source;
    auto it = st.tensors.find(name);
    if (it == st.tensors.end()) {
        std::string some;
        size_t listed = 0;
        for (const auto& [n, t] : st.tensors) {
            if (listed++ == 8) {
                some += ", ...";
                break;
            }
            some += (some.empty() ? "" : ", ") + n;
        }
        fail(file, "no tensor \"" + name + "\", which the model expects with shape " + format_shape(expected_shape) +
                       " (the file has " + std::to_string(st.tensors.size()) + " tensors" +
                       (some.empty() ? "" : ": " + some) + "); is it a checkpoint of this model?");
    }
    if (!shape_matches(it->second.shape, expected_shape))
        fail(file, "tensor \"" + name + "\" has shape " + format_shape(it->second.shape) + ", the model expects " +
                       format_shape(expected_shape));
    return it->second;
}

}  // namespace diffuscope::io
