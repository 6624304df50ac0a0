#version 450
// tests/test_fmath.cpp: common/fmath.glsl and the built-ins it replaces, on the same arguments.
//   in[i]  = (x, y, hi, lo)
//   out[i] = (sin_acc x, cos_acc x, log_acc y, exp2_acc(hi, lo), sin x, cos x, log y, exp2(hi + lo))
// Reference: the C library's double sin, cos, log, exp2; tests: tests/test_fmath.cpp
//   (FmathMatchesDoubleWhereTheBuiltinsNeedNot)
#include "common/fmath.glsl"
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer In { vec4 args[]; };
layout(std430, binding = 1) writeonly buffer Out { float res[]; };
layout(push_constant) uniform P { uint n; };
void main() {
    const uint i = gl_GlobalInvocationID.x;
    if (i >= n) return;
    const vec4 a = args[i];
    float s, c;
    sincos_acc(a.x, s, c);
    res[8u * i + 0u] = s;
    res[8u * i + 1u] = c;
    res[8u * i + 2u] = log_acc(a.y);
    res[8u * i + 3u] = exp2_acc(a.z, a.w);
    res[8u * i + 4u] = sin(a.x);
    res[8u * i + 5u] = cos(a.x);
    res[8u * i + 6u] = log(a.y);
    res[8u * i + 7u] = exp2(a.z + a.w);
}
