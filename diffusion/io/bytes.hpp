// diffusion/io/bytes.hpp — what every file parser shares: reading a whole file, little/big-endian loads from
// a byte span that never read past its end, overflow-checked sizes, and shapes printed as [a,b,c].
#pragma once
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace diffuscope::io {

// Every reader below assumes a little-endian host (x86-64, arm64): tensors are copied, not byte-swapped.
static_assert(std::endian::native == std::endian::little, "diffuscope's file formats assume a little-endian host");

using Bytes = std::vector<std::byte>;
using ByteSpan = std::span<const std::byte>;

// The whole file. Throws std::runtime_error "PATH: cannot open: <reason>" or "PATH: read failed ...".
Bytes read_file(const std::filesystem::path& path);

inline uint32_t load_u32_be(ByteSpan b, size_t at) {
    return uint32_t(b[at]) << 24 | uint32_t(b[at + 1]) << 16 | uint32_t(b[at + 2]) << 8 | uint32_t(b[at + 3]);
}
inline uint16_t load_u16_le(ByteSpan b, size_t at) { return uint16_t(uint32_t(b[at]) | uint32_t(b[at + 1]) << 8); }
inline uint32_t load_u32_le(ByteSpan b, size_t at) {
    return uint32_t(b[at]) | uint32_t(b[at + 1]) << 8 | uint32_t(b[at + 2]) << 16 | uint32_t(b[at + 3]) << 24;
}
inline uint64_t load_u64_le(ByteSpan b, size_t at) {
    return uint64_t(load_u32_le(b, at)) | uint64_t(load_u32_le(b, at + 4)) << 32;
}
inline void append_u16_le(Bytes& out, uint16_t v) {
    out.push_back(std::byte(v & 0xff));
    out.push_back(std::byte(v >> 8));
}
inline void append_u32_le(Bytes& out, uint32_t v) {
    append_u16_le(out, uint16_t(v));
    append_u16_le(out, uint16_t(v >> 16));
}
inline void append_u64_le(Bytes& out, uint64_t v) {
    append_u32_le(out, uint32_t(v));
    append_u32_le(out, uint32_t(v >> 32));
}
inline void append_text(Bytes& out, std::string_view s) {
    for (char c : s) out.push_back(std::byte(c));
}
template <class T>
void append_raw(Bytes& out, std::span<const T> v) {
    auto b = std::as_bytes(v);
    out.insert(out.end(), b.begin(), b.end());
}

// a·b, or nullopt when it does not fit in 64 bits. Sizes read from a file go through this before any
// allocation, so a header claiming 2^40 × 2^40 elements is an error, not a wrap-around.
inline std::optional<uint64_t> checked_mul(uint64_t a, uint64_t b) {
    uint64_t r;
    if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
    return r;
}
// The element count of a shape, or nullopt on overflow (or a negative extent).
std::optional<uint64_t> element_count(std::span<const int64_t> shape);

// "[32,1,3,3]"; -1 prints as "N" (a pattern's "any size" axis).
std::string format_shape(std::span<const int64_t> shape);

// A shape pattern matches when it has the same rank and every extent is equal or -1 ("any").
bool shape_matches(std::span<const int64_t> shape, std::span<const int64_t> pattern);

}  // namespace diffuscope::io
