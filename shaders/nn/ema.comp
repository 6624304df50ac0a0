#version 450
// Exponential moving average of the weights (what sampling uses): ema ← d·ema + (1 − d)·p, d = ema_decay
// from the state buffer. Skipped with the step when the gradient norm was not finite.
// Reference: tests/reference/embed_loss_optim.cpp (ref::ema_update); tests: tests/test_nn_optim.cpp
//   (AdamWClipAndEmaMatchReferenceOverSteps)
layout(local_size_x = 256) in;
#include "nn/opt_state.glsl"
layout(binding = 0) uniform samplerBuffer p_t;  // P: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 1) buffer E { float e[]; };
layout(std430, binding = 2) readonly buffer State { OptState st; };
layout(push_constant) uniform Push { uint count, p_off, e_off; };
void main() {
    const uint i = gl_GlobalInvocationID.x;
    if (i >= count || st.skipped != 0) return;
    const float d = st.ema_decay;
    e[e_off + i] = d * e[e_off + i] + (1.0 - d) * texelFetch(p_t, int(p_off + i)).x;
}
