#version 450
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
// MSE loss, level 1 of 2: L = (1/count)·Σ_i (pred_i − target_i)².
// Workgroup g writes partial[g] = Σ (pred − target)² over its WG·ITEMS elements (fixed-order tree);
// mse_forward_finalize.comp sums the partials. Deterministic.
// Reference: tests/reference/embed_loss_optim.cpp (ref::mse_forward); tests: tests/test_nn_layers.cpp (mse rows,
//   tests/nn_runners_misc.cpp run_mse)
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint ITEMS = 16;
layout(binding = 0) uniform samplerBuffer pred_t;  // Pred: read as texels (see docs/PERFORMANCE.md)
layout(binding = 1) uniform samplerBuffer target_t;  // Target: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 2) writeonly buffer Partial { float partial[]; };
layout(push_constant) uniform Push { uint count, pred_off, target_off, partial_off; };
shared float red_a[gl_WorkGroupSize.x], red_b[gl_WorkGroupSize.x];
#include "nn/reduce.glsl"
void main() {
    const uint WG = gl_WorkGroupSize.x, base = gl_WorkGroupID.x * WG * ITEMS + gl_LocalInvocationID.x;
    float s = 0.0;
    for (uint k = 0; k < ITEMS; ++k) {
        const uint i = base + k * WG;
        if (i < count) {
            const float d = texelFetch(pred_t, int(pred_off + i)).x - texelFetch(target_t, int(target_off + i)).x;
            s = fma(d, d, s);
        }
    }
    const float total = workgroup_sum2(s, 0.0).x;
    if (gl_LocalInvocationID.x == 0) partial[partial_off + gl_WorkGroupID.x] = total;
}
