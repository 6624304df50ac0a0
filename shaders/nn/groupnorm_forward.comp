#version 450
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
// GroupNorm forward (Wu & He 2018) with affine, x [N,C,H,W], G groups of Cg = C/G channels, m = Cg·H·W:
//   μ = mean of x over the group,  σ² = mean of (x − μ)²,  r = 1/√(σ² + eps)
//   y[n,c,h,w] = (x − μ)·r·γ[c] + β[c]
// Saves (μ, r) per (n, g) in `stats` for the backward.
// SILU writes SiLU(y) = y·σ(y), σ(y) = 1/(1 + e^(−y)), instead of y: the norm and the activation that follows it
// in one pass (inference and training; groupnorm_backward.comp's SILU recomputes y for the backward).
// One workgroup per (n, g). The statistics take one pass over x: shifted sums Σ(x−k), Σ(x−k)² with
// k = the group's first element (shifting keeps the one-pass variance from cancelling when |μ| ≫ σ),
// then σ² = Σ(x−k)²/m − (Σ(x−k)/m)².
// VEC4 (CPU drivers, when H·W and the offsets of x and y are multiples of 4): x is read as RGBA32F texels and y
// written as vec4, 4 values per access (on llvmpipe each access costs about the same whatever its width).
// FLAT (with VEC4, when H·W is not a multiple of 4 but the group's Cg·H·W is, and H·W ≥ 4: the 7×7 layers): the
// group, which is contiguous, is walked as one run of texels; a texel may straddle two channels, so its
// components take γ and β of the channel each belongs to.
// Reference: tests/reference/linear_norm.cpp (ref::groupnorm_forward; with SILU also elementwise.cpp
//   ref::silu_forward); tests: tests/test_nn_layers.cpp (groupnorm* rows, tests/nn_runners_conv.cpp run_groupnorm)
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const bool SILU = false;
layout(constant_id = 2) const bool VEC4 = false;
layout(constant_id = 4) const bool FLAT = false;
layout(binding = 0) uniform samplerBuffer x_t;  // X: read as texels (see docs/PERFORMANCE.md)
layout(binding = 1) uniform samplerBuffer gamma_t;  // Gamma: read as texels (see docs/PERFORMANCE.md)
layout(binding = 2) uniform samplerBuffer beta_t;  // Beta: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
layout(std430, binding = 4) writeonly buffer Stats { float stats[]; };
layout(binding = 5) uniform samplerBuffer x4_t;                  // X as RGBA32F texels (VEC4)
layout(std430, binding = 6) writeonly buffer Y4 { vec4 y4[]; };  // Y as vec4 (VEC4)
layout(push_constant) uniform Push {
    uint N, C, HW, G;
    uint x_off, gamma_off, beta_off, y_off, stats_off;
    float eps;
};
shared float red_a[gl_WorkGroupSize.x], red_b[gl_WorkGroupSize.x];
#include "nn/reduce.glsl"
#include "nn/gn_flat.glsl"

void main() {
    const uint lid = gl_LocalInvocationID.x, WG = gl_WorkGroupSize.x;
    const uint ng = gl_WorkGroupID.x, g = ng % G, Cg = C / G, m = Cg * HW;
    const uint base = (ng / G * C + g * Cg) * HW;  // the group is contiguous: channels g·Cg … of sample n
    const float k = texelFetch(x_t, int(x_off + base)).x;
    float s1 = 0.0, s2 = 0.0;
    if (VEC4) {
        const uint xb = (x_off + base) / 4;
        vec4 a1 = vec4(0.0), a2 = vec4(0.0);
        for (uint i = lid; i < m / 4; i += WG) {
            const vec4 d = texelFetch(x4_t, int(xb + i)) - k;
            a1 += d;
            a2 = fma(d, d, a2);
        }
        s1 = (a1.x + a1.y) + (a1.z + a1.w);
        s2 = (a2.x + a2.y) + (a2.z + a2.w);
    } else {
        for (uint i = lid; i < m; i += WG) {
            float d = texelFetch(x_t, int(x_off + base + i)).x - k;
            s1 += d;
            s2 = fma(d, d, s2);
        }
    }
    const vec2 s = workgroup_sum2(s1, s2);
    const float dmean = s.x / float(m);
    const float var = max(s.y / float(m) - dmean * dmean, 0.0);
    const float mean = k + dmean, rstd = inversesqrt(var + eps);
    if (lid == 0) {
        stats[stats_off + 2 * ng] = mean;
        stats[stats_off + 2 * ng + 1] = rstd;
    }
    // y = x·a + s with a = r·γ[c], s = β[c] − μ·a: one multiply-add and one load per element, channel by
    // channel so γ and β are read once per channel.
    if (FLAT) {
        const uint xb = (x_off + base) / 4, yb = (y_off + base) / 4;
        for (uint i = lid; i < m / 4; i += WG) {
            uint c0, c1;
            const bvec4 next = flat_channels(i, g * Cg, Cg, HW, c0, c1);
            const float a0 = rstd * texelFetch(gamma_t, int(gamma_off + c0)).x;
            const float a1 = rstd * texelFetch(gamma_t, int(gamma_off + c1)).x;
            const float s0 = texelFetch(beta_t, int(beta_off + c0)).x - mean * a0;
            const float s1 = texelFetch(beta_t, int(beta_off + c1)).x - mean * a1;
            const vec4 v = fma(texelFetch(x4_t, int(xb + i)), per_component(a0, a1, next), per_component(s0, s1, next));
            y4[yb + i] = SILU ? v / (1.0 + exp(-v)) : v;
        }
        return;
    }
    for (uint cl = 0; cl < Cg; ++cl) {
        const uint c = g * Cg + cl, cb = base + cl * HW;
        const float a = rstd * texelFetch(gamma_t, int(gamma_off + c)).x, sh = texelFetch(beta_t, int(beta_off + c)).x - mean * a;
        if (VEC4) {
            const uint xb = (x_off + cb) / 4, yb = (y_off + cb) / 4;
            for (uint i = lid; i < HW / 4; i += WG) {
                const vec4 v = fma(texelFetch(x4_t, int(xb + i)), vec4(a), vec4(sh));
                y4[yb + i] = SILU ? v / (1.0 + exp(-v)) : v;
            }
            continue;
        }
        for (uint i = lid; i < HW; i += WG) {
            const float v = fma(texelFetch(x_t, int(x_off + cb + i)).x, a, sh);
            y[y_off + cb + i] = SILU ? v / (1.0 + exp(-v)) : v;
        }
    }
}
