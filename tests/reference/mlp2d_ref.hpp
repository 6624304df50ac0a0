// tests/reference/mlp2d_ref.hpp — the 2-D denoiser (diffusion/model/mlp2d.hpp) in double, composed from the
// layer references of nn_ref.hpp, with its backward (the gradient of Σ out·dout for every parameter).
// Mirrors the 2-D denoiser's shaders: shaders/nn/mlp2d_input.comp (level, embedding, concatenation),
// the fc layers as 1×1 convolutions (shaders/nn/conv2d_*.comp), shaders/nn/silu_*.comp and shaders/nn/transpose.comp;
// tests: tests/test_mlp2d.cpp.
#pragma once
#include "tests/reference/nn_ref.hpp"

#include <vector>

namespace ref {

struct Mlp2d {
    int hidden = 96, emb = 16;
    double emb_scale = 0.25, level_lo = -12, level_hi = 12;
    // Offsets of fc1.weight … fc4.bias in the flat parameter vector (the order of nn::mlp2d_params).
    std::vector<size_t> offsets() const;
    size_t param_count() const;
};

struct Mlp2dSaved {
    std::vector<double> h, z1, a1, z2, a2, z3, a3;
};

// out [N,2] = v̂(x [N,2], λ [N]); fills `saved` for the backward when given.
void mlp2d_forward(const Mlp2d&, int n, cspan params, cspan x, cspan level, vspan out, Mlp2dSaved* saved = nullptr);
// d(Σ out·dout)/d params, written into dparams (param_count() values).
void mlp2d_backward(const Mlp2d&, int n, cspan params, const Mlp2dSaved&, cspan dout, vspan dparams);

}  // namespace ref
