#version 450
// For the RNG test: raw Philox words and the Gaussian draw, element by element.
// Reference: engine/rng.hpp (the C++ twin); tests: tests/test_rng.cpp (GpuEqualsCpuBitForBitAndMomentsAreNormal)
#include "common/rng.glsl"
layout(local_size_x = 64) in;
layout(std430, binding = 0) writeonly buffer W { uint words[]; };
layout(std430, binding = 1) writeonly buffer N { float normals[]; };
layout(push_constant) uniform P { uvec2 seed; uint stream; uint step; uint n; };
void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= n) return;
    uvec4 w = philox4x32_10(rng_counter(stream, step, i), seed);
    words[i] = w[i & 3u];
    normals[i] = gaussian(seed, stream, step, i);
}
