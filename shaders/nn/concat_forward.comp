#version 450
// Channel concatenation (the UNet's skip connections): a [N,Ca,H,W], b [N,Cb,H,W] → y [N,Ca+Cb,H,W]
//   y[n,c] = a[n,c] for c < Ca,   y[n,Ca+c] = b[n,c]
// One invocation per y element; with VEC4 (CPU drivers, when Ca·HW, Cb·HW and the offsets are multiples of 4)
// per 4 elements, read as RGBA32F texels and written as a vec4.
// Reference: tests/reference/elementwise.cpp (ref::concat_forward); tests: tests/test_nn_layers.cpp (concat rows,
//   tests/nn_runners_misc.cpp run_concat)
layout(local_size_x = 256) in;
layout(constant_id = 0) const bool VEC4 = false;
layout(binding = 0) uniform samplerBuffer a_t;  // A: read as texels (see docs/PERFORMANCE.md)
layout(binding = 1) uniform samplerBuffer b_t;  // B: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(binding = 3) uniform samplerBuffer a4_t;                  // A as RGBA32F texels (VEC4)
layout(binding = 4) uniform samplerBuffer b4_t;                  // B as RGBA32F texels (VEC4)
layout(std430, binding = 5) writeonly buffer Y4 { vec4 y4[]; };  // Y as vec4 (VEC4)
layout(push_constant) uniform Push { uint N, Ca, Cb, HW, a_off, b_off, y_off; };
void main() {
    const uint idx = gl_GlobalInvocationID.x, per_n = (Ca + Cb) * HW;
    if (VEC4) {  // idx counts texels; every offset and channel block is a whole number of them
        const uint pn = per_n / 4, ca = Ca * HW / 4, cb = Cb * HW / 4;
        if (idx >= N * pn) return;
        const uint n = idx / pn, r = idx % pn;
        y4[y_off / 4 + idx] = r < ca ? texelFetch(a4_t, int(a_off / 4 + n * ca + r)) : texelFetch(b4_t, int(b_off / 4 + n * cb + (r - ca)));
        return;
    }
    if (idx >= N * per_n) return;
    const uint n = idx / per_n, r = idx % per_n;
    y[y_off + idx] = r < Ca * HW ? texelFetch(a_t, int(a_off + n * Ca * HW + r)).x : texelFetch(b_t, int(b_off + n * Cb * HW + (r - Ca * HW))).x;
}
