#version 450
// shaders/diffusion/dpmpp2m_step.comp — DPM-Solver++(2M) (Lu et al. 2022, Alg. 2), data prediction, multistep.
// With α = √ᾱ, σ = √(1 − ᾱ), λ = log(α/σ) = ½ log-SNR, h = λ' − λ:
//   x_t' = (σ'/σ) x_t − α' expm1(−h) D
//   D = x̂₀ on the first step; else, with r = h_prev/h,  D = (1 + 1/(2r)) x̂₀ − 1/(2r) x̂₀_prev
// The last step (σ' = 0) returns x̂₀ (first order, as k-diffusion does). x̂₀ is kept in aux1 for the next step.
// Reference: tests/reference/sampler_ref.cpp (ref::run_chain, SamplerKind::dpmpp2m); tests: tests/test_samplers.cpp
//   (EveryGpuChainMatchesTheDoubleReference)
#define SAMPLER_STEP
#include "diffusion/chain.glsl"

void main() {
    uint idx = gl_GlobalInvocationID.x;
    if (idx >= n * dim || st.step >= st.n_steps) return;
    uint i = st.step;
    Level c = levels[timesteps[i]], nx = levels[timesteps[i + 1u]];
    bool last = (nx.flags & LEVEL_CLEAN) != 0u;
    float x0 = x0_hat[idx], d = x0;
    float h = 0.5 * (nx.log_snr - c.log_snr);
    if (i > 0u) {
        Level pv = levels[timesteps[i - 1u]];
        float r = 0.5 * (c.log_snr - pv.log_snr) / h;
        d = (1.0 + 0.5 / r) * x0 - (0.5 / r) * aux1[idx];
    }
    float v = nx.sqrt_one_minus_alpha_bar / c.sqrt_one_minus_alpha_bar * x[idx] - nx.sqrt_alpha_bar * expm1_(-h) * d;
    aux1[idx] = x0;  // read above by this same invocation only
    store_x(idx, last ? x0 : v);
}
