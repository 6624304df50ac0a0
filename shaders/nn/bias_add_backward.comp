#version 450
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
// Broadcast add backward. y[n,c,h,w] = x[n,c,h,w] + v[n,c] ⇒ ∂y/∂x = 1 and v[n,c] reaches every (h,w):
//   dx (+)= dy,      dv[n,c] (+)= Σ_{h,w} dy[n,c,h,w]
// One workgroup per (n, c): it copies its H·W gradients (unless has_dx = 0: the caller passes dy on as dx)
// and sums them in a fixed-order tree.
// VEC4 (CPU drivers, when H·W and the offsets of dy and dx are multiples of 4): 4 values per access.
// SERIAL (CPU drivers): one invocation per (n, c) sums its H·W values in order, with no subgroup reduction
// (llvmpipe runs a subgroup reduction as a loop over the lanes, ~0.1 µs each: at 64·64 channels of 7×7 that would be
// most of the pass).
// Reference: tests/reference/elementwise.cpp (ref::bias_add_backward); tests: tests/test_nn_layers.cpp (bias_add
//   rows, tests/nn_runners_misc.cpp run_bias_add)
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const bool VEC4 = false;
layout(constant_id = 2) const bool SERIAL = false;
layout(binding = 0) uniform samplerBuffer dy_t;  // DY: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 1) buffer DX { float dx[]; };
layout(std430, binding = 2) buffer DV { float dv[]; };
layout(binding = 3) uniform samplerBuffer dy4_t;         // DY as RGBA32F texels (VEC4)
layout(std430, binding = 4) buffer DX4 { vec4 dx4[]; };  // DX as vec4 (VEC4)
layout(push_constant) uniform Push { uint NC, HW, dy_off, dx_off, dv_off, acc_x, acc_v, has_dx; };
shared float red_a[gl_WorkGroupSize.x], red_b[gl_WorkGroupSize.x];
#include "nn/reduce.glsl"
void main() {
    // SERIAL: invocation p sums row p alone; otherwise the lanes of workgroup p stride the row, then reduce.
    const uint p = SERIAL ? gl_GlobalInvocationID.x : gl_WorkGroupID.x;
    const uint first = SERIAL ? 0u : gl_LocalInvocationID.x, step = SERIAL ? 1u : gl_WorkGroupSize.x;
    if (SERIAL && p >= NC) return;  // (no reduction follows on this path)
    float s = 0.0;
    if (VEC4) {
        vec4 s4 = vec4(0.0);
        for (uint i = first; i < HW / 4; i += step) {
            const vec4 g = texelFetch(dy4_t, int((dy_off + p * HW) / 4 + i));
            if (has_dx != 0) {
                const uint d = (dx_off + p * HW) / 4 + i;
                dx4[d] = acc_x != 0 ? dx4[d] + g : g;
            }
            s4 += g;
        }
        s = (s4.x + s4.y) + (s4.z + s4.w);
    }
    for (uint i = first; i < (VEC4 ? 0u : HW); i += step) {
        const float g = texelFetch(dy_t, int(dy_off + p * HW + i)).x;
        if (has_dx != 0) {
            const uint d = dx_off + p * HW + i;
            dx[d] = acc_x != 0 ? dx[d] + g : g;
        }
        s += g;
    }
    if (SERIAL) {
        dv[dv_off + p] = acc_v != 0 ? dv[dv_off + p] + s : s;
        return;
    }
    const float total = workgroup_sum2(s, 0.0).x;
    if (first == 0) dv[dv_off + p] = acc_v != 0 ? dv[dv_off + p] + total : total;
}
