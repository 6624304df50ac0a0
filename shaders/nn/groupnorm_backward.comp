#version 450
// GroupNorm backward to the input (see groupnorm_forward.comp). Within a group of m values, with
// x̂ = (x − μ)·r and u = dy·γ[c] = ∂L/∂x̂:
//   ∂x̂_j/∂x_i = r·(δ_ij − 1/m − x̂_i x̂_j/m)    (μ's path gives −1/m, σ²'s gives −x̂_i x̂_j/m)
//   dx_i = Σ_j u_j ∂x̂_j/∂x_i = r·(u_i − mean(u) − x̂_i·mean(u·x̂))
// dx (+)= that (`accumulate`). One workgroup per (n, g): one pass for Σu and Σu·x̂, one to write dx.
// μ and r come from the forward's `stats`.
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Gamma { float gamma[]; };
layout(std430, binding = 2) readonly buffer DY { float dy[]; };
layout(std430, binding = 3) readonly buffer Stats { float stats[]; };
layout(std430, binding = 4) buffer DX { float dx[]; };
layout(push_constant) uniform Push {
    uint N, C, HW, G;
    uint x_off, gamma_off, dy_off, stats_off, dx_off;
    uint accumulate;
};
shared float red_a[gl_WorkGroupSize.x], red_b[gl_WorkGroupSize.x];
#include "nn/reduce.glsl"

void main() {
    const uint lid = gl_LocalInvocationID.x, WG = gl_WorkGroupSize.x;
    const uint ng = gl_WorkGroupID.x, g = ng % G, Cg = C / G, m = Cg * HW;
    const uint base = (ng / G * C + g * Cg) * HW;
    const float mean = stats[stats_off + 2 * ng], rstd = stats[stats_off + 2 * ng + 1];
    const uint c0 = g * Cg + lid / HW, hw0 = lid % HW, dc = WG / HW, dhw = WG % HW;

    float su = 0.0, sux = 0.0;
    uint c = c0, hw = hw0;
    for (uint i = lid; i < m; i += WG) {
        const float u = dy[dy_off + base + i] * gamma[gamma_off + c];
        su += u;
        sux = fma(u, (x[x_off + base + i] - mean) * rstd, sux);
        hw += dhw;
        if (hw >= HW) { hw -= HW; c += 1; }
        c += dc;
    }
    const vec2 s = workgroup_sum2(su, sux);
    const float mean_u = s.x / float(m), mean_ux = s.y / float(m);

    c = c0;
    hw = hw0;
    for (uint i = lid; i < m; i += WG) {
        const float u = dy[dy_off + base + i] * gamma[gamma_off + c];
        const float xhat = (x[x_off + base + i] - mean) * rstd;
        const float v = rstd * (u - mean_u - xhat * mean_ux);
        const uint d = dx_off + base + i;
        dx[d] = accumulate != 0 ? dx[d] + v : v;
        hw += dhw;
        if (hw >= HW) { hw -= HW; c += 1; }
        c += dc;
    }
}
