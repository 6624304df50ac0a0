#version 450
// Softmax cross-entropy, backward of L = scale·Σ_n loss[n] (scale = 1/N for the batch mean):
//   ∂loss[n]/∂z[n,k] = p[n,k] − [k = y[n]]       (d/dz of log Σ exp z is softmax; of −z_y is −one-hot)
//   dz[n,k] = scale·(p[n,k] − [k = y[n]])        (the root of the graph: written, never accumulated)
// Reference: tests/reference/embed_loss_optim.cpp (ref::softmax_xent_backward); tests: tests/test_nn_layers.cpp (xent
//   rows, tests/nn_runners_misc.cpp run_xent), tests/test_classifier.cpp
layout(local_size_x = 64) in;
layout(binding = 0) uniform samplerBuffer p_t;  // softmax [N,K] from the forward
layout(std430, binding = 1) readonly buffer Label { int label[]; };
layout(std430, binding = 2) writeonly buffer DZ { float dz[]; };
layout(push_constant) uniform Push { uint N, K, p_off, label_off, dz_off; float scale; };
void main() {
    const uint i = gl_GlobalInvocationID.x;
    if (i >= N * K) return;
    const uint n = i / K, k = i % K;
    const uint y = uint(clamp(label[label_off + n], 0, int(K) - 1));
    dz[dz_off + i] = scale * (texelFetch(p_t, int(p_off + i)).x - (k == y ? 1.0 : 0.0));
}
