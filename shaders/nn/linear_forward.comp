#version 450
// linear forward (PyTorch's nn.Linear): x [N,In], w [Out,In], b [Out]
//   y[n,o] = b[o] + Σ_{i<In} x[n,i] · w[o,i]
// One invocation per 4 × 4 tile of y (4 samples × 4 outputs): each step fetches 4 x and 4 w values and makes
// 16 FMAs, where one invocation per y[n,o] would make 1 FMA per 2 fetches (a fetch costs ~10 FMAs on llvmpipe, see
// docs/PERFORMANCE.md). Rows and columns past the edge read a clamped index and are not stored.
// Reference: tests/reference/linear_norm.cpp (ref::linear_forward); tests: tests/test_nn_layers.cpp (linear rows,
//   tests/nn_runners_conv.cpp run_linear)
layout(local_size_x = 64) in;
layout(binding = 0) uniform samplerBuffer x_t;  // X: read as texels (see docs/PERFORMANCE.md)
layout(binding = 1) uniform samplerBuffer w_t;  // W: read as texels
layout(binding = 2) uniform samplerBuffer b_t;  // B: read as texels
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push {
    uint N, In, Out;
    uint x_off, w_off, b_off, y_off;
    uint has_bias;
};
void main() {
    const uint cols = (Out + 3) / 4, idx = gl_GlobalInvocationID.x;
    if (idx >= (N + 3) / 4 * cols) return;
    const uint n0 = idx / cols * 4, o0 = idx % cols * 4;
    uint xr[4], wr[4];
    float acc[4][4];
    for (uint r = 0; r < 4; ++r) xr[r] = x_off + min(n0 + r, N - 1) * In;
    for (uint c = 0; c < 4; ++c) {
        wr[c] = w_off + min(o0 + c, Out - 1) * In;
        const float b = has_bias != 0 ? texelFetch(b_t, int(b_off + min(o0 + c, Out - 1))).x : 0.0;
        for (uint r = 0; r < 4; ++r) acc[r][c] = b;
    }
    for (uint i = 0; i < In; ++i) {
        float a[4], w[4];
        for (uint r = 0; r < 4; ++r) a[r] = texelFetch(x_t, int(xr[r] + i)).x;
        for (uint c = 0; c < 4; ++c) w[c] = texelFetch(w_t, int(wr[c] + i)).x;
        for (uint r = 0; r < 4; ++r)
            for (uint c = 0; c < 4; ++c) acc[r][c] = fma(a[r], w[c], acc[r][c]);
    }
    for (uint r = 0; r < 4; ++r)
        for (uint c = 0; c < 4; ++c)
            if (n0 + r < N && o0 + c < Out) y[y_off + (n0 + r) * Out + o0 + c] = acc[r][c];
}
