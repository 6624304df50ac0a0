#version 450
// Elementwise add (the residual connection): y = a + b over n values. y may alias a or b.
// Reference: tests/reference/elementwise.cpp (ref::add_forward); tests: tests/test_nn_layers.cpp (add rows,
//   tests/nn_runners_misc.cpp run_add)
layout(local_size_x = 256) in;
layout(binding = 0) uniform samplerBuffer a_t;  // A: read as texels (see docs/PERFORMANCE.md)
layout(binding = 1) uniform samplerBuffer b_t;  // B: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint n, a_off, b_off, y_off; };
void main() {
    const uint i = gl_GlobalInvocationID.x;
    if (i >= n) return;
    y[y_off + i] = texelFetch(a_t, int(a_off + i)).x + texelFetch(b_t, int(b_off + i)).x;
}
