#version 450
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
// MSE loss, level 2 of 2: loss = (Σ_g partial[g]) / count, one workgroup, fixed order (see mse_forward.comp).
// Reference: tests/reference/embed_loss_optim.cpp (ref::mse_forward); tests: tests/test_nn_layers.cpp (mse rows,
//   tests/nn_runners_misc.cpp run_mse)
layout(local_size_x_id = 0) in;
layout(binding = 0) uniform samplerBuffer partial_t;  // Partial: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 1) writeonly buffer Loss { float loss[]; };
layout(push_constant) uniform Push { uint groups, count, partial_off, loss_off; };
shared float red_a[gl_WorkGroupSize.x], red_b[gl_WorkGroupSize.x];
#include "nn/reduce.glsl"
void main() {
    float s = 0.0;
    for (uint i = gl_LocalInvocationID.x; i < groups; i += gl_WorkGroupSize.x) s += texelFetch(partial_t, int(partial_off + i)).x;
    const float total = workgroup_sum2(s, 0.0).x;
    if (gl_LocalInvocationID.x == 0) loss[loss_off] = total / float(count);
}
