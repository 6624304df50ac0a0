#version 450
// shaders/diffusion/denoise.comp — the model's raw output → guided ε̂, x̂₀, the score and v̂, one sample per
// invocation. With x_t = √ᾱ x₀ + √(1−ᾱ) ε (a = √ᾱ, b = √(1−ᾱ)):
//   guidance   o = o_null + w (o_label − o_null)   (diffusion/guidance.glsl; o_null is row n + s of the doubled batch)
//   from ε:    x̂₀ = (x − b ε̂)/a          from x₀:  ε̂ = (x − a x̂₀)/b          from v = a ε − b x₀:  x̂₀ = a x − b v, ε̂ = b x + a v
//   clipping   x̂₀ ← clamp(x̂₀, −1, 1), or dynamic thresholding (Saharia et al. 2022): s = max(1, p-th
//              percentile of |x̂₀| over the sample), x̂₀ ← clamp(x̂₀, −s, s)/s; then ε̂ = (x − a x̂₀)/b again
//   score      s(x) = ∇log p_t(x) = −ε̂/b;   v̂ = a ε̂ − b x̂₀ (after clipping, like ε̂)
// The percentile is the nearest-rank one: the k-th smallest |x̂₀|, k = ⌈p·dim⌉, found by bisection on the value.
// At the clean level (b = 0) it returns x̂₀ = x, ε̂ = 0, score = 0, v̂ = 0 rather than dividing by zero.
// Reference: tests/reference/sampler_ref.cpp (ref::denoise_ref); tests: tests/test_samplers.cpp
//   (EveryGpuChainMatchesTheDoubleReference)
#include "diffusion/chain.glsl"
#include "diffusion/denoiser_io.glsl"
#include "diffusion/guidance.glsl"

layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer Levels { Level levels[]; };
layout(std430, binding = 1) readonly buffer Timesteps { uint timesteps[]; };
layout(std430, binding = 2) readonly buffer State { ChainState st; };
layout(std430, binding = 3) readonly buffer Params { SamplerParams prm; };
layout(std430, binding = 4) readonly buffer Out { float model_out[]; };  // [batch, dim]
layout(std430, binding = 5) readonly buffer Src { float xs[]; };          // [n, dim] the x the model saw
layout(std430, binding = 6) buffer X0 { float x0_hat[]; };
layout(std430, binding = 7) writeonly buffer Eps { float eps_hat[]; };
layout(std430, binding = 8) writeonly buffer Score { float score[]; };
layout(std430, binding = 9) writeonly buffer V { float v_hat[]; };
layout(push_constant) uniform P { uint n, dim, prediction, guided, level_offset; };

void main() {
    uint s = gl_GlobalInvocationID.x;
    if (s >= n) return;
    Level L = levels[timesteps[min(st.step + level_offset, st.n_steps)]];
    float a = L.sqrt_alpha_bar, b = L.sqrt_one_minus_alpha_bar, w = prm.guidance;
    uint base = s * dim;
    if (b == 0.0) {
        for (uint i = 0; i < dim; ++i) { x0_hat[base + i] = xs[base + i]; eps_hat[base + i] = 0.0; score[base + i] = 0.0; v_hat[base + i] = 0.0; }
        return;
    }
    float amax = 0.0;
    for (uint i = 0; i < dim; ++i) {
        float o = model_out[base + i];
        if (guided != 0u) o = guidance_combine(o, model_out[(n + s) * dim + i], w);
        float x = xs[base + i], x0, e;
        if (prediction == PREDICT_EPS) { e = o; x0 = (x - b * e) / a; }
        else if (prediction == PREDICT_X0) { x0 = o; e = (x - a * x0) / b; }
        else { x0 = a * x - b * o; e = b * x + a * o; }
        if (prm.clip == 1u) { x0 = clamp(x0, -1.0, 1.0); e = (x - a * x0) / b; }
        x0_hat[base + i] = x0;
        eps_hat[base + i] = e;
        score[base + i] = -e / b;
        v_hat[base + i] = a * e - b * x0;
        amax = max(amax, abs(x0));
    }
    if (prm.clip != 2u) return;
    // Dynamic thresholding: bisection for the k-th smallest |x̂₀| (this invocation's own writes, read back).
    uint k = uint(ceil(clamp(prm.percentile, 0.0, 1.0) * float(dim)));
    k = clamp(k, 1u, dim);
    float lo = 0.0, hi = amax;
    for (int it = 0; it < 40 && hi > lo; ++it) {
        float mid = 0.5 * (lo + hi);
        if (mid <= lo || mid >= hi) break;
        uint cnt = 0u;
        for (uint i = 0; i < dim; ++i) cnt += abs(x0_hat[base + i]) <= mid ? 1u : 0u;
        if (cnt >= k) hi = mid; else lo = mid;
    }
    float q = 0.0;  // the largest |x̂₀| ≤ hi: the k-th smallest itself
    for (uint i = 0; i < dim; ++i) { float v = abs(x0_hat[base + i]); if (v <= hi) q = max(q, v); }
    float th = max(q, 1.0);
    for (uint i = 0; i < dim; ++i) {
        float x = xs[base + i];
        float x0 = clamp(x0_hat[base + i], -th, th) / th;
        float e = (x - a * x0) / b;
        x0_hat[base + i] = x0;
        eps_hat[base + i] = e;
        score[base + i] = -e / b;
        v_hat[base + i] = a * e - b * x0;
    }
}
