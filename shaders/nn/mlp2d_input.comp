#version 450
// The 2-D denoiser's input (diffusion/model/mlp2d.hpp), channel-major so its linear layers run as 1×1
// convolutions over a [1, C, 1, N] tensor (the batch is the row of pixels):
//   u = (clamp(λ, lo, hi) − lo)/(hi − lo)   (NaN → lo, as nn/noise_level.comp)
//   h[0, n] = x[n, 0],  h[1, n] = x[n, 1]
//   h[2 + k, n] = sin(scale·u·f_k),  h[2 + half + k, n] = cos(scale·u·f_k),  f_k = 1000^(k/(half−1))
// — the noise level, the sinusoidal embedding (nn/sinusoidal_embed.comp) and the concatenation in one pass.
// One invocation per sample. No backward: x and λ are data. f_k and sin/cos as nn/sinusoidal_embed.comp.
// Reference: tests/reference/mlp2d_ref.cpp (ref::mlp2d_forward, its input); tests: tests/test_mlp2d.cpp
//   (ForwardAndBackwardMatchTheReference)
#include "common/fmath.glsl"
layout(local_size_x = 64) in;
layout(binding = 0) uniform samplerBuffer x_t;      // [N,2]
layout(binding = 1) uniform samplerBuffer level_t;  // [N]
layout(std430, binding = 2) writeonly buffer H { float h[]; };  // [2 + 2·half, N]
layout(push_constant) uniform P { uint N, half_d, x_off, level_off, h_off; float scale, lo, hi, step_hi, step_lo; };
void main() {
    const uint n = gl_GlobalInvocationID.x;
    if (n >= N) return;
    float l = texelFetch(level_t, int(level_off + n)).x;
    l = isnan(l) ? lo : clamp(l, lo, hi);
    const float u = (l - lo) / (hi - lo);
    h[h_off + n] = texelFetch(x_t, int(x_off + 2u * n)).x;
    h[h_off + N + n] = texelFetch(x_t, int(x_off + 2u * n + 1u)).x;
    for (uint k = 0u; k < half_d; ++k) {
        const float a = scale * u * exp2_acc(float(k) * step_hi, float(k) * step_lo);
        float s, c;
        sincos_acc(a, s, c);
        h[h_off + (2u + k) * N + n] = s;
        h[h_off + (2u + half_d + k) * N + n] = c;
    }
}
