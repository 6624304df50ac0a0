#version 450
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
// GroupNorm backward to the input (see groupnorm_forward.comp). Within a group of m values, with
// x̂ = (x − μ)·r and u = dy·γ[c] = ∂L/∂x̂:
//   ∂x̂_j/∂x_i = r·(δ_ij − 1/m − x̂_i x̂_j/m)    (μ's path gives −1/m, σ²'s gives −x̂_i x̂_j/m)
//   dx_i = Σ_j u_j ∂x̂_j/∂x_i = r·(u_i − mean(u) − x̂_i·mean(u·x̂))
// dx (+)= that (`accumulate`). One workgroup per (n, g), μ and r from the forward's `stats`.
// Pass 1 sums, per channel c of the group, Σ_hw dy and Σ_hw dy·x̂; then mean(u) = Σ_c γ[c]·Σdy / m and
// mean(u·x̂) = Σ_c γ[c]·Σdy·x̂ / m. Those per-(n, c) sums are also written to `partial` [N, C, 2] =
// (Σ dy·x̂, Σ dy), from which groupnorm_backward_params.comp gets dγ and dβ without reading x again.
// With LANES (CPU drivers, a one-subgroup workgroup of LANES invocations) each lane writes its own sums,
// `partial` [N, C, LANES, 2], and adds γ[c]·Σ into its share of the group sums: one subgroup reduction per group
// instead of one per channel (llvmpipe runs each as a loop over the lanes).
// Pass 2 writes dx.
// With SILU the layer is a = SiLU(y), y = GroupNorm(x), and dy is ∂L/∂a: each ∂L/∂y = dy·σ(y)·(1 + y·(1 − σ(y)))
// is formed on the fly from y = x̂·γ + β, so training needs neither y stored nor a SiLU backward pass.
// VEC4 (CPU drivers, when H·W and the offsets of x, dy and dx are multiples of 4): 4 values per access, as in
// groupnorm_forward.comp. FLAT (with VEC4; as the forward's, the 7×7 layers): pass 1 takes one value per access,
// channel by channel, for its per-channel sums; pass 2 walks the group as one run of texels, each component with
// the γ and β of its own channel.
// Reference: tests/reference/linear_norm.cpp (ref::groupnorm_backward, dx; with SILU also elementwise.cpp
//   ref::silu_backward); tests: tests/test_nn_layers.cpp (groupnorm* rows, tests/nn_runners_conv.cpp run_groupnorm)
layout(local_size_x_id = 0) in;   // a power of two
layout(constant_id = 1) const bool SILU = false;
layout(constant_id = 2) const bool VEC4 = false;
layout(constant_id = 3) const uint LANES = 0;  // per-lane sums (= the workgroup size, one subgroup); 0: per channel
layout(constant_id = 4) const bool FLAT = false;
layout(binding = 0) uniform samplerBuffer x_t;  // X: read as texels (see docs/PERFORMANCE.md)
layout(binding = 1) uniform samplerBuffer gamma_t;  // Gamma: read as texels (see docs/PERFORMANCE.md)
layout(binding = 2) uniform samplerBuffer dy_t;  // DY: read as texels (see docs/PERFORMANCE.md)
layout(binding = 3) uniform samplerBuffer stats_t;  // Stats: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 4) buffer DX { float dx[]; };
layout(std430, binding = 5) writeonly buffer Partial { float partial[]; };
layout(binding = 6) uniform samplerBuffer beta_t;  // Beta (read with SILU only)
layout(binding = 7) uniform samplerBuffer x4_t;    // X as RGBA32F texels (VEC4)
layout(binding = 8) uniform samplerBuffer dy4_t;   // DY as RGBA32F texels (VEC4)
layout(std430, binding = 9) buffer DX4 { vec4 dx4[]; };  // DX as vec4 (VEC4)
layout(push_constant) uniform Push {
    uint N, C, HW, G;
    uint x_off, gamma_off, dy_off, stats_off, dx_off, partial_off;
    uint accumulate;
    uint beta_off;
};
shared float red_a[gl_WorkGroupSize.x], red_b[gl_WorkGroupSize.x];
#include "nn/reduce.glsl"
#include "nn/gn_flat.glsl"

// ∂L/∂y at element i of channel c with x̂ = xhat: dy itself, or through the SiLU.
float dy_at(uint i, float xhat, float gam, float bet) {
    const float d = texelFetch(dy_t, int(dy_off + i)).x;
    if (!SILU) return d;
    const float y = fma(xhat, gam, bet), s = 1.0 / (1.0 + exp(-y));
    return d * s * (1.0 + y * (1.0 - s));
}

vec4 dy4_at(uint t, vec4 xhat, vec4 gam, vec4 bet) {
    const vec4 d = texelFetch(dy4_t, int(t));
    if (!SILU) return d;
    const vec4 y = fma(xhat, gam, bet), s = 1.0 / (1.0 + exp(-y));
    return d * s * (1.0 + y * (1.0 - s));
}

