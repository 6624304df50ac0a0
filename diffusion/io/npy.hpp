// diffusion/io/npy.hpp — NumPy .npy files: read format 1.0/2.0 (and 3.0, which differs only in header
// encoding), write 1.0. dtypes float32 '<f4', int32 '<i4', uint8 '|u1'; C order only.
//
// Layout (numpy.lib.format): "\x93NUMPY" major minor | header length (u16 LE for 1.0, u32 LE for 2.0+) |
// a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with spaces
// and '\n' so the data starts on a 64-byte boundary | the raw array, little-endian, C order.
#pragma once
#include "diffusion/io/bytes.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace diffuscope::io {

enum class DType { f32, i32, u8 };  // the order of kDTypes in npy.cpp
const char* dtype_name(DType);   // "float32"
const char* dtype_descr(DType);  // "<f4"
size_t dtype_size(DType);

struct NpyArray {
    DType dtype = DType::f32;
    std::vector<int64_t> shape;  // () is a scalar: one element
    Bytes bytes;                 // element count × dtype size, C order, little-endian
};

// The in-memory parser (read_npy and the fuzzer call it). Errors are std::runtime_error naming `name`,
// the byte offset where it applies, and what was expected.
NpyArray parse_npy(ByteSpan file, const std::string& name);
NpyArray read_npy(const std::filesystem::path&);

// A complete .npy file (format 1.0). `data` must hold exactly product(shape) elements of `dtype`.
Bytes encode_npy(DType, std::span<const int64_t> shape, ByteSpan data);
void write_npy(const std::filesystem::path&, DType, std::span<const int64_t> shape, ByteSpan data);  // atomic

template <class T>
struct NpyTyped {
    std::vector<int64_t> shape;
    std::vector<T> data;
};
// Reads and checks the dtype and, when given, the shape: a pattern where -1 matches any extent, e.g.
// {-1, 1, 28, 28}. A mismatch names the file, what it holds and what was expected.
using ShapePattern = std::optional<std::vector<int64_t>>;
NpyTyped<float> read_npy_f32(const std::filesystem::path&, const ShapePattern& expected = std::nullopt);
NpyTyped<int32_t> read_npy_i32(const std::filesystem::path&, const ShapePattern& expected = std::nullopt);
NpyTyped<uint8_t> read_npy_u8(const std::filesystem::path&, const ShapePattern& expected = std::nullopt);

void write_npy_f32(const std::filesystem::path&, std::span<const int64_t> shape, std::span<const float>);
void write_npy_i32(const std::filesystem::path&, std::span<const int64_t> shape, std::span<const int32_t>);
void write_npy_u8(const std::filesystem::path&, std::span<const int64_t> shape, std::span<const uint8_t>);

}  // namespace diffuscope::io
