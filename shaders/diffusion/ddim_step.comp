#version 450
// shaders/diffusion/ddim_step.comp — DDIM (Song et al. 2020, eq. 12 and 16) from level t to t' < t:
//   x_t' = √ᾱ_t' x̂₀ + √(1 − ᾱ_t' − σ²) ε̂ + σ z,   σ = η √((1 − ᾱ_t')/(1 − ᾱ_t)) √(1 − ᾱ_t/ᾱ_t')
// η = 0 is deterministic (the probability-flow ODE's first-order solver), η = 1 is DDPM with σ² = β̃.
// At the clean level σ = 0 and x_t' = x̂₀.
// Reference: tests/reference/sampler_ref.cpp (ref::run_chain, SamplerKind::ddim); tests: tests/test_samplers.cpp
//   (EveryGpuChainMatchesTheDoubleReference), tests/test_oracles.cpp (EmpiricalChainMatchesTheReferenceChain)
#define SAMPLER_STEP
#include "diffusion/chain.glsl"

void main() {
    uint idx = gl_GlobalInvocationID.x;
    if (idx >= n * dim || st.step >= st.n_steps) return;
    Level c = levels[timesteps[st.step]], nx = levels[timesteps[st.step + 1u]];
    float beta = -expm1_(c.log_alpha_bar - nx.log_alpha_bar);  // 1 − ᾱ_t/ᾱ_t'
    float sigma = prm.eta * sqrt(nx.one_minus_alpha_bar / c.one_minus_alpha_bar * beta);
    float dir = sqrt(max(nx.one_minus_alpha_bar - sigma * sigma, 0.0));
    float v = nx.sqrt_alpha_bar * x0_hat[idx] + dir * eps_hat[idx];
    store_x(idx, sigma > 0.0 ? v + sigma * noise(idx) : v);
}
