#version 450
// shaders/diffusion/euler_step.comp — Euler on the probability-flow ODE in Karras et al. 2022's variables:
// x̃ = x/√ᾱ, σ = √((1 − ᾱ)/ᾱ), where the ODE is dx̃/dσ = (x̃ − D(x̃; σ))/σ = ε̂. One step σ → σ':
//   x̃' = x̃ + (σ' − σ) ε̂   ⇒   x_t' = (√ᾱ_t'/√ᾱ_t) x_t + √ᾱ_t' (σ' − σ) ε̂
// (algebraically DDIM with η = 0 — the test checks they agree). At the clean level x_t' = x̂₀.
// Reference: tests/reference/sampler_ref.cpp (ref::run_chain, SamplerKind::euler); tests: tests/test_samplers.cpp
//   (EveryGpuChainMatchesTheDoubleReference, EulerIsDdimWithEtaZero)
#define SAMPLER_STEP
#include "diffusion/chain.glsl"

void main() {
    uint idx = gl_GlobalInvocationID.x;
    if (idx >= n * dim || st.step >= st.n_steps) return;
    Level c = levels[timesteps[st.step]], nx = levels[timesteps[st.step + 1u]];
    bool last = (nx.flags & LEVEL_CLEAN) != 0u;
    float v = nx.sqrt_alpha_bar / c.sqrt_alpha_bar * x[idx] + nx.sqrt_alpha_bar * (nx.sigma - c.sigma) * eps_hat[idx];
    store_x(idx, last ? x0_hat[idx] : v);
}
