#version 450
// Channel concatenation (the UNet's skip connections): a [N,Ca,H,W], b [N,Cb,H,W] → y [N,Ca+Cb,H,W]
//   y[n,c] = a[n,c] for c < Ca,   y[n,Ca+c] = b[n,c]
// One invocation per y element.
layout(local_size_x = 256) in;
layout(binding = 0) uniform samplerBuffer a_t;  // A: read as texels (see docs/PERFORMANCE.md)
layout(binding = 1) uniform samplerBuffer b_t;  // B: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint N, Ca, Cb, HW, a_off, b_off, y_off; };
void main() {
    const uint idx = gl_GlobalInvocationID.x, per_n = (Ca + Cb) * HW;
    if (idx >= N * per_n) return;
    const uint n = idx / per_n, r = idx % per_n;
    y[y_off + idx] = r < Ca * HW ? texelFetch(a_t, int(a_off + n * Ca * HW + r)).x : texelFetch(b_t, int(b_off + n * Cb * HW + (r - Ca * HW))).x;
}
