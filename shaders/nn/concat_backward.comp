#version 450
// Channel concatenation backward: y is a copy of a and b side by side, so the gradient splits:
//   da[n,c] (+)= dy[n,c],   db[n,c] (+)= dy[n,Ca+c]
// `acc_a`, `acc_b` add to what da, db hold (a skip tensor also feeds the layer after it).
layout(local_size_x = 256) in;
layout(binding = 0) uniform samplerBuffer dy_t;  // DY: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 1) buffer DA { float da[]; };
layout(std430, binding = 2) buffer DB { float db[]; };
layout(push_constant) uniform Push { uint N, Ca, Cb, HW, dy_off, da_off, db_off, acc_a, acc_b; };
void main() {
    const uint idx = gl_GlobalInvocationID.x, per_n = (Ca + Cb) * HW;
    if (idx >= N * per_n) return;
    const uint n = idx / per_n, r = idx % per_n;
    const float g = texelFetch(dy_t, int(dy_off + idx)).x;
    if (r < Ca * HW) {
        const uint d = da_off + n * Ca * HW + r;
        da[d] = acc_a != 0 ? da[d] + g : g;
    } else {
        const uint d = db_off + n * Cb * HW + (r - Ca * HW);
        db[d] = acc_b != 0 ? db[d] + g : g;
    }
}
