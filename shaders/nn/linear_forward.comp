#version 450
// linear forward (PyTorch's nn.Linear): x [N,In], w [Out,In], b [Out]
//   y[n,o] = b[o] + Σ_{i<In} x[n,i] · w[o,i]
// One invocation per y[n,o]. The conditioning MLP is a few hundred wide: no tiling needed.
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Wt { float w[]; };
layout(std430, binding = 2) readonly buffer B { float b[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push {
    uint N, In, Out;
    uint x_off, w_off, b_off, y_off;
    uint has_bias;
};
void main() {
    const uint idx = gl_GlobalInvocationID.x;
    if (idx >= N * Out) return;
    const uint n = idx / Out, o = idx % Out;
    float s = has_bias != 0 ? b[b_off + o] : 0.0;
    for (uint i = 0; i < In; ++i) s = fma(x[x_off + n * In + i], w[w_off + o * In + i], s);
    y[y_off + idx] = s;
}
