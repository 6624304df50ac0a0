// Fixed-seed outputs of the commands a user runs — UNet and oracle samples, 2-D samples, a few training steps
// of the UNet and of the classifier — hashed (FNV-1a 64 over the file's bytes) and compared with
// tests/golden/outputs.txt. A refactoring that is meant to change no behaviour must leave every hash as it was:
// one changed bit in a sample or a trained weight fails here.
//
// Float results legitimately differ between drivers, so the hashes are recorded per Vulkan device: its name,
// and for a CPU driver (llvmpipe compiles for the host) the processor's model name too. On a device with no
// recorded line the test prints the lines to add and skips; DIFFUSCOPE_GOLDEN_PRINT=1 prints them on any device.
#include "tests/gpu.hpp"
#include "tests/io_util.hpp"
#include "tests/reference/empirical_ref.hpp"
#include "tests/run_binary.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace {

uint64_t fnv1a(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    uint64_t h = 1469598103934665603ull;
    char c;
    while (f.get(c)) h = (h ^ uint8_t(c)) * 1099511628211ull;
    return h;
}

std::string hex(uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)v);
    return buf;
}

// tests/golden/outputs.txt: "device|case|hash" lines; '#' starts a comment.
std::map<std::string, std::string> recorded(const std::string& device) {
    std::ifstream f(fs::path(DIFFUSCOPE_SOURCE_DIR) / "tests/golden/outputs.txt");
    std::map<std::string, std::string> out;
    for (std::string line; std::getline(f, line);) {
        if (line.empty() || line[0] == '#') continue;
        const auto a = line.find('|'), b = line.rfind('|');
        if (a == std::string::npos || a == b) continue;
        if (line.substr(0, a) == device) out[line.substr(a + 1, b - a - 1)] = line.substr(b + 1);
    }
    return out;
}

// "llvmpipe (LLVM 15.0.6, 256 bits) on <model name>" for a CPU driver, the device's name otherwise.
std::string device_key(const engine::DeviceInfo& info) {
    if (info.type != VK_PHYSICAL_DEVICE_TYPE_CPU) return info.name;
    std::ifstream f("/proc/cpuinfo");
    for (std::string line; std::getline(f, line);)
        if (line.rfind("model name", 0) == 0) return info.name + " on " + line.substr(line.find(':') + 2);
    return info.name;
}

void write_synthetic_idx(const fs::path& dir) {
    std::vector<uint8_t> pixels, labels;
    ref::synthetic_images(240, 28, 5, pixels, labels);
    iotest::Bytes im;
    iotest::put_u32_be(im, 0x803);
    iotest::put_u32_be(im, 240);
    iotest::put_u32_be(im, 28);
    iotest::put_u32_be(im, 28);
    for (uint8_t v : pixels) im.push_back(std::byte(v));
    iotest::write_raw(dir / "train-images-idx3-ubyte", im);
    iotest::write_raw(dir / "train-labels-idx1-ubyte", iotest::idx_labels(labels));
}

}  // namespace

TEST(GoldenOutputs, FixedSeedOutputsMatchTheRecordedHashes) {
    iotest::TempDir tmp;
    const fs::path syn = tmp / "synthetic";
    fs::create_directories(syn);
    write_synthetic_idx(syn);
    const std::string src = DIFFUSCOPE_SOURCE_DIR, mnist = src + "/data/mnist";

    struct Case {
        std::string name, args, file;
    };
    const std::vector<Case> cases = {
        {"sample-unet-dpmpp2m-w2",
         "sample --weights " + src + "/assets/unet.safetensors --count 6 --sampler dpmpp2m --steps 4 --guidance 2 "
         "--seed 5 --out " + (tmp / "unet.npy").string(),
         "unet.npy"},
        {"sample-oracle-ddpm",
         "sample --oracle --data " + syn.string() + " --heldout-per-class 0 --count 4 --sampler ddpm --steps 6 "
         "--seed 3 --out " + (tmp / "oracle.npy").string(),
         "oracle.npy"},
        {"sample2d-gmm8-heun",
         "sample2d --toy gmm8 --count 64 --sampler heun --steps 8 --seed 2 --out " + (tmp / "toy.npy").string(),
         "toy.npy"},
        {"train-unet-3-steps",
         "train --data " + mnist + " --steps 3 --batch 4 --seed 1 --out " + (tmp / "ckpt.safetensors").string() +
             " --export " + (tmp / "ema.safetensors").string(),
         "ema.safetensors"},
        {"train-classifier-64-images",
         "train-classifier --data " + mnist + " --epochs 1 --batch 16 --max-images 64 --seed 1 --out " +
             (tmp / "cls.safetensors").string(),
         "cls.safetensors"},
    };

    const std::string device = device_key(test::gpu().info());
    const auto want = recorded(device);
    const bool print = want.empty() || std::getenv("DIFFUSCOPE_GOLDEN_PRINT");
    std::string lines;
    for (const auto& c : cases) {
        auto r = test::run_diffuscope(c.args);
        ASSERT_EQ(r.rc, 0) << c.name << ": " << r.out;
        const std::string got = hex(fnv1a(tmp / c.file));
        lines += device + "|" + c.name + "|" + got + "\n";
        if (want.empty()) continue;
        auto it = want.find(c.name);
        ASSERT_NE(it, want.end()) << "tests/golden/outputs.txt has no line for " << c.name << " on " << device;
        EXPECT_EQ(got, it->second) << c.name << ": the output changed (" << c.args << ")";
    }
    if (print) std::printf("golden lines for tests/golden/outputs.txt:\n%s", lines.c_str());
    if (want.empty()) GTEST_SKIP() << "no recorded hashes for the device \"" << device << "\"; lines to add above";
}
