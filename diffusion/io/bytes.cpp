// diffusion/io/bytes.cpp — whole-file read and shape helpers shared by the parsers.
#include "diffusion/io/bytes.hpp"

#include <cerrno>
#include <cstdio>
#include <memory>
#include <stdexcept>

namespace diffuscope::io {

Bytes read_file(const std::filesystem::path& path) {
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!f) throw std::runtime_error(path.string() + ": cannot open: " + std::strerror(errno));
    Bytes out;
    std::error_code ec;
    if (auto size = std::filesystem::file_size(path, ec); !ec) out.reserve(size);  // a hint only
    // Read in chunks until the end rather than trusting the size: works for pipes and /proc too.
    std::byte chunk[1 << 16];
    for (;;) {
        size_t n = std::fread(chunk, 1, sizeof chunk, f.get());
        out.insert(out.end(), chunk, chunk + n);
        if (n < sizeof chunk) break;
    }
    if (std::ferror(f.get()))
        throw std::runtime_error(path.string() + ": read failed after " + std::to_string(out.size()) +
                                 " bytes: " + std::strerror(errno));
    return out;
}

std::optional<uint64_t> element_count(std::span<const int64_t> shape) {
    uint64_t n = 1;
    for (int64_t d : shape) {
        if (d < 0) return std::nullopt;
        auto m = checked_mul(n, uint64_t(d));
        if (!m) return std::nullopt;
        n = *m;
    }
    return n;
}

std::string format_shape(std::span<const int64_t> shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ",";
        s += shape[i] == -1 ? std::string("N") : std::to_string(shape[i]);
    }
    return s + "]";
}

bool shape_matches(std::span<const int64_t> shape, std::span<const int64_t> pattern) {
    if (shape.size() != pattern.size()) return false;
    for (size_t i = 0; i < shape.size(); ++i)
        if (pattern[i] != -1 && pattern[i] != shape[i]) return false;
    return true;
}

}  // namespace diffuscope::io
