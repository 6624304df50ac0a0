#version 450
// Elementwise add (the residual connection): y = a + b over n values. y may alias a or b.
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint n, a_off, b_off, y_off; };
void main() {
    const uint i = gl_GlobalInvocationID.x;
    if (i >= n) return;
    y[y_off + i] = a[a_off + i] + b[b_off + i];
}
