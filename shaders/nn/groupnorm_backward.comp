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
// Pass 2 writes dx.
layout(local_size_x_id = 0) in;   // a power of two
layout(binding = 0) uniform samplerBuffer x_t;  // X: read as texels (see docs/PERFORMANCE.md)
layout(binding = 1) uniform samplerBuffer gamma_t;  // Gamma: read as texels (see docs/PERFORMANCE.md)
layout(binding = 2) uniform samplerBuffer dy_t;  // DY: read as texels (see docs/PERFORMANCE.md)
layout(binding = 3) uniform samplerBuffer stats_t;  // Stats: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 4) buffer DX { float dx[]; };
layout(std430, binding = 5) writeonly buffer Partial { float partial[]; };
layout(push_constant) uniform Push {
    uint N, C, HW, G;
    uint x_off, gamma_off, dy_off, stats_off, dx_off, partial_off;
    uint accumulate;
};
shared float red_a[gl_WorkGroupSize.x], red_b[gl_WorkGroupSize.x];
#include "nn/reduce.glsl"

void main() {
    const uint lid = gl_LocalInvocationID.x, WG = gl_WorkGroupSize.x;
    const uint ng = gl_WorkGroupID.x, n = ng / G, g = ng % G, Cg = C / G, m = Cg * HW;
    const uint base = (n * C + g * Cg) * HW;
    const float mean = texelFetch(stats_t, int(stats_off + 2 * ng)).x, rstd = texelFetch(stats_t, int(stats_off + 2 * ng + 1)).x;

    float sum_u = 0.0, sum_ux = 0.0;  // Σ over the group of u and u·x̂ (uniform)
    for (uint cl = 0; cl < Cg; ++cl) {
        const uint cb = base + cl * HW, c = g * Cg + cl;
        float sd = 0.0, sdx = 0.0;
        for (uint i = lid; i < HW; i += WG) {
            const float d = texelFetch(dy_t, int(dy_off + cb + i)).x;
            sd += d;
            sdx = fma(d, (texelFetch(x_t, int(x_off + cb + i)).x - mean) * rstd, sdx);
        }
        const vec2 s = workgroup_sum2(sd, sdx);
        const float gam = texelFetch(gamma_t, int(gamma_off + c)).x;
        sum_u += gam * s.x;
        sum_ux += gam * s.y;
        if (lid == 0) {
            partial[partial_off + 2 * (n * C + c)] = s.y;
            partial[partial_off + 2 * (n * C + c) + 1] = s.x;
        }
    }
    const float mean_u = sum_u / float(m), mean_ux = sum_ux / float(m);

    for (uint cl = 0; cl < Cg; ++cl) {
        const uint cb = base + cl * HW;
        const float gam = texelFetch(gamma_t, int(gamma_off + g * Cg + cl)).x;
        for (uint i = lid; i < HW; i += WG) {
            const float xhat = (texelFetch(x_t, int(x_off + cb + i)).x - mean) * rstd;
            const float v = rstd * (texelFetch(dy_t, int(dy_off + cb + i)).x * gam - mean_u - xhat * mean_ux);
            const uint d = dx_off + cb + i;
            dx[d] = accumulate != 0 ? dx[d] + v : v;
        }
    }
}
