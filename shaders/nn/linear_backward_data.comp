#version 450
// linear backward to the input. y[n,o] = b[o] + Σ_i x[n,i]·w[o,i] ⇒ ∂y[n,o]/∂x[n,i] = w[o,i], so
//   dx[n,i] (+)= Σ_{o<Out} dy[n,o] · w[o,i]          (dx = dy·W)
// One invocation per 4 × 4 tile of dx (4 samples × 4 inputs), 16 FMAs per 8 fetches (see linear_forward.comp);
// `accumulate` adds to what dx holds.
// Reference: tests/reference/linear_norm.cpp (ref::linear_backward, dx); tests: tests/test_nn_layers.cpp (linear
//   rows, tests/nn_runners_conv.cpp run_linear)
layout(local_size_x = 64) in;
layout(binding = 0) uniform samplerBuffer dy_t;  // DY: read as texels (see docs/PERFORMANCE.md)
layout(binding = 1) uniform samplerBuffer w_t;  // W: read as texels
layout(std430, binding = 2) buffer DX { float dx[]; };
layout(push_constant) uniform Push {
    uint N, In, Out;
    uint dy_off, w_off, dx_off;
    uint accumulate;
};
void main() {
    const uint cols = (In + 3) / 4, idx = gl_GlobalInvocationID.x;
    if (idx >= (N + 3) / 4 * cols) return;
    const uint n0 = idx / cols * 4, i0 = idx % cols * 4;
    uint dr[4], wc[4];
    float acc[4][4];
    for (uint r = 0; r < 4; ++r) dr[r] = dy_off + min(n0 + r, N - 1) * Out;
    for (uint c = 0; c < 4; ++c) wc[c] = w_off + min(i0 + c, In - 1);
    for (uint r = 0; r < 4; ++r)
        for (uint c = 0; c < 4; ++c) acc[r][c] = 0.0;
    for (uint o = 0; o < Out; ++o) {
        float g[4], w[4];
        for (uint r = 0; r < 4; ++r) g[r] = texelFetch(dy_t, int(dr[r] + o)).x;
        for (uint c = 0; c < 4; ++c) w[c] = texelFetch(w_t, int(wc[c] + o * In)).x;
        for (uint r = 0; r < 4; ++r)
            for (uint c = 0; c < 4; ++c) acc[r][c] = fma(g[r], w[c], acc[r][c]);
    }
    for (uint r = 0; r < 4; ++r)
        for (uint c = 0; c < 4; ++c)
            if (n0 + r < N && i0 + c < In) {
                const uint d = dx_off + (n0 + r) * In + i0 + c;
                dx[d] = accumulate != 0 ? dx[d] + acc[r][c] : acc[r][c];
            }
}
