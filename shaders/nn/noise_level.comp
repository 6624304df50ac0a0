#version 450
// The network's view of the noise level: u = (clamp(λ, lo, hi) − lo) / (hi − lo) ∈ [0, 1], λ = log-SNR.
// Clamping keeps ±∞ (ᾱ = 0 with zero-terminal-SNR, ᾱ = 1) finite; u feeds the sinusoidal embedding.
// No backward: the level is an input.
// Reference: tests/reference/unet_ref.cpp (ref::UNetRef::forward, the level clamp); tests: tests/test_unet.cpp
//   (ForwardAndGradientsMatchTheReference)
layout(local_size_x = 64) in;
layout(binding = 0) uniform samplerBuffer lambda_t;  // L: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 1) writeonly buffer U { float u[]; };
layout(push_constant) uniform P { uint n, in_off, out_off; float lo, hi; };
void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= n) return;
    float l = texelFetch(lambda_t, int(in_off + i)).x;
    l = isnan(l) ? lo : clamp(l, lo, hi);
    u[out_off + i] = (l - lo) / (hi - lo);
}
