// tests/model_cli.hpp — what the tests of the model's subcommands share: running the diffuscope binary,
// a tiny randomly initialised UNet written to a safetensors, random forward inputs as .npy files.
#pragma once
#include "diffusion/io/npy.hpp"
#include "diffusion/model/weights.hpp"
#include "tests/nn_check.hpp"
#include "tests/run_binary.hpp"

#include <array>
#include <cmath>
#include <span>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>

namespace modeltest {

using test::Run;
inline Run run(const std::string& command_line) { return test::run_command(command_line); }
inline Run run_diffuscope(const std::string& args) { return run(std::string(DIFFUSCOPE_BINARY) + " " + args); }

inline std::string slurp(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), {}};
}

// max|got − ref| / max|ref| (absolute when ref is all zero; +inf for a size mismatch or a non-finite value).
inline double scaled_err(std::span<const float> got, std::span<const double> ref) {
    if (got.size() != ref.size()) return INFINITY;
    double scale = 0, diff = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
        if (!std::isfinite(got[i])) return INFINITY;
        scale = std::max(scale, std::abs(ref[i]));
        diff = std::max(diff, std::abs(double(got[i]) - ref[i]));
    }
    return scale > 0 ? diff / scale : diff;
}

// base 8, groups 4, emb 16, cond 32: ~17 k parameters, fast enough for validated CLI runs.
inline diffuscope::nn::UNetConfig tiny_config(diffuscope::nn::Prediction pred = diffuscope::nn::Prediction::eps) {
    diffuscope::nn::UNetConfig c;
    c.base = 8;
    c.groups = 4;
    c.emb_dim = 16;
    c.cond_dim = 32;
    c.prediction = pred;
    return c;
}

// The real initialisation plus noise on every tensor (conv_out starts at zero: without the noise the output
// would be 0 and every gradient upstream of it vanish, so a comparison could not fail). Padding stays 0.
inline std::vector<float> random_params(const diffuscope::nn::UNetConfig& c, uint64_t seed, double noise = 0.2) {
    const auto table = diffuscope::nn::unet_params(c);
    auto p = diffuscope::nn::unet_init(c, table, seed);
    auto n = nncheck::randn(p.size(), seed + 9, noise);
    for (const auto& t : table.all())
        for (uint32_t i = t.offset; i < t.offset + t.count; ++i) p[i] += float(n[i]);
    return p;
}

struct ForwardFiles {
    std::filesystem::path x, level, label, dout;
};
// N random inputs: x ~ N(0, 1), λ ~ N(0, 36) with one beyond each clamp end when N ≥ 3, labels cycling
// through 0–10 (10 = null), dout ~ N(0, 1).
inline ForwardFiles write_forward_inputs(const std::filesystem::path& dir, int64_t n, uint64_t seed) {
    using namespace diffuscope::io;
    ForwardFiles f{dir / "x.npy", dir / "level.npy", dir / "label.npy", dir / "dout.npy"};
    const std::vector<int64_t> img = {n, 1, 28, 28}, vec = {n};
    auto level = nncheck::to_float(nncheck::randn(size_t(n), seed + 2, 6.0));
    if (n >= 3) level[1] = 30.0f, level[2] = -25.0f;
    std::vector<int32_t> label(static_cast<size_t>(n), 0);
    for (int64_t i = 0; i < n; ++i) label[size_t(i)] = int32_t((seed + 3 * uint64_t(i)) % 11);
    write_npy_f32(f.x, img, nncheck::to_float(nncheck::randn(size_t(n) * 784, seed)));
    write_npy_f32(f.level, vec, level);
    write_npy_i32(f.label, vec, label);
    write_npy_f32(f.dout, img, nncheck::to_float(nncheck::randn(size_t(n) * 784, seed + 1)));
    return f;
}

}  // namespace modeltest
