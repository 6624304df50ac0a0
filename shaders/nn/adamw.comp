#version 450
// AdamW (Loshchilov & Hutter 2019; the update PyTorch's torch.optim.AdamW makes) on one flat parameter
// buffer, with the gradient clipped by the global norm (clip_scale from grad_norm_finalize):
//   g ← clip_scale·g
//   m ← β1·m + (1 − β1)·g,      v ← β2·v + (1 − β2)·g²
//   p ← p·(1 − lr·wd) − lr·(m/(1 − β1^t)) / (√(v/(1 − β2^t)) + eps)
// Hyperparameters and the bias corrections 1 − β^t come from the state buffer, so a recorded step replays with new values.
// When `skipped` is set (non-finite gradient norm) nothing is written.
// Reference: tests/reference/embed_loss_optim.cpp (ref::adamw_step); tests: tests/test_nn_optim.cpp
//   (AdamWClipAndEmaMatchReferenceOverSteps)
layout(local_size_x = 256) in;
#include "nn/opt_state.glsl"
layout(std430, binding = 0) buffer P { float p[]; };
layout(binding = 1) uniform samplerBuffer g_t;  // G: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 2) buffer M { float m[]; };
layout(std430, binding = 3) buffer V { float v[]; };
layout(std430, binding = 4) readonly buffer State { OptState st; };
layout(push_constant) uniform Push { uint count, p_off, g_off, m_off, v_off; };
void main() {
    const uint i = gl_GlobalInvocationID.x;
    if (i >= count || st.skipped != 0) return;
    const float bc1 = st.bias_correction1, bc2 = st.bias_correction2;
    const float gi = texelFetch(g_t, int(g_off + i)).x * st.clip_scale;
    const float mi = st.beta1 * m[m_off + i] + (1.0 - st.beta1) * gi;
    const float vi = st.beta2 * v[v_off + i] + (1.0 - st.beta2) * gi * gi;
    m[m_off + i] = mi;
    v[v_off + i] = vi;
    const float pi = p[p_off + i] * (1.0 - st.lr * st.weight_decay);
    p[p_off + i] = pi - st.lr * (mi / bc1) / (sqrt(vi / bc2) + st.eps);
}
