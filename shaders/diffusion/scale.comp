#version 450
// shaders/diffusion/scale.comp — y ← a·y over n floats (e.g. a model made deliberately wrong in a test: a = −1
// flips the sign of its prediction).
// Reference: none (no CPU reference: a test tool, the deliberately wrong model of tests/test_samplers.cpp); tests:
//   tests/test_samplers.cpp (BoundsCatchABrokenModel)
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer Y { float y[]; };
layout(push_constant) uniform P { uint n; float a; };
void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i < n) y[i] *= a;
}
