// tests/reference/sampler_ref.hpp — every sampler as a plain double-precision loop (k-diffusion style): one
// function per step, each the twin of its shader in shaders/diffusion/ (ddpm_step, ddim_step, euler_step,
// heun_step, sde_step, dpmpp2m_step .comp), run after the model batch (prepare_model_input.comp) and the
// denoise pass (denoise.comp with guidance.glsl, denoise_ref below); chain_init.comp draws x_T, chain_advance.comp
// counts steps. Tests: tests/test_samplers.cpp, tests/test_oracles.cpp.
// Same conventions as the GPU chain: levels from the schedule twin, the clean sentinel after the last
// timestep, guidance on the raw output, ε/x₀/v conversion, clipping or dynamic thresholding, and the noise of
// step i drawn from the RNG twin at (seed, first_index + n, i + 1, element).
#pragma once
#include "diffusion/sampler/chain.hpp"
#include "diffusion/schedule/schedule.hpp"

#include <functional>
#include <vector>

namespace ref {

// out[b·dim …] = the model's prediction for x[b·dim …] at ᾱ = alpha_bar[b] with label labels[b].
using ModelRef = std::function<void(const std::vector<double>& x, const std::vector<double>& alpha_bar,
                                    const std::vector<int>& labels, std::vector<double>& out)>;

struct ChainRef {
    diffuscope::SamplerKind kind = diffuscope::SamplerKind::ddim;
    uint32_t n = 1, dim = 2;
    diffuscope::Prediction prediction = diffuscope::Prediction::eps;
    bool guided = false;
    diffuscope::SamplerOptions options;
};

struct ChainRefResult {
    std::vector<double> x;                            // after the last step
    std::vector<double> x0_hat, eps_hat, score;       // of the last step's (first) model evaluation
    std::vector<std::vector<double>> x_after_step;    // [S + 1]: x after 0, 1, …, S steps
};

// `timesteps` descending, without the sentinel; `levels` = compute_levels(spec) (T + 1 entries).
ChainRefResult run_chain(const ChainRef&, const std::vector<diffuscope::LevelD>& levels,
                         const std::vector<uint32_t>& timesteps, const std::vector<int>& labels, const ModelRef& model);

// The denoise pass for one sample: raw output(s) → x̂₀, ε̂, score. `uncond` may be empty (no guidance).
void denoise_ref(const std::vector<double>& out, const std::vector<double>& uncond, const std::vector<double>& x,
                 double alpha_bar, diffuscope::Prediction, const diffuscope::SamplerOptions&, bool guided,
                 std::vector<double>& x0, std::vector<double>& eps, std::vector<double>& score);

}  // namespace ref
