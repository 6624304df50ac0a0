#version 450
// One training batch of the 2-D denoiser (nn::Mlp2dTrainer), drawn and noised on the GPU from the points
// uploaded once. For sample b of step s, one Philox block (seed, stream 1, step s, counter b) gives the point
// index i = w.x mod M and the level λ = draw_training_log_snr(t = U(w.z), pick = U(w.y)), as the UNet's batches
// draw it (train/batch.comp): with probability 0.9 the cosine schedule's log-SNR at t ~ U(0, 1),
// λ = clamp(−2·ln tan(π t/2), lo, hi), which puts most samples where sampling needs the model (|λ| ≲ 5), otherwise
// uniform on [lo, hi] so the ends are learned too. Then, with α² = σ(λ), σ² = σ(−λ) and ε ~ N(0, I) from stream 2:
//   x_t = α x₀ + σ ε,   target v = α ε − σ x₀.
// The formulas live in diffusion/q_sample.glsl (shared with diffusion/q_sample.comp and train/batch.comp).
// Reference: none of its own; its maths is diffusion/q_sample.glsl's (tests/test_q_sample_include.cpp); tests:
//   tests/test_mlp2d.cpp (TrainerLearnsTheExactFieldOfAMixture,
//   TheGradientPaddingIsZeroAndTwoTrainersWithOneSeedAgree)
#include "common/rng.glsl"
#include "diffusion/q_sample.glsl"
layout(local_size_x = 64) in;
layout(binding = 0) uniform samplerBuffer points_t;                    // [M,2]
layout(std430, binding = 1) readonly buffer Step { uint step; };       // written by the host before a submit
layout(std430, binding = 2) writeonly buffer XT { float xt[]; };       // [B,2]
layout(std430, binding = 3) writeonly buffer Level { float level[]; }; // [B]
layout(std430, binding = 4) writeonly buffer Target { float target[]; };  // [B,2]
layout(push_constant) uniform P { uint B, M, seed_lo, seed_hi; float lmin, lmax; };

void main() {
    uint b = gl_GlobalInvocationID.x;
    if (b >= B) return;
    uvec2 seed = uvec2(seed_lo, seed_hi);
    uvec4 w = philox4x32_10(uvec4(b, step, 1u, 0x2d2du), seed);
    uint i = w.x % M;
    float t = rng_uniform(w.z);
    float l = draw_training_log_snr(t, rng_uniform(w.y), lmin, lmax);
    vec2 ab = signal_noise_of(l);
    float alpha = ab.x, sigma = ab.y;
    for (uint d = 0u; d < 2u; ++d) {
        float x0 = texelFetch(points_t, int(2u * i + d)).x;
        float eps = gaussian(seed, 2u, step, 2u * b + d);
        xt[2u * b + d] = q_sample(alpha, sigma, x0, eps);
        target[2u * b + d] = v_target(alpha, sigma, x0, eps);
    }
    level[b] = l;
}
