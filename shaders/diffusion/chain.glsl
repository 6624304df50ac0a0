// shaders/diffusion/chain.glsl — what every sampler-step shader shares: the chain's state and live parameters
// (twins of ChainState / SamplerParams in diffusion/sampler/chain.hpp) and one binding layout, so a step is
// recorded once and replayed: the step index lives in the state buffer, not in push constants.
//
// Step i goes from level timesteps[i] to timesteps[i+1]; timesteps[S] = T is the clean sentinel (ᾱ = 1).
// Noise of step i is gaussian(seed, first_index + n, i + 1, element); the initial x_T uses draw 0.
// Reference: tests/reference/sampler_ref.cpp (ref::run_chain: the step loop, the sentinel, the noise draws); tests:
//   tests/test_samplers.cpp
#ifndef DIFFUSCOPE_CHAIN_GLSL
#define DIFFUSCOPE_CHAIN_GLSL
#include "common/rng.glsl"
#include "diffusion/level.glsl"

struct ChainState {
    uint step;         // steps taken so far (i)
    uint n_steps;      // S
    uint traj_stride;  // the trajectory keeps x after every traj_stride-th step (and after the last)
    uint traj_slots;   // slots in the trajectory buffer (0 = none)
};

struct SamplerParams {
    float eta;         // DDIM η (0 deterministic, 1 = DDPM's σ)
    float guidance;    // classifier-free guidance w: ε̂ = ε̂_null + w (ε̂_label − ε̂_null)
    uint clip;         // 0 none, 1 clip x̂₀ to [−1, 1], 2 dynamic thresholding (Saharia et al. 2022)
    float percentile;  // dynamic thresholding: s = max(1, p-th percentile of |x̂₀|)
    uint ddpm_sigma;   // DDPM: 0 σ² = β̃ (posterior), 1 σ² = β
    uint seed_lo, seed_hi;
    uint first_index;  // RNG stream of sample 0 (so sample k replays the same in any batch)
};

uint traj_slot_after(ChainState st, uint steps_done) {  // the slot of x after `steps_done` steps, or ~0u
    if (st.traj_slots == 0u) return ~0u;
    bool keep = steps_done % st.traj_stride == 0u || steps_done == st.n_steps;
    uint slot = (steps_done + st.traj_stride - 1u) / st.traj_stride;
    return keep && slot < st.traj_slots ? slot : ~0u;
}

// gaussian(seed, stream, step, i) of common/rng.glsl, evaluating only the Box–Muller pair that element i uses
// (the same operations on the same words, so the same value, at half the log/sqrt/sin/cos).
float gaussian_one(uvec2 seed, uint stream, uint step, uint i) {
    uvec4 w = philox4x32_10(rng_counter(stream, step, i), seed);
    uint j = i & 3u;
    vec2 n = j < 2u ? rng_box_muller(w.x, w.y) : rng_box_muller(w.z, w.w);
    return (j & 1u) == 0u ? n.x : n.y;
}

#ifdef SAMPLER_STEP
// The layout of every *_step.comp: one element per invocation, idx = n·dim + i.
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer Levels { Level levels[]; };
layout(std430, binding = 1) readonly buffer Timesteps { uint timesteps[]; };
layout(std430, binding = 2) readonly buffer State { ChainState st; };
layout(std430, binding = 3) readonly buffer Params { SamplerParams prm; };
layout(std430, binding = 4) buffer X { float x[]; };                  // x_t → x_{t'}
layout(std430, binding = 5) readonly buffer X0 { float x0_hat[]; };   // x̂₀ at x_t
layout(std430, binding = 6) readonly buffer Eps { float eps_hat[]; }; // ε̂ at x_t
layout(std430, binding = 7) writeonly buffer Traj { float traj[]; };  // [slots, n, dim]
layout(std430, binding = 8) buffer Aux1 { float aux1[]; };            // Heun: x̃ (Euler predictor); DPM++: x̂₀ of the previous step
layout(std430, binding = 9) readonly buffer Aux2 { float aux2[]; };   // Heun: ε̂ at x̃
layout(push_constant) uniform P { uint n, dim, stage, pad_; };

float noise(uint idx) {
    uint s = idx / dim;
    return gaussian_one(uvec2(prm.seed_lo, prm.seed_hi), prm.first_index + s, st.step + 1u, idx - s * dim);
}

// Every step ends here: the new x_{t'}, and its copy in the trajectory.
void store_x(uint idx, float v) {
    x[idx] = v;
    uint slot = traj_slot_after(st, st.step + 1u);
    if (slot != ~0u) traj[slot * n * dim + idx] = v;
}
#endif

#endif
