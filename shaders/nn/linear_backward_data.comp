#version 450
// linear backward to the input. y[n,o] = b[o] + Σ_i x[n,i]·w[o,i] ⇒ ∂y[n,o]/∂x[n,i] = w[o,i], so
//   dx[n,i] (+)= Σ_{o<Out} dy[n,o] · w[o,i]          (dx = dy·W)
// One invocation per dx[n,i]; `accumulate` adds to what dx holds.
layout(local_size_x = 64) in;
layout(binding = 0) uniform samplerBuffer dy_t;  // DY: read as texels (see docs/PERFORMANCE.md)
layout(binding = 1) uniform samplerBuffer w_t;  // Wt: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 2) buffer DX { float dx[]; };
layout(push_constant) uniform Push {
    uint N, In, Out;
    uint dy_off, w_off, dx_off;
    uint accumulate;
};
void main() {
    const uint idx = gl_GlobalInvocationID.x;
    if (idx >= N * In) return;
    const uint n = idx / In, i = idx % In;
    float s = 0.0;
    for (uint o = 0; o < Out; ++o) s = fma(texelFetch(dy_t, int(dy_off + n * Out + o)).x, texelFetch(w_t, int(w_off + o * In + i)).x, s);
    const uint d = dx_off + idx;
    dx[d] = accumulate != 0 ? dx[d] + s : s;
}
