#version 450
// shaders/diffusion/heun_step.comp — Heun's 2nd-order method on the probability-flow ODE dx̃/dσ = ε̂(x̃; σ)
// (Karras et al. 2022, Alg. 1 without churn), x̃ = x/√ᾱ, σ = √((1 − ᾱ)/ᾱ):
//   stage 0:  x̃_E = x̃ + (σ' − σ) ε̂(x̃; σ)                       (Euler predictor → aux1)
//   stage 1:  x̃' = x̃ + (σ' − σ) · ½ (ε̂(x̃; σ) + ε̂(x̃_E; σ'))    (trapezoid corrector; ε̂(x̃_E; σ') in aux2)
// in x: x_t' = (√ᾱ'/√ᾱ) x_t + √ᾱ' (σ' − σ) d. The last step (σ' = 0) is the Euler step alone, = x̂₀.
// Reference: tests/reference/sampler_ref.cpp (ref::run_chain, SamplerKind::heun); tests: tests/test_samplers.cpp
//   (EveryGpuChainMatchesTheDoubleReference)
#define SAMPLER_STEP
#include "diffusion/chain.glsl"

void main() {
    uint idx = gl_GlobalInvocationID.x;
    if (idx >= n * dim || st.step >= st.n_steps) return;
    Level c = levels[timesteps[st.step]], nx = levels[timesteps[st.step + 1u]];
    bool last = (nx.flags & LEVEL_CLEAN) != 0u;
    float scale = nx.sqrt_alpha_bar / c.sqrt_alpha_bar, h = nx.sqrt_alpha_bar * (nx.sigma - c.sigma);
    if (stage == 0u) {
        aux1[idx] = last ? x0_hat[idx] : scale * x[idx] + h * eps_hat[idx];
    } else {
        store_x(idx, last ? aux1[idx] : scale * x[idx] + h * 0.5 * (eps_hat[idx] + aux2[idx]));
    }
}
