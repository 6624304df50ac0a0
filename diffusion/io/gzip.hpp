// diffusion/io/gzip.hpp — inflate a .gz file held in memory (zlib), with a hard cap on the output size.
#pragma once
#include "diffusion/io/bytes.hpp"

#include <string>

namespace diffuscope::io {

// Gzip data starts with the two bytes 1f 8b (RFC 1952).
inline bool is_gzip(ByteSpan b) { return b.size() >= 2 && b[0] == std::byte{0x1f} && b[1] == std::byte{0x8b}; }

// The inflated bytes of one or more concatenated gzip members. Corrupt or truncated data, or an output
// larger than `max_bytes`, is a std::runtime_error naming `name` and the compressed byte offset. The
// output grows as it is produced (the size in the gzip trailer is not trusted), so memory is bounded by
// what the data really inflates to.
Bytes gunzip(ByteSpan compressed, const std::string& name, size_t max_bytes = size_t(2) << 30);

}  // namespace diffuscope::io
