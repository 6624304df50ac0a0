#version 450
// One training batch, drawn and noised on the GPU from the data set uploaded once (Ho et al. 2020, Alg. 1,
// in continuous noise levels). For sample b of step s, one Philox block (seed, stream 1, step s, counter b)
// gives: the image index i = w.x mod M, the label (10 = null with probability p_uncond, for classifier-free
// guidance), and the noise level λ = log-SNR:
//   with probability 0.9:  λ = clamp(−2·ln tan(π t/2), λmin, λmax)   (the cosine schedule's log-SNR at t ~ U(0,1))
//   otherwise:             λ = λmin + t·(λmax − λmin)                   (uniform, so the ends are seen too)
// α² = sigmoid(λ), σ² = sigmoid(−λ), x₀ = pixel/127.5 − 1 ∈ [−1, 1], ε ~ N(0, I) from stream 2:
//   xₜ = α x₀ + σ ε,   target = ε (eps-prediction) or v = α ε − σ x₀ (v-prediction).
#include "common/rng.glsl"
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
    float l = rng_uniform(w.w) < 0.9 ? clamp(-2.0 * log(tan(1.57079632679 * t)), lmin, lmax) : mix(lmin, lmax, t);
    float alpha = sqrt(1.0 / (1.0 + exp(-l))), sigma = sqrt(1.0 / (1.0 + exp(l)));
    float x0 = float(byte_at(i * 784u + p, false)) / 127.5 - 1.0;
    float eps = gaussian(seed, 2u, step, idx);
    xt[idx] = alpha * x0 + sigma * eps;
    target[idx] = v_pred != 0u ? alpha * eps - sigma * x0 : eps;
    if (p == 0u) {
        level[b] = l;
        label[b] = rng_uniform(w.y) < p_uncond ? 10 : int(byte_at(i, true));
    }
}
