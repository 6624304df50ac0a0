// diffusion/io/safetensors.hpp — weights in the safetensors format (the one PyTorch/HF tooling shares).
//
// Layout: N (u64 little-endian) | N bytes of JSON header | raw tensor data. The header maps each tensor
// name to {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]} with offsets relative to the start
// of the data; an optional "__metadata__" maps strings to strings. Tensors are little-endian, C order.
// Read: F32, F16, BF16 (converted to float). Write: F32 and the metadata.
#pragma once
#include "diffusion/io/bytes.hpp"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace diffuscope::io {

struct Tensor {
    std::vector<int64_t> shape;  // [] is a scalar: one element
    std::vector<float> data;     // product(shape) values, C order
};

struct SafeTensors {
    std::map<std::string, Tensor> tensors;
    std::map<std::string, std::string> metadata;
    std::string source;  // the file it was read from (for error messages); empty when built in memory
};

// The in-memory parser (read_safetensors and the fuzzer call it). Any problem is a std::runtime_error
// naming `name`, the tensor concerned, and what was expected.
SafeTensors parse_safetensors(ByteSpan file, const std::string& name);
SafeTensors read_safetensors(const std::filesystem::path&);

// Tensors sorted by name, packed back to back; the header padded with spaces to a multiple of 8 bytes.
Bytes encode_safetensors(const SafeTensors&);
void write_safetensors(const std::filesystem::path&, const SafeTensors&);  // atomic

// The tensor `name` with exactly `expected_shape`, or a std::runtime_error such as
//   weights.safetensors: tensor "down.0.conv1.w" has shape [32,1,3,3], the model expects [32,3,3,3]
const Tensor& require(const SafeTensors&, const std::string& name, std::span<const int64_t> expected_shape);
inline const Tensor& require(const SafeTensors& st, const std::string& name,
                             std::initializer_list<int64_t> expected_shape) {
    return require(st, name, std::span<const int64_t>(expected_shape.begin(), expected_shape.size()));
}

// IEEE 754 binary16 and bfloat16 to float, exact (both are subsets of binary32).
float f16_to_f32(uint16_t h);
float bf16_to_f32(uint16_t b);

}  // namespace diffuscope::io
