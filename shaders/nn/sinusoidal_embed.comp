#version 450
// Sinusoidal embedding of a continuous scalar per sample (the noise level), D = 2·half, half ≥ 2:
//   f_k = 1000^(k/(half−1)),  k = 0 … half−1   (geometric from 1 to 1000)
//   e[n,k] = sin(scale·level[n]·f_k),   e[n,half+k] = cos(scale·level[n]·f_k)
// (Vaswani et al. 2017 §3.5 use the reciprocal frequencies for positions; a continuous level wants the
// lowest frequency 1 so that unit changes of scale·level are resolved and the highest 1000 for fine ones.)
// No parameters, no backward: the level is an input, not something trained.
// f_k = 2^(k·c) with c = step_hi + step_lo (diffusion/model/sinusoid.hpp) and sin/cos from common/fmath.glsl:
// the built-ins miss by up to 8e-4 at a = 1000 on some drivers (see there).
// Reference: tests/reference/embed_loss_optim.cpp (ref::sinusoidal_forward); tests: tests/test_nn_layers.cpp
//   (sinusoidal rows, tests/nn_runners_misc.cpp run_sinusoidal)
#include "common/fmath.glsl"
layout(local_size_x = 64) in;
layout(binding = 0) uniform samplerBuffer level_t;  // Level: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 1) writeonly buffer E { float e[]; };
layout(push_constant) uniform Push { uint N, half_d, level_off, e_off; float scale, step_hi, step_lo; };
void main() {
    const uint idx = gl_GlobalInvocationID.x;
    if (idx >= N * half_d) return;
    const uint n = idx / half_d, k = idx % half_d;
    const float f = exp2_acc(float(k) * step_hi, float(k) * step_lo);  // k·step_hi is exact
    const float a = scale * texelFetch(level_t, int(level_off + n)).x * f;
    float s, c;
    sincos_acc(a, s, c);
    e[e_off + n * 2 * half_d + k] = s;
    e[e_off + n * 2 * half_d + half_d + k] = c;
}
