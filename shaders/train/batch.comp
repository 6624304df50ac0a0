#version 450
// One training batch, drawn and noised on the GPU from the data set uploaded once (Ho et al. 2020, Alg. 1,
// in continuous noise levels). For sample b of step s, one Philox block (seed, stream 1, step s, counter b)
// gives: the image index i = w.x mod M, the label (10 = null with probability p_uncond, for classifier-free
// guidance), and the noise level λ = log-SNR, draw_training_log_snr(t = U(w.z), pick = U(w.w)):
//   with probability 0.9:  λ = clamp(−2·ln tan(π t/2), λmin, λmax)   (the cosine schedule's log-SNR at t ~ U(0,1))
//   otherwise:             λ = λmin + t·(λmax − λmin)                   (uniform, so the ends are seen too)
// α² = sigmoid(λ), σ² = sigmoid(−λ), x₀ = pixel/127.5 − 1 ∈ [−1, 1], ε ~ N(0, I) from stream 2:
//   xₜ = α x₀ + σ ε,   target = ε (eps-prediction) or v = α ε − σ x₀ (v-prediction).
// The formulas live in diffusion/q_sample.glsl (shared with diffusion/q_sample.comp and train/batch2d.comp).
// Reference: the CPU twin in tests/test_trainer.cpp (BatchMatchesItsCpuTwin; engine/rng.hpp for the draws); tests:
//   tests/test_trainer.cpp, tests/test_q_sample_include.cpp, tests/test_golden_outputs.cpp
#include "common/rng.glsl"
#include "diffusion/q_sample.glsl"
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer Pixels { uint pix[]; };    // M×784 uint8, 4 per word
layout(std430, binding = 1) readonly buffer Labels { uint lab[]; };    // M uint8, 4 per word
layout(std430, binding = 2) readonly buffer Step { uint step; };       // written by the host before a submit
layout(std430, binding = 3) writeonly buffer XT { float xt[]; };       // [B,784]
layout(std430, binding = 4) writeonly buffer Level { float level[]; }; // [B]
layout(std430, binding = 5) writeonly buffer Label { int label[]; };   // [B]
layout(std430, binding = 6) writeonly buffer Target { float target[]; };  // [B,784]
layout(push_constant) uniform P { uint B, M, seed_lo, seed_hi; float p_uncond, lmin, lmax; uint v_pred; };

uint byte_at(uint i, bool labels) {
    uint w = labels ? lab[i >> 2] : pix[i >> 2];
    return (w >> (8u * (i & 3u))) & 0xffu;
}

void main() {
    uint idx = gl_GlobalInvocationID.x;
    if (idx >= B * 784u) return;
    uint b = idx / 784u, p = idx % 784u;
    uvec2 seed = uvec2(seed_lo, seed_hi);
    uvec4 w = philox4x32_10(uvec4(b, step, 1u, 0x5eedu), seed);
    uint i = w.x % M;
    float t = rng_uniform(w.z);
    float l = draw_training_log_snr(t, rng_uniform(w.w), lmin, lmax);
    vec2 ab = signal_noise_of(l);
    float alpha = ab.x, sigma = ab.y;
    float x0 = float(byte_at(i * 784u + p, false)) / 127.5 - 1.0;
    float eps = gaussian(seed, 2u, step, idx);
    xt[idx] = q_sample(alpha, sigma, x0, eps);
    target[idx] = v_pred != 0u ? v_target(alpha, sigma, x0, eps) : eps;
    if (p == 0u) {
        level[b] = l;
        label[b] = rng_uniform(w.y) < p_uncond ? NULL_LABEL : int(byte_at(i, true));
    }
}
