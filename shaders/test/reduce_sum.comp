#version 450
// Partial sums: out[g] = Σ x[i] over workgroup g's slice of WG·ITEMS elements (a tree in shared memory).
// Run twice (n -> groups -> 1) for a full reduction.
// Reference: the double sum in tests/test_engine.cpp; tests: tests/test_engine.cpp (TwoLevelReductionAtOddSizes)
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint ITEMS = 4;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer O { float o[]; };
layout(push_constant) uniform P { uint n; };
shared float part[gl_WorkGroupSize.x];
void main() {
    uint lid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
    uint base = gl_WorkGroupID.x * wg * ITEMS + lid;
    float s = 0.0;
    for (uint k = 0; k < ITEMS; ++k) {
        uint i = base + k * wg;
        if (i < n) s += x[i];
    }
    part[lid] = s;
    barrier();
    for (uint stride = wg / 2; stride > 0; stride >>= 1) {
        if (lid < stride) part[lid] += part[lid + stride];
        barrier();
    }
    if (lid == 0) o[gl_WorkGroupID.x] = part[0];
}
