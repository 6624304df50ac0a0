#version 450
// MSE loss backward. L = (1/count)·Σ_i (pred_i − target_i)²  ⇒  ∂L/∂pred_i = 2·(pred_i − target_i)/count
// (the root of the graph: the upstream gradient is 1). Written, never accumulated.
// Reference: tests/reference/embed_loss_optim.cpp (ref::mse_backward); tests: tests/test_nn_layers.cpp (mse rows,
//   tests/nn_runners_misc.cpp run_mse)
layout(local_size_x = 256) in;
layout(binding = 0) uniform samplerBuffer pred_t;  // Pred: read as texels (see docs/PERFORMANCE.md)
layout(binding = 1) uniform samplerBuffer target_t;  // Target: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 2) writeonly buffer DPred { float dpred[]; };
layout(push_constant) uniform Push { uint count, pred_off, target_off, dpred_off; };
void main() {
    const uint i = gl_GlobalInvocationID.x;
    if (i >= count) return;
    dpred[dpred_off + i] = 2.0 * (texelFetch(pred_t, int(pred_off + i)).x - texelFetch(target_t, int(target_off + i)).x) / float(count);
}
