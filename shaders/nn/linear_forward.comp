#version 450
// linear forward (PyTorch's nn.Linear): x [N,In], w [Out,In], b [Out]
//   y[n,o] = b[o] + Σ_{i<In} x[n,i] · w[o,i]
// One invocation per y[n,o]. The conditioning MLP is a few hundred wide: no tiling needed.
layout(local_size_x = 64) in;
layout(binding = 0) uniform samplerBuffer x_t;  // X: read as texels (see docs/PERFORMANCE.md)
layout(binding = 1) uniform samplerBuffer w_t;  // Wt: read as texels (see docs/PERFORMANCE.md)
layout(binding = 2) uniform samplerBuffer b_t;  // B: read as texels (see docs/PERFORMANCE.md)
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
    float s = has_bias != 0 ? texelFetch(b_t, int(b_off + o)).x : 0.0;
    for (uint i = 0; i < In; ++i) s = fma(texelFetch(x_t, int(x_off + n * In + i)).x, texelFetch(w_t, int(w_off + o * In + i)).x, s);
    y[y_off + idx] = s;
}
