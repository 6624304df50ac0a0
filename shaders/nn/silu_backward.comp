#version 450
// SiLU backward. y = x·σ(x), σ' = σ(1 − σ)  ⇒  dy/dx = σ + x·σ(1 − σ) = σ·(1 + x·(1 − σ))
//   dx (+)= dy ⊙ σ(x)·(1 + x·(1 − σ(x)))          (x saved from the forward pass)
// Reference: tests/reference/elementwise.cpp (ref::silu_backward); tests: tests/test_nn_layers.cpp (silu rows,
//   tests/nn_runners_misc.cpp run_silu)
layout(local_size_x = 256) in;
layout(binding = 0) uniform samplerBuffer x_t;  // X: read as texels (see docs/PERFORMANCE.md)
layout(binding = 1) uniform samplerBuffer dy_t;  // DY: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 2) buffer DX { float dx[]; };
layout(push_constant) uniform Push { uint n, x_off, dy_off, dx_off, accumulate; };
void main() {
    const uint i = gl_GlobalInvocationID.x;
    if (i >= n) return;
    const float v = texelFetch(x_t, int(x_off + i)).x;
    const float s = 1.0 / (1.0 + exp(-v));
    const float g = texelFetch(dy_t, int(dy_off + i)).x * s * (1.0 + v * (1.0 - s));
    dx[dx_off + i] = accumulate != 0 ? dx[dx_off + i] + g : g;
}
