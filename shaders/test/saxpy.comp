#version 450
// y = a·x + y — the engine's round-trip test.
// Reference: the CPU saxpy in tests/test_engine.cpp; tests: tests/test_engine.cpp (SaxpyMatchesCpuAtOddSizes)
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) buffer Y { float y[]; };
layout(push_constant) uniform P { uint n; float a; };
void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= n) return;
    y[i] = a * x[i] + y[i];
}
