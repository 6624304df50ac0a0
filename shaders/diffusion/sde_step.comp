#version 450
// shaders/diffusion/sde_step.comp — Euler–Maruyama on the reverse VP SDE (Song et al. 2021, eq. 6):
//   dx = [−½β(t) x − β(t) ∇log p_t(x)] dt + √β(t) dw̄.
// With u = log ᾱ (du = −β dt) a step from t to t' < t covers Δu = log ᾱ_t' − log ᾱ_t > 0 and reads
//   x_t' = x_t + (½ x_t + s) Δu + √Δu z,   s = −ε̂/√(1 − ᾱ_t) (the score)
// The last step (to the clean level, where s is not defined) returns Tweedie's x̂₀ without noise.
// Reference: tests/reference/sampler_ref.cpp (ref::run_chain, SamplerKind::sde); tests: tests/test_samplers.cpp
//   (EveryGpuChainMatchesTheDoubleReference)
#define SAMPLER_STEP
#include "diffusion/chain.glsl"

void main() {
    uint idx = gl_GlobalInvocationID.x;
    if (idx >= n * dim || st.step >= st.n_steps) return;
    Level c = levels[timesteps[st.step]], nx = levels[timesteps[st.step + 1u]];
    bool last = (nx.flags & LEVEL_CLEAN) != 0u;
    float du = nx.log_alpha_bar - c.log_alpha_bar;
    float score = -eps_hat[idx] / c.sqrt_one_minus_alpha_bar;
    float xi = x[idx];
    store_x(idx, last ? x0_hat[idx] : xi + (0.5 * xi + score) * du + sqrt(du) * noise(idx));
}
