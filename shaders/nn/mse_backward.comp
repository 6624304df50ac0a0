#version 450
// MSE loss backward. L = (1/count)·Σ_i (pred_i − target_i)²  ⇒  ∂L/∂pred_i = 2·(pred_i − target_i)/count
// (the root of the graph: the upstream gradient is 1). Written, never accumulated.
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer Pred { float pred[]; };
layout(std430, binding = 1) readonly buffer Target { float target[]; };
layout(std430, binding = 2) writeonly buffer DPred { float dpred[]; };
layout(push_constant) uniform Push { uint count, pred_off, target_off, dpred_off; };
void main() {
    const uint i = gl_GlobalInvocationID.x;
    if (i >= count) return;
    dpred[dpred_off + i] = 2.0 * (pred[pred_off + i] - target[target_off + i]) / float(count);
}
