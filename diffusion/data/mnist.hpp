// diffusion/data/mnist.hpp — MNIST from the standard IDX files (plain or .gz), the fixed train/held-out
// split, and where the bundled copy lives.
//
// IDX (LeCun et al., http://yann.lecun.com/exdb/mnist/): a big-endian header, then raw unsigned bytes.
//   images: 00 00 08 03 | count u32 | rows u32 | cols u32 | count·rows·cols pixels (0 = background)
//   labels: 00 00 08 01 | count u32 | count labels, each 0–9
#pragma once
#include "diffusion/io/bytes.hpp"

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace diffuscope::data {

struct Mnist {
    uint32_t count = 0, rows = 0, cols = 0;
    std::vector<uint8_t> pixels;  // count·rows·cols, image-major then row-major; 0 = background, 255 = ink
    std::vector<uint8_t> labels;  // count, each 0–9
    std::vector<std::string> sources;  // the files it was read from, in order

    std::span<const uint8_t> image(size_t i) const {
        return std::span(pixels).subspan(i * rows * cols, size_t(rows) * cols);
    }
};

struct IdxImages {
    uint32_t count = 0, rows = 0, cols = 0;
    std::vector<uint8_t> pixels;
};

// In-memory parsers (the file readers below call these; the fuzzer feeds them mutated bytes). Gzip data
// (magic 1f 8b) is inflated first, whatever the name. Any problem: std::runtime_error naming `name`,
// the byte offset, and what was expected.
IdxImages parse_idx_images(io::ByteSpan file, const std::string& name);
std::vector<uint8_t> parse_idx_labels(io::ByteSpan file, const std::string& name);

IdxImages read_idx_images(const std::filesystem::path&);
std::vector<uint8_t> read_idx_labels(const std::filesystem::path&);

// One images file with its labels file; the counts must agree.
Mnist load_mnist(const std::filesystem::path& images, const std::filesystem::path& labels);

// Every standard pair found in `dir`, concatenated: train-{images-idx3,labels-idx1}-ubyte then t10k-…,
// each plain or .gz (also the "train-images.idx3-ubyte" spelling some mirrors use). The error lists what
// was looked for.
Mnist load_mnist_dir(const std::filesystem::path& dir);

// The fixed, balanced held-out split. See split_mnist in mnist.cpp for the rule.
struct MnistSplit {
    Mnist train, heldout;
};
MnistSplit split_mnist(const Mnist&, size_t heldout_per_class = 100);

std::array<size_t, 10> class_counts(const Mnist&);
// Images first … first + count − 1 as floats in [0, 1] (ink = 1), image after image; count = 0: to the end.
std::vector<float> pixels01(const Mnist&, size_t first = 0, size_t count = 0);

// Where the data is when the user gave no --data: $DIFFUSCOPE_DATA if set, else <repo>/data/mnist found by
// walking up from the executable (build/diffuscope, build-debug/tests/…), then from the current folder.
// Throws a std::runtime_error telling the user to run scripts/run.sh or pass --data DIR.
std::filesystem::path default_data_dir();

}  // namespace diffuscope::data
