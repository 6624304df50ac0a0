#version 450
// SiLU (swish): y = x·σ(x), σ(x) = 1/(1 + e^(−x)). Elementwise over n values.
// Reference: tests/reference/elementwise.cpp (ref::silu_forward); tests: tests/test_nn_layers.cpp (silu rows,
//   tests/nn_runners_misc.cpp run_silu)
layout(local_size_x = 256) in;
layout(binding = 0) uniform samplerBuffer x_t;  // X: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint n, x_off, y_off; };
void main() {
    const uint i = gl_GlobalInvocationID.x;
    if (i >= n) return;
    const float v = texelFetch(x_t, int(x_off + i)).x;
    y[y_off + i] = v / (1.0 + exp(-v));
}
