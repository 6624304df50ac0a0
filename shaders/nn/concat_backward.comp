#version 450
// Channel concatenation backward: y is a copy of a and b side by side, so the gradient splits:
//   da[n,c] (+)= dy[n,c],   db[n,c] (+)= dy[n,Ca+c]
// `acc_a`, `acc_b` add to what da, db hold (a skip tensor also feeds the layer after it).
// VEC4: 4 elements per invocation, as concat_forward.comp.
// Reference: tests/reference/elementwise.cpp (ref::concat_backward); tests: tests/test_nn_layers.cpp (concat rows,
//   tests/nn_runners_misc.cpp run_concat)
layout(local_size_x = 256) in;
layout(constant_id = 0) const bool VEC4 = false;
layout(binding = 0) uniform samplerBuffer dy_t;  // DY: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 1) buffer DA { float da[]; };
layout(std430, binding = 2) buffer DB { float db[]; };
layout(binding = 3) uniform samplerBuffer dy4_t;         // DY as RGBA32F texels (VEC4)
layout(std430, binding = 4) buffer DA4 { vec4 da4[]; };  // DA as vec4 (VEC4)
layout(std430, binding = 5) buffer DB4 { vec4 db4[]; };  // DB as vec4 (VEC4)
layout(push_constant) uniform Push { uint N, Ca, Cb, HW, dy_off, da_off, db_off, acc_a, acc_b; };
void main() {
    const uint idx = gl_GlobalInvocationID.x, per_n = (Ca + Cb) * HW;
    if (VEC4) {  // idx counts texels
        const uint pn = per_n / 4, ca = Ca * HW / 4, cb = Cb * HW / 4;
        if (idx >= N * pn) return;
        const uint n = idx / pn, r = idx % pn;
        const vec4 g = texelFetch(dy4_t, int(dy_off / 4 + idx));
        if (r < ca) {
            const uint d = da_off / 4 + n * ca + r;
            da4[d] = acc_a != 0 ? da4[d] + g : g;
        } else {
            const uint d = db_off / 4 + n * cb + (r - ca);
            db4[d] = acc_b != 0 ? db4[d] + g : g;
        }
        return;
    }
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
