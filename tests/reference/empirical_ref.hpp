// tests/reference/empirical_ref.hpp — the empirical optimal denoiser in double, straight from its definition:
// E[x₀ | x_t = x] = Σ_i softmax_i(−‖x − √ᾱ x₀ⁱ‖² / (2(1−ᾱ))) x₀ⁱ over the images of `label` (all for 10, or
// when the class has none), x₀ⁱ = 2·byte/255 − 1. (1 − ᾱ) is floored at 1e-10 as on the GPU.
// Mirrors shaders/diffusion/empirical_logits.comp, empirical_softmax.comp and empirical_mean.comp (the three
// passes of diffusion/oracle/empirical_oracle.cpp); tests: tests/test_oracles.cpp, tests/test_fieldimg.cpp.
#pragma once
#include <cstdint>
#include <vector>

namespace ref {

std::vector<double> empirical_denoise(const std::vector<uint8_t>& pixels, const std::vector<uint8_t>& labels,
                                      uint32_t dim, const std::vector<double>& x, double alpha_bar, int label);

// Synthetic 28×28-like images: a few soft strokes each, bytes 0–255, labels 0–9 (for tests that must not need
// the real MNIST files).
void synthetic_images(uint32_t count, uint32_t side, uint64_t seed, std::vector<uint8_t>& pixels,
                      std::vector<uint8_t>& labels);

}  // namespace ref
