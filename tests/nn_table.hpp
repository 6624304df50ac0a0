// tests/nn_table.hpp — what the layer table (test_nn_layers.cpp) and its runners share: a row, the errors a
// run reports, and small helpers. A runner builds random inputs from the row's seed, runs the reference and
// its finite-difference check, runs the shaders on a poisoned arena, and returns the worst errors.
#pragma once
#include "diffusion/model/layers.hpp"
#include "tests/nn_arena.hpp"
#include "tests/reference/nn_ref.hpp"

#include <algorithm>
#include <functional>
#include <sstream>

namespace nntable {

using diffuscope::nn::View;
using engine::CommandBuffer;
using nncheck::max_rel_err;
namespace nn = diffuscope::nn;

struct Row {
    std::string op;
    std::vector<uint32_t> shape;
    uint64_t seed;
    double fwd_tol, bwd_tol;
};

struct Errors {
    double fwd = 0, bwd = 0, fd = 0;
    double fd_tol = 1e-6;
    bool guards = true;
};

inline std::string shape_str(const std::vector<uint32_t>& s) {
    std::ostringstream o;
    for (size_t i = 0; i < s.size(); ++i) o << (i ? "x" : "") << s[i];
    return o.str();
}

// How gtest (and so ctest's test list) prints a row.
inline void PrintTo(const Row& r, std::ostream* os) {
    *os << r.op << " " << shape_str(r.shape) << " seed " << r.seed << " tol " << r.fwd_tol << "/" << r.bwd_tol;
}

inline std::vector<double> scaled(std::span<const double> v, double k) {
    std::vector<double> out(v.begin(), v.end());
    for (auto& x : out) x *= k;
    return out;
}

// Normal samples rounded to float, so the shader and the reference see the same inputs and the error
// measured is the kernel's alone.
inline std::vector<double> randn(size_t n, uint64_t seed, double scale = 1.0) {
    auto v = nncheck::randn(n, seed, scale);
    for (auto& x : v) x = double(float(x));
    return v;
}

// Records fn, submits, waits (the engine's one_shot ends with a host barrier).
inline void run(engine::Context& ctx, const std::function<void(CommandBuffer&)>& fn) { engine::one_shot(ctx, fn); }

// Worst error of a gradient tensor after one write and after one accumulate (2× the reference).
struct GradCheck {
    test::Arena& arena;
    double worst = 0;
    void first(const std::string& name, std::span<const double> ref) {
        worst = std::max(worst, max_rel_err(arena.get(name), ref));
    }
    void second(const std::string& name, std::span<const double> ref) {
        worst = std::max(worst, max_rel_err(arena.get(name), scaled(ref, 2.0)));
    }
};

// Finite-difference step for layers linear in the perturbed tensor (and MSE, quadratic in it): the central
// difference is then exact but for rounding, which a large step shrinks (the error ~ ε·|L|/h). Nonlinear
// layers (GroupNorm, SiLU) use h = 1e-5, trading truncation (~h²) against rounding.
inline constexpr double k_h_linear = 1e-2;

// FD samples so a row's check costs about the same whatever its size.
inline size_t fd_samples(double flops_per_eval) { return size_t(std::clamp(4e7 / std::max(flops_per_eval, 1.0), 6.0, 48.0)); }

// The runners, by layer family (nn_runners_*.cpp).
Errors run_conv(engine::Context&, const Row&, const nn::ConvTiles&);
Errors run_linear(engine::Context&, const Row&);
Errors run_groupnorm(engine::Context&, const Row&);
Errors run_silu(engine::Context&, const Row&);
Errors run_upsample(engine::Context&, const Row&);
Errors run_concat(engine::Context&, const Row&);
Errors run_bias_add(engine::Context&, const Row&);
Errors run_add(engine::Context&, const Row&);
Errors run_sinusoidal(engine::Context&, const Row&);
Errors run_label_embed(engine::Context&, const Row&);
Errors run_mse(engine::Context&, const Row&);
Errors run_xent(engine::Context&, const Row&);

}  // namespace nntable
