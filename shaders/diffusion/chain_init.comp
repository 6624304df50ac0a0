#version 450
// shaders/diffusion/chain_init.comp — x_T ~ N(0, I): element i of sample n is gaussian(seed, first_index + n, 0, i)
// (draw 0; step i's noise uses draw i + 1). Also trajectory slot 0 and zeroed x̂₀, ε̂, score, v̂.
// Reference: tests/reference/sampler_ref.cpp (ref::run_chain: x_T from engine/rng.hpp's gaussian, draw 0); tests:
//   tests/test_samplers.cpp (EveryGpuChainMatchesTheDoubleReference, ChainsReplayFromSeedSampleIndexAndStep)
#include "diffusion/chain.glsl"

layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer Params { SamplerParams prm; };
layout(std430, binding = 1) readonly buffer State { ChainState st; };
layout(std430, binding = 2) writeonly buffer X { float x[]; };
layout(std430, binding = 3) writeonly buffer Traj { float traj[]; };
layout(std430, binding = 4) writeonly buffer X0 { float x0_hat[]; };
layout(std430, binding = 5) writeonly buffer Eps { float eps_hat[]; };
layout(std430, binding = 6) writeonly buffer Score { float score[]; };
layout(std430, binding = 7) writeonly buffer V { float v_hat[]; };
layout(push_constant) uniform P { uint n, dim; };

void main() {
    uint idx = gl_GlobalInvocationID.x;
    if (idx >= n * dim) return;
    uint s = idx / dim;
    float v = gaussian_one(uvec2(prm.seed_lo, prm.seed_hi), prm.first_index + s, 0u, idx - s * dim);
    x[idx] = v;
    if (st.traj_slots > 0u) traj[idx] = v;
    x0_hat[idx] = 0.0;
    eps_hat[idx] = 0.0;
    score[idx] = 0.0;
    v_hat[idx] = 0.0;
}
