#version 450
// Microbenchmark of load kinds on the device (tests/test_nn_perf.cpp, disabled): each invocation sums L loads.
// MODE 0: storage buffer, per-lane address; 1: storage buffer, subgroup-uniform address; 2: storage vec4 per lane;
// 3: shared memory per lane; 4: FMAs only (the loop and the FMA, no load); 5: uniform buffer per lane;
// 6: uniform buffer, uniform address; 7: samplerBuffer R32F texelFetch per lane; 8: imageBuffer r32f imageLoad;
// 9: samplerBuffer RGBA32F per lane (4 floats); 10: storage buffer store per lane; 11: imageStore r32f;
// 12: imageStore rgba32f (4 floats); 13: storage buffer vec4 store per lane (4 floats).
// Reference: none (no CPU reference: a microbenchmark); tests: tests/test_nn_perf.cpp (disabled)
#extension GL_EXT_control_flow_attributes : enable
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint MODE = 0;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer X4 { vec4 x4[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(std430, binding = 2) writeonly buffer Y4 { vec4 y4[]; };  // the same buffer, 4 floats an access
layout(binding = 7, r32f) uniform writeonly imageBuffer ob;
layout(binding = 8, rgba32f) uniform writeonly imageBuffer ob4;
layout(push_constant) uniform P { uint L, mask; };
layout(std140, binding = 3) uniform U { vec4 ub[4096]; };
layout(binding = 4) uniform samplerBuffer tb;
layout(binding = 5, r32f) uniform readonly imageBuffer ib;
layout(binding = 6) uniform samplerBuffer tb4;
shared float sh[1024];
void main() {
    const uint lane = gl_LocalInvocationID.x;
    if (MODE == 3) {
        for (uint i = lane; i < 1024; i += 64) sh[i] = x[i];
        barrier();
    }
    float acc = 0.0, acc2 = 1.0;
    uint base = gl_WorkGroupID.x * 64;
    for (uint i = 0; i < L; i += 8) {
        [[unroll]] for (uint u = 0; u < 8; ++u) {
            uint k = i + u;
            if (MODE == 0) acc += x[(base + k * 67 + lane) & mask];
            if (MODE == 1) acc += x[(base + k * 67) & mask];
            if (MODE == 2) { vec4 v = x4[((base + k * 67 + lane) & mask) >> 2]; acc += v.x + v.y + v.z + v.w; }
            if (MODE == 3) acc += sh[(k * 67 + lane) & 1023u];
            if (MODE == 5) { uint j = (base + k * 67 + lane) & 16383u; acc += ub[j >> 2][j & 3]; }
            if (MODE == 6) { uint j = (base + k * 67) & 16383u; acc += ub[j >> 2][j & 3]; }
            if (MODE == 7) acc += texelFetch(tb, int((base + k * 67 + lane) & mask)).x;
            if (MODE == 8) acc += imageLoad(ib, int((base + k * 67 + lane) & mask)).x;
            if (MODE == 9) { vec4 v = texelFetch(tb4, int(((base + k * 67 + lane) & mask) >> 2)); acc += v.x + v.y + v.z + v.w; }
            if (MODE == 10) y[(base + k * 67 + lane) & 16383u] = acc;
            if (MODE == 11) imageStore(ob, int((base + k * 67 + lane) & 16383u), vec4(acc));
            if (MODE == 12) imageStore(ob4, int((base + k * 67 + lane) & 4095u), vec4(acc));
            if (MODE == 13) y4[(base + k * 67 + lane) & 4095u] = vec4(acc);
            if (MODE >= 10) acc += 1.0;
            if (MODE == 4) { acc = fma(acc, 0.999, acc2); acc2 = fma(acc2, 0.999, acc); }
        }
    }
    y[gl_GlobalInvocationID.x] = acc + acc2;
}
