#version 450
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
// Global gradient norm, level 1 of 2: ‖g‖₂² = Σ_i g_i² over the flat gradient buffer.
// Workgroup w writes partial[w] = Σ g² over its WG·ITEMS elements (fixed-order tree); grad_norm_finalize
// sums the partials. Deterministic.
// Reference: tests/reference/embed_loss_optim.cpp (ref::adamw_step: the norm and the clip scale); tests:
//   tests/test_nn_optim.cpp (AdamWClipAndEmaMatchReferenceOverSteps)
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint ITEMS = 16;
layout(binding = 0) uniform samplerBuffer g_t;  // G: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 1) writeonly buffer Partial { float partial[]; };
layout(push_constant) uniform Push { uint count, g_off, partial_off; };
shared float red_a[gl_WorkGroupSize.x], red_b[gl_WorkGroupSize.x];
#include "nn/reduce.glsl"
void main() {
    const uint WG = gl_WorkGroupSize.x, base = gl_WorkGroupID.x * WG * ITEMS + gl_LocalInvocationID.x;
    float s = 0.0;
    for (uint k = 0; k < ITEMS; ++k) {
        const uint i = base + k * WG;
        if (i < count) s = fma(texelFetch(g_t, int(g_off + i)).x, texelFetch(g_t, int(g_off + i)).x, s);
    }
    const float total = workgroup_sum2(s, 0.0).x;
    if (gl_LocalInvocationID.x == 0) partial[partial_off + gl_WorkGroupID.x] = total;
}
