// diffusion/model/sinusoid.hpp — the sinusoidal embedding's frequencies, f_k = 1000^(k/(half−1)) = 2^(k·c),
// c = log₂(1000)/(half − 1), shared by nn/sinusoidal_embed.comp and nn/mlp2d_input.comp.
#pragma once

#include <array>
#include <cstdint>

namespace diffuscope::nn {

// c as hi + lo floats, hi with 14 significant bits: k·hi is exact in float for k < 2¹⁰, so the shader forms
// the exponent k·c to ~4e-12 relative (14 + 24 bits) and exp2_acc (shaders/common/fmath.glsl) gives f_k to ~2 ulp. Computing
// the exponent in one float, as exp2(log2(1000)·k/(half−1)), would miss f_k by up to 7e-7 relative: 7e-4 of
// phase at 1000, more than the embedding's whole error budget. half in [2, 1024].
std::array<float, 2> sinusoid_log2_step(uint32_t half);

}  // namespace diffuscope::nn
