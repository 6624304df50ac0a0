// tests/io_util.hpp — what the file-format tests share: a temporary folder, raw file writing, gzip, and
// hand-built IDX files.
#pragma once
#include "diffusion/io/bytes.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace iotest {

using diffuscope::io::Bytes;

// A fresh folder under the system temp folder, removed with everything in it at the end of the test.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        path = std::filesystem::temp_directory_path() /
               ("diffuscope-" + std::string(info ? info->name() : "test") + "-" + std::to_string(::getpid()));
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::filesystem::path operator/(const std::string& name) const { return path / name; }
};

inline void write_raw(const std::filesystem::path& p, const Bytes& b) {
    std::ofstream f(p, std::ios::binary);
    f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
    ASSERT_TRUE(f.good()) << p;
}

inline Bytes bytes_of(std::string_view s) {
    Bytes b;
    for (char c : s) b.push_back(std::byte(c));
    return b;
}

// A gzip member (RFC 1952) of `in`, written by zlib's deflate with a gzip wrapper (windowBits 16 + 15).
inline Bytes gzip(const Bytes& in) {
    z_stream z{};
    EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    Bytes out(deflateBound(&z, uLong(in.size())) + 64);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
    z.avail_in = uInt(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = uInt(out.size());
    EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

inline void put_u32_be(Bytes& b, uint32_t v) {
    for (int s : {24, 16, 8, 0}) b.push_back(std::byte(v >> s & 0xff));
}

// An IDX images file: pixel (i, y, x) = (7i + 3y + x) mod 256, so every image differs.
inline uint8_t test_pixel(size_t i, size_t y, size_t x) { return uint8_t((7 * i + 3 * y + x) & 0xff); }
inline Bytes idx_images(uint32_t count, uint32_t rows = 28, uint32_t cols = 28) {
    Bytes b;
    put_u32_be(b, 0x00000803);
    put_u32_be(b, count);
    put_u32_be(b, rows);
    put_u32_be(b, cols);
    for (size_t i = 0; i < count; ++i)
        for (size_t y = 0; y < rows; ++y)
            for (size_t x = 0; x < cols; ++x) b.push_back(std::byte(test_pixel(i, y, x)));
    return b;
}
inline Bytes idx_labels(const std::vector<uint8_t>& labels) {
    Bytes b;
    put_u32_be(b, 0x00000801);
    put_u32_be(b, uint32_t(labels.size()));
    for (uint8_t l : labels) b.push_back(std::byte(l));
    return b;
}

}  // namespace iotest

namespace iotest {

// Runs f, which must throw std::runtime_error whose message contains every one of `parts`. Returns the
// message (empty when it did not throw).
template <class F>
std::string expect_error(F&& f, std::initializer_list<std::string_view> parts) {
    try {
        f();
    } catch (const std::runtime_error& e) {
        std::string msg = e.what();
        for (auto p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "missing \"" << p << "\" in: " << msg;
        return msg;
    }
    ADD_FAILURE() << "expected a std::runtime_error";
    return {};
}

}  // namespace iotest