void main() {
    const uint lid = gl_LocalInvocationID.x, WG = gl_WorkGroupSize.x;
    const uint ng = gl_WorkGroupID.x, n = ng / G, g = ng % G, Cg = C / G, m = Cg * HW;
    const uint base = (n * C + g * Cg) * HW;
    const float mean = texelFetch(stats_t, int(stats_off + 2 * ng)).x, rstd = texelFetch(stats_t, int(stats_off + 2 * ng + 1)).x;

    float sum_u = 0.0, sum_ux = 0.0;  // Σ over the group of u and u·x̂ (uniform)
    for (uint cl = 0; cl < Cg; ++cl) {
        const uint cb = base + cl * HW, c = g * Cg + cl;
        const float gam = texelFetch(gamma_t, int(gamma_off + c)).x;
        const float bet = SILU ? texelFetch(beta_t, int(beta_off + c)).x : 0.0;
        float sd = 0.0, sdx = 0.0;
        if (VEC4 && !FLAT) {
            const uint xb = (x_off + cb) / 4, db = (dy_off + cb) / 4;
            vec4 a = vec4(0.0), b = vec4(0.0);
            for (uint i = lid; i < HW / 4; i += WG) {
                const vec4 xhat = (texelFetch(x4_t, int(xb + i)) - mean) * rstd;
                const vec4 d = dy4_at(db + i, xhat, vec4(gam), vec4(bet));
                a += d;
                b = fma(d, xhat, b);
            }
            sd = (a.x + a.y) + (a.z + a.w);
            sdx = (b.x + b.y) + (b.z + b.w);
        } else {
            for (uint i = lid; i < HW; i += WG) {
                const float xhat = (texelFetch(x_t, int(x_off + cb + i)).x - mean) * rstd;
                const float d = dy_at(cb + i, xhat, gam, bet);
                sd += d;
                sdx = fma(d, xhat, sdx);
            }
        }
        if (LANES != 0) {
            const uint o = partial_off + 2 * ((n * C + c) * LANES + lid);
            partial[o] = sdx;
            partial[o + 1] = sd;
            sum_u += gam * sd;  // this lane's share until the reduction below
            sum_ux += gam * sdx;
            continue;
        }
        const vec2 s = workgroup_sum2(sd, sdx);
        sum_u += gam * s.x;
        sum_ux += gam * s.y;
        if (lid == 0) {
            partial[partial_off + 2 * (n * C + c)] = s.y;
            partial[partial_off + 2 * (n * C + c) + 1] = s.x;
        }
    }
    if (LANES != 0) {
        const vec2 s = workgroup_sum2(sum_u, sum_ux);
        sum_u = s.x;
        sum_ux = s.y;
    }
    const float mean_u = sum_u / float(m), mean_ux = sum_ux / float(m);

    if (FLAT) {
        const uint xb = (x_off + base) / 4, db = (dy_off + base) / 4, ob = (dx_off + base) / 4;
        for (uint i = lid; i < m / 4; i += WG) {
            uint c0, c1;
            const bvec4 next = flat_channels(i, g * Cg, Cg, HW, c0, c1);
            const vec4 gam = per_component(texelFetch(gamma_t, int(gamma_off + c0)).x, texelFetch(gamma_t, int(gamma_off + c1)).x, next);
            const vec4 bet = SILU ? per_component(texelFetch(beta_t, int(beta_off + c0)).x, texelFetch(beta_t, int(beta_off + c1)).x, next)
                                  : vec4(0.0);
            const vec4 xhat = (texelFetch(x4_t, int(xb + i)) - mean) * rstd;
            const vec4 v = rstd * (dy4_at(db + i, xhat, gam, bet) * gam - mean_u - xhat * mean_ux);
            dx4[ob + i] = accumulate != 0 ? dx4[ob + i] + v : v;
        }
        return;
    }

    for (uint cl = 0; cl < Cg; ++cl) {
        const uint cb = base + cl * HW;
        const float gam = texelFetch(gamma_t, int(gamma_off + g * Cg + cl)).x;
        const float bet = SILU ? texelFetch(beta_t, int(beta_off + g * Cg + cl)).x : 0.0;
        if (VEC4) {
            const uint xb = (x_off + cb) / 4, db = (dy_off + cb) / 4, ob = (dx_off + cb) / 4;
            for (uint i = lid; i < HW / 4; i += WG) {
                const vec4 xhat = (texelFetch(x4_t, int(xb + i)) - mean) * rstd;
                const vec4 v = rstd * (dy4_at(db + i, xhat, vec4(gam), vec4(bet)) * gam - mean_u - xhat * mean_ux);
                dx4[ob + i] = accumulate != 0 ? dx4[ob + i] + v : v;
            }
            continue;
        }
        for (uint i = lid; i < HW; i += WG) {
            const float xhat = (texelFetch(x_t, int(x_off + cb + i)).x - mean) * rstd;
            const float v = rstd * (dy_at(cb + i, xhat, gam, bet) * gam - mean_u - xhat * mean_ux);
            const uint d = dx_off + cb + i;
            dx[d] = accumulate != 0 ? dx[d] + v : v;
        }
    }
}
