#version 450
// linear backward to the parameters. y[n,o] = b[o] + Σ_i x[n,i]·w[o,i] ⇒
//   dw[o,i] (+)= Σ_{n<N} dy[n,o] · x[n,i]            (dW = dYᵀ·X)
//   db[o]   (+)= Σ_{n<N} dy[n,o]
// One invocation per dw[o,i] (the first Out·In invocations) and per db[o] (the next Out); each sums over
// the batch in order: deterministic, no atomics.
layout(local_size_x = 64) in;
layout(binding = 0) uniform samplerBuffer x_t;  // X: read as texels (see docs/PERFORMANCE.md)
layout(binding = 1) uniform samplerBuffer dy_t;  // DY: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 2) buffer DW { float dw[]; };
layout(std430, binding = 3) buffer DB { float db[]; };
layout(push_constant) uniform Push {
    uint N, In, Out;
    uint x_off, dy_off, dw_off, db_off;
    uint has_bias, accumulate;
};
void main() {
    const uint idx = gl_GlobalInvocationID.x;
    if (idx < Out * In) {
        const uint o = idx / In, i = idx % In;
        float s = 0.0;
        for (uint n = 0; n < N; ++n) s = fma(texelFetch(dy_t, int(dy_off + n * Out + o)).x, texelFetch(x_t, int(x_off + n * In + i)).x, s);
        const uint d = dw_off + idx;
        dw[d] = accumulate != 0 ? dw[d] + s : s;
    } else if (has_bias != 0 && idx < Out * In + Out) {
        const uint o = idx - Out * In;
        float s = 0.0;
        for (uint n = 0; n < N; ++n) s += texelFetch(dy_t, int(dy_off + n * Out + o)).x;
        const uint d = db_off + o;
        db[d] = accumulate != 0 ? db[d] + s : s;
    }
}
