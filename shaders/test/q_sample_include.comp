#version 450
// tests/test_q_sample_include.cpp: the functions of diffusion/q_sample.glsl, element by element.
//   in[i]  = (t, pick, x₀, ε)
//   out[i] = (cosine_log_snr(t), λ = draw_training_log_snr(t, pick, lmin, lmax), q_sample(a, b, x₀, ε),
//             v_target(a, b, x₀, ε)) with (a, b) = signal_noise_of(λ)
// Reference: the double closed forms in tests/test_q_sample_include.cpp and the cosine schedule's levels
//   (diffusion/schedule/schedule.cpp compute_levels, shaders/diffusion/schedule.comp); tests: tests/test_q_sample_include.cpp
#include "diffusion/q_sample.glsl"
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer In { vec4 args[]; };
layout(std430, binding = 1) writeonly buffer Out { vec4 res[]; };
layout(push_constant) uniform P { uint n; float lmin, lmax; };
void main() {
    const uint i = gl_GlobalInvocationID.x;
    if (i >= n) return;
    const vec4 a = args[i];
    const float l = draw_training_log_snr(a.x, a.y, lmin, lmax);
    const vec2 ab = signal_noise_of(l);
    res[i] = vec4(cosine_log_snr(a.x), l, q_sample(ab.x, ab.y, a.z, a.w), v_target(ab.x, ab.y, a.z, a.w));
}
