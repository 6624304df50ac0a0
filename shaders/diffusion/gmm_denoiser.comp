#version 450
// shaders/diffusion/gmm_denoiser.comp — the exact denoiser of a 2-D Gaussian mixture, one sample per invocation.
// Noising x₀ ~ Σ π_k N(μ_k, Σ_k) by x_t = √ᾱ x₀ + √(1−ᾱ) ε gives another mixture:
//   p_t(x) = Σ_k π_k N(x; √ᾱ μ_k, C_k),   C_k = ᾱ Σ_k + (1 − ᾱ) I
// With responsibilities r_k(x) ∝ π_k N(x; √ᾱ μ_k, C_k) and d_k = x − √ᾱ μ_k:
//   score  ∇log p_t(x) = −Σ_k r_k C_k⁻¹ d_k
//   x̂₀ = E[x₀ | x_t = x] = Σ_k r_k (μ_k + √ᾱ Σ_k C_k⁻¹ d_k)      (Gaussian conditioning per component)
//   ε̂ = −√(1 − ᾱ) · score,   v = √ᾱ ε̂ − √(1 − ᾱ) x̂₀
// The responsibilities use a running log-sum-exp (subtract the max) so far-away x cannot underflow them all.
// Label L ≠ 10 keeps only components of that label (the class-conditional mixture); a label with no
// components falls back to the whole mixture.
// Reference: tests/reference/gmm_ref.cpp (ref::gmm_predict, ref::gmm_posterior); tests: tests/test_oracles.cpp
//   (GmmShaderMatchesTheReference)
#include "diffusion/denoiser_io.glsl"

struct Component {
    vec2 mean;
    float log_weight;
    int label;
    vec4 cov;  // Σ11, Σ12, Σ22, unused
};

layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer Comps { Component comps[]; };
layout(std430, binding = 1) readonly buffer X { vec2 xs[]; };
layout(std430, binding = 2) readonly buffer Lv { float log_snr[]; };
layout(std430, binding = 3) readonly buffer Lb { int labels[]; };
layout(std430, binding = 4) writeonly buffer Out { vec2 outs[]; };
layout(push_constant) uniform P { uint batch, n_components, prediction; };

void main() {
    uint s = gl_GlobalInvocationID.x;
    if (s >= batch) return;
    vec2 x = xs[s];
    float ab = alpha_bar_of(log_snr[s]), om = one_minus_alpha_bar_of(log_snr[s]), a = sqrt(ab), b = sqrt(om);
    int want = labels[s];
    vec2 score = vec2(0.0), x0 = vec2(0.0);
    float m = -3.4e38, sum = 0.0;
    for (int pass = 0; pass < 2 && sum == 0.0; ++pass) {
        for (uint k = 0; k < n_components; ++k) {
            Component c = comps[k];
            if (pass == 0 && want != NULL_LABEL && c.label != want) continue;
            float c11 = ab * c.cov.x + om, c12 = ab * c.cov.y, c22 = ab * c.cov.z + om;
            float det = c11 * c22 - c12 * c12;
            vec2 d = x - a * c.mean;
            vec2 cd = vec2(c22 * d.x - c12 * d.y, c11 * d.y - c12 * d.x) / det;  // C⁻¹ d
            float logw = c.log_weight - 0.5 * log(det) - 0.5 * dot(d, cd);
            if (logw > m) {  // rescale what was accumulated against the new max
                float r = exp(m - logw);
                sum *= r; score *= r; x0 *= r;
                m = logw;
            }
            float w = exp(logw - m);
            sum += w;
            score -= w * cd;
            x0 += w * (c.mean + a * vec2(c.cov.x * cd.x + c.cov.y * cd.y, c.cov.y * cd.x + c.cov.z * cd.y));
        }
    }
    score /= sum;
    x0 /= sum;
    vec2 e = -b * score;
    outs[s] = prediction == PREDICT_EPS ? e : prediction == PREDICT_X0 ? x0 : a * e - b * x0;
}
