#version 450
// shaders/diffusion/q_sample.comp — the forward process, Ho et al. 2020 eq. 4 (the maths: diffusion/q_sample.glsl):
//   q(x_t | x₀) = N(√ᾱ_t x₀, (1 − ᾱ_t) I)   ⇒   x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε,  ε ~ N(0, I)
// for a per-sample timestep t_n, with √ᾱ_t and √(1 − ᾱ_t) from the schedule's level buffer. ε comes from the
// counter-based RNG: element i of sample n is gaussian(seed, first_index + n, draw, i), so a batch replays from
// (seed, sample index, draw). Also writes ε (the training target) and each sample's log-SNR λ (what the model is
// conditioned on).
// Reference: the closed form in tests/test_samplers.cpp (no tests/reference twin); tests: tests/test_samplers.cpp
//   (ForwardProcessMatchesItsClosedForm)
#include "common/rng.glsl"
#include "diffusion/level.glsl"
#include "diffusion/q_sample.glsl"

layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer Levels { Level levels[]; };
layout(std430, binding = 1) readonly buffer Timesteps { uint t_of[]; };  // [n], each in [0, T]
layout(std430, binding = 2) readonly buffer X0 { float x0[]; };          // [n, dim]
layout(std430, binding = 3) writeonly buffer Xt { float xt[]; };
layout(std430, binding = 4) writeonly buffer Eps { float eps[]; };
layout(std430, binding = 5) writeonly buffer Lv { float log_snr_out[]; };
layout(push_constant) uniform P { uint n, dim; uvec2 seed; uint first_index, draw; };

void main() {
    uint idx = gl_GlobalInvocationID.x;
    if (idx >= n * dim) return;
    uint s = idx / dim, i = idx - s * dim;
    Level L = levels[t_of[s]];
    float e = gaussian(seed, first_index + s, draw, i);
    xt[idx] = q_sample(L.sqrt_alpha_bar, L.sqrt_one_minus_alpha_bar, x0[idx], e);
    eps[idx] = e;
    if (i == 0u) log_snr_out[s] = L.log_snr;
}
