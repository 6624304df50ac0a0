#version 450
// Elementwise add backward. y = a + b ⇒ ∂y/∂a = ∂y/∂b = 1:
//   da (+)= dy,   db (+)= dy
// `acc_a`, `acc_b` add to what da, db hold; `has_b` = 0 writes da only (a plain gradient copy).
// VEC4 (CPU drivers, when n and the offsets are multiples of 4): 4 values per invocation.
// Reference: tests/reference/elementwise.cpp (ref::add_forward; the backward is a copy, da = db = dy); tests:
//   tests/test_nn_layers.cpp (add rows, tests/nn_runners_misc.cpp run_add)
layout(local_size_x = 256) in;
layout(constant_id = 0) const bool VEC4 = false;
layout(binding = 0) uniform samplerBuffer dy_t;  // DY: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 1) buffer DA { float da[]; };
layout(std430, binding = 2) buffer DB { float db[]; };
layout(binding = 3) uniform samplerBuffer dy4_t;         // DY as RGBA32F texels (VEC4)
layout(std430, binding = 4) buffer DA4 { vec4 da4[]; };  // DA as vec4 (VEC4)
layout(std430, binding = 5) buffer DB4 { vec4 db4[]; };  // DB as vec4 (VEC4)
layout(push_constant) uniform Push { uint n, dy_off, da_off, db_off, acc_a, acc_b, has_b; };
void main() {
    const uint i = gl_GlobalInvocationID.x;
    if (VEC4) {
        if (i >= n / 4) return;
        const vec4 g = texelFetch(dy4_t, int(dy_off / 4 + i));
        const uint a = da_off / 4 + i, b = db_off / 4 + i;
        da4[a] = acc_a != 0 ? da4[a] + g : g;
        if (has_b != 0) db4[b] = acc_b != 0 ? db4[b] + g : g;
        return;
    }
    if (i >= n) return;
    const float g = texelFetch(dy_t, int(dy_off + i)).x;
    da[da_off + i] = acc_a != 0 ? da[da_off + i] + g : g;
    if (has_b != 0) db[db_off + i] = acc_b != 0 ? db[db_off + i] + g : g;
}
