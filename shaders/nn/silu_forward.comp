#version 450
// SiLU (swish): y = x·σ(x), σ(x) = 1/(1 + e^(−x)). Elementwise over n values.
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint n, x_off, y_off; };
void main() {
    const uint i = gl_GlobalInvocationID.x;
    if (i >= n) return;
    const float v = x[x_off + i];
    y[y_off + i] = v / (1.0 + exp(-v));
}
