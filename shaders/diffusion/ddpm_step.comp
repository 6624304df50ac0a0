#version 450
// shaders/diffusion/ddpm_step.comp — ancestral DDPM step (Ho et al. 2020, Alg. 2) from level t to t' < t,
// written with the posterior mean of eq. 7 so x̂₀ clipping applies and respacing works (Nichol & Dhariwal 2021):
//   β' = 1 − ᾱ_t/ᾱ_t'   (= β_t when t' = t − 1)
//   μ̃ = √ᾱ_t' β'/(1 − ᾱ_t) · x̂₀ + √(1 − β') (1 − ᾱ_t')/(1 − ᾱ_t) · x_t
//   x_t' = μ̃ + σ z,   σ² = β̃ = β' (1 − ᾱ_t')/(1 − ᾱ_t)   or   σ² = β'   (prm.ddpm_sigma)
// The last step (t' = clean) returns μ̃ = x̂₀ and adds no noise.
// Reference: tests/reference/sampler_ref.cpp (ref::run_chain, SamplerKind::ddpm); tests: tests/test_samplers.cpp
//   (EveryGpuChainMatchesTheDoubleReference, TrajectoryKeepsEveryKthStep), tests/test_oracles.cpp
//   (EmpiricalChainMatchesTheReferenceChain)
#define SAMPLER_STEP
#include "diffusion/chain.glsl"

void main() {
    uint idx = gl_GlobalInvocationID.x;
    if (idx >= n * dim || st.step >= st.n_steps) return;
    uint tc = timesteps[st.step], tn = timesteps[st.step + 1u];
    Level c = levels[tc], nx = levels[tn];
    bool last = (nx.flags & LEVEL_CLEAN) != 0u;
    float beta = tn + 1u == tc ? c.beta : -expm1_(c.log_alpha_bar - nx.log_alpha_bar);
    float sqrt_alpha = exp(0.5 * (c.log_alpha_bar - nx.log_alpha_bar));  // √(1 − β')
    float mean = nx.sqrt_alpha_bar * beta / c.one_minus_alpha_bar * x0_hat[idx] +
                 sqrt_alpha * nx.one_minus_alpha_bar / c.one_minus_alpha_bar * x[idx];
    float var = prm.ddpm_sigma == 0u ? beta * nx.one_minus_alpha_bar / c.one_minus_alpha_bar : beta;
    store_x(idx, last ? x0_hat[idx] : mean + sqrt(var) * noise(idx));
}
