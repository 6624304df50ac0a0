#version 450
// Elementwise add backward. y = a + b ⇒ ∂y/∂a = ∂y/∂b = 1:
//   da (+)= dy,   db (+)= dy
// `acc_a`, `acc_b` add to what da, db hold; `has_b` = 0 writes da only (a plain gradient copy).
layout(local_size_x = 256) in;
layout(binding = 0) uniform samplerBuffer dy_t;  // DY: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 1) buffer DA { float da[]; };
layout(std430, binding = 2) buffer DB { float db[]; };
layout(push_constant) uniform Push { uint n, dy_off, da_off, db_off, acc_a, acc_b, has_b; };
void main() {
    const uint i = gl_GlobalInvocationID.x;
    if (i >= n) return;
    const float g = texelFetch(dy_t, int(dy_off + i)).x;
    da[da_off + i] = acc_a != 0 ? da[da_off + i] + g : g;
    if (has_b != 0) db[db_off + i] = acc_b != 0 ? db[db_off + i] + g : g;
}
