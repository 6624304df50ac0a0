#version 450
// Softmax cross-entropy, forward. Per sample n with logits z[n, 0..K−1] and label y[n] ∈ [0, K):
//   p[n,k] = exp(z[n,k] − m) / Σ_j exp(z[n,j] − m),   m = max_j z[n,j]   (shifted: no overflow)
//   loss[n] = −log p[n, y[n]] = log Σ_j exp(z[n,j] − m) − (z[n,y[n]] − m)
// The mean over the batch is the training loss; p is saved for the backward. One invocation per sample.
// Reference: tests/reference/embed_loss_optim.cpp (ref::softmax_xent_forward); tests: tests/test_nn_layers.cpp (xent
//   rows, tests/nn_runners_misc.cpp run_xent), tests/test_classifier.cpp
layout(local_size_x = 64) in;
layout(binding = 0) uniform samplerBuffer z_t;  // logits [N,K]
layout(std430, binding = 1) readonly buffer Label { int label[]; };
layout(std430, binding = 2) writeonly buffer P { float p[]; };
layout(std430, binding = 3) writeonly buffer Loss { float loss[]; };
layout(push_constant) uniform Push { uint N, K, z_off, label_off, p_off, loss_off; };
void main() {
    const uint n = gl_GlobalInvocationID.x;
    if (n >= N) return;
    const uint zb = z_off + n * K;
    float m = texelFetch(z_t, int(zb)).x;
    for (uint k = 1; k < K; ++k) m = max(m, texelFetch(z_t, int(zb + k)).x);
    float s = 0.0;
    for (uint k = 0; k < K; ++k) s += exp(texelFetch(z_t, int(zb + k)).x - m);
    const float inv = 1.0 / s;
    for (uint k = 0; k < K; ++k) p[p_off + n * K + k] = exp(texelFetch(z_t, int(zb + k)).x - m) * inv;
    const uint y = uint(clamp(label[label_off + n], 0, int(K) - 1));
    loss[loss_off + n] = log(s) - (texelFetch(z_t, int(zb + y)).x - m);
}
