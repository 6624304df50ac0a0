#version 450
// linear backward to the parameters. y[n,o] = b[o] + Σ_i x[n,i]·w[o,i] ⇒
//   dw[o,i] (+)= Σ_{n<N} dy[n,o] · x[n,i]            (dW = dYᵀ·X)
//   db[o]   (+)= Σ_{n<N} dy[n,o]
// One invocation per 4 × 4 tile of dw (4 outputs × 4 inputs), 16 FMAs per 8 fetches (see linear_forward.comp);
// the tiles of the first 4 inputs also sum db for their 4 outputs from the dy values they fetch. Each sums over
// the batch in order: deterministic, no atomics.
// Reference: tests/reference/linear_norm.cpp (ref::linear_backward, dw and db); tests: tests/test_nn_layers.cpp
//   (linear rows, tests/nn_runners_conv.cpp run_linear)
layout(local_size_x = 64) in;
layout(binding = 0) uniform samplerBuffer x_t;  // X: read as texels (see docs/PERFORMANCE.md)
layout(binding = 1) uniform samplerBuffer dy_t;  // DY: read as texels
layout(std430, binding = 2) buffer DW { float dw[]; };
layout(std430, binding = 3) buffer DB { float db[]; };
layout(push_constant) uniform Push {
    uint N, In, Out;
    uint x_off, dy_off, dw_off, db_off;
    uint has_bias, accumulate;
};
void main() {
    const uint cols = (In + 3) / 4, idx = gl_GlobalInvocationID.x;
    if (idx >= (Out + 3) / 4 * cols) return;
    const uint o0 = idx / cols * 4, i0 = idx % cols * 4;
    uint oc[4], ic[4];
    float acc[4][4], bsum[4];
    for (uint r = 0; r < 4; ++r) {
        oc[r] = dy_off + min(o0 + r, Out - 1);
        ic[r] = x_off + min(i0 + r, In - 1);
        bsum[r] = 0.0;
        for (uint c = 0; c < 4; ++c) acc[r][c] = 0.0;
    }
    for (uint n = 0; n < N; ++n) {
        float g[4], x[4];
        for (uint r = 0; r < 4; ++r) g[r] = texelFetch(dy_t, int(oc[r] + n * Out)).x;
        for (uint c = 0; c < 4; ++c) x[c] = texelFetch(x_t, int(ic[c] + n * In)).x;
        for (uint r = 0; r < 4; ++r) {
            bsum[r] += g[r];
            for (uint c = 0; c < 4; ++c) acc[r][c] = fma(g[r], x[c], acc[r][c]);
        }
    }
    for (uint r = 0; r < 4; ++r) {
        if (o0 + r >= Out) break;
        for (uint c = 0; c < 4; ++c)
            if (i0 + c < In) {
                const uint d = dw_off + (o0 + r) * In + i0 + c;
                dw[d] = accumulate != 0 ? dw[d] + acc[r][c] : acc[r][c];
            }
        if (has_bias != 0 && i0 == 0) {
            const uint d = db_off + o0 + r;
            db[d] = accumulate != 0 ? db[d] + bsum[r] : bsum[r];
        }
    }
}
