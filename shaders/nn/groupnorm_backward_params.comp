#version 450
// GroupNorm backward to γ and β (see groupnorm_forward.comp): y = γ[c]·x̂ + β[c] ⇒
//   dγ[c] (+)= Σ_{n,h,w} dy[n,c,h,w] · x̂[n,c,h,w],    dβ[c] (+)= Σ_{n,h,w} dy[n,c,h,w]
// with x̂ = (x − μ[n,g])·r[n,g] from the forward's `stats`. One workgroup per channel: the batch loop is
// inside, so the sum is in a fixed order (deterministic, no atomics).
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) readonly buffer Stats { float stats[]; };
layout(std430, binding = 3) buffer DGamma { float dgamma[]; };
layout(std430, binding = 4) buffer DBeta { float dbeta[]; };
layout(push_constant) uniform Push {
    uint N, C, HW, G;
    uint x_off, dy_off, stats_off, dgamma_off, dbeta_off;
    uint accumulate;
};
shared float red_a[gl_WorkGroupSize.x], red_b[gl_WorkGroupSize.x];
#include "nn/reduce.glsl"

void main() {
    const uint lid = gl_LocalInvocationID.x, WG = gl_WorkGroupSize.x;
    const uint c = gl_WorkGroupID.x, g = c / (C / G);
    // Walk j = lid, lid+WG, … over the N·HW values of channel c as (n, hw), without dividing in the loop.
    uint n = lid / HW, hw = lid % HW;
    const uint dn = WG / HW, dhw = WG % HW;
    float sg = 0.0, sb = 0.0;
    while (n < N) {
        const uint st = stats_off + 2 * (n * G + g);
        const float d = dy[dy_off + (n * C + c) * HW + hw];
        sg = fma(d, (x[x_off + (n * C + c) * HW + hw] - stats[st]) * stats[st + 1], sg);
        sb += d;
        hw += dhw;
        if (hw >= HW) { hw -= HW; n += 1; }
        n += dn;
    }
    const vec2 s = workgroup_sum2(sg, sb);
    if (lid == 0) {
        dgamma[dgamma_off + c] = accumulate != 0 ? dgamma[dgamma_off + c] + s.x : s.x;
        dbeta[dbeta_off + c] = accumulate != 0 ? dbeta[dbeta_off + c] + s.y : s.y;
    }
}
