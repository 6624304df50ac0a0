// tests/reference/gmm_ref.hpp — the noised Gaussian mixture in double: its log-density (so the score can be
// checked by finite differences), its score and E[x₀|x_t] in closed form.
// Mirrors shaders/diffusion/gmm_denoiser.comp (diffusion/oracle/gmm_oracle.cpp); tests: tests/test_oracles.cpp,
// tests/test_samplers.cpp (the model of the chain references), tests/test_mlp2d.cpp.
#pragma once
#include "diffusion/data/toy2d.hpp"
#include "diffusion/model/denoiser.hpp"

#include <array>

namespace ref {

// log p_t(x) for p_t = Σ π_k N(√ᾱ μ_k, ᾱΣ_k + (1−ᾱ)I), restricted to `label`'s components unless label = 10.
double gmm_log_density(const diffuscope::data::Gmm&, double alpha_bar, std::array<double, 2> x, int label = 10);

struct GmmPosterior {
    std::array<double, 2> score;  // ∇log p_t(x)
    std::array<double, 2> x0;     // E[x₀ | x_t = x]
};
GmmPosterior gmm_posterior(const diffuscope::data::Gmm&, double alpha_bar, std::array<double, 2> x, int label = 10);

// What the oracle returns for prediction p: ε̂ = −√(1−ᾱ) score, x̂₀, or v = √ᾱ ε̂ − √(1−ᾱ) x̂₀.
std::array<double, 2> gmm_predict(const diffuscope::data::Gmm&, double alpha_bar, std::array<double, 2> x, int label,
                                  diffuscope::Prediction p);

// Sliced 2-Wasserstein distance between two equal-size 2-D point sets ([x0, y0, x1, y1, …]): the root mean
// over `projections` random directions of the mean squared difference of the sorted projections.
double sliced_wasserstein(const std::vector<float>& a, const std::vector<float>& b, int projections = 256,
                          uint64_t seed = 1);

}  // namespace ref
