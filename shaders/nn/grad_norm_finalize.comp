#version 450
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
// Global gradient norm, level 2 of 2, and the clipping decision (one workgroup):
//   norm = √(Σ_w partial[w]);   clip_scale = min(1, max_grad_norm/(norm + 1e-6))  (1 when max_grad_norm ≤ 0)
//   skipped = 1 when norm is NaN or Inf: the step must not touch the weights or the Adam moments.
// Reference: tests/reference/embed_loss_optim.cpp (ref::adamw_step: the norm, the clip scale, the skip); tests:
//   tests/test_nn_optim.cpp (AdamWClipAndEmaMatchReferenceOverSteps)
layout(local_size_x_id = 0) in;
#include "nn/opt_state.glsl"
layout(binding = 0) uniform samplerBuffer partial_t;  // Partial: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 1) buffer State { OptState st; };
layout(push_constant) uniform Push { uint groups, partial_off; };
shared float red_a[gl_WorkGroupSize.x], red_b[gl_WorkGroupSize.x];
#include "nn/reduce.glsl"
void main() {
    float s = 0.0;
    for (uint i = gl_LocalInvocationID.x; i < groups; i += gl_WorkGroupSize.x) s += texelFetch(partial_t, int(partial_off + i)).x;
    const float total = workgroup_sum2(s, 0.0).x;
    if (gl_LocalInvocationID.x == 0) {
        const float norm = sqrt(total);
        const bool bad = isnan(norm) || isinf(norm);
        st.grad_norm = norm;
        st.skipped = bad ? 1u : 0u;
        st.clip_scale = bad ? 0.0 : (st.max_grad_norm > 0.0 ? min(1.0, st.max_grad_norm / (norm + 1e-6)) : 1.0);
    }
}
