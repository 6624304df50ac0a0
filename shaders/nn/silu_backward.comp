#version 450
// SiLU backward. y = x·σ(x), σ' = σ(1 − σ)  ⇒  dy/dx = σ + x·σ(1 − σ) = σ·(1 + x·(1 − σ))
//   dx (+)= dy ⊙ σ(x)·(1 + x·(1 − σ(x)))          (x saved from the forward pass)
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) buffer DX { float dx[]; };
layout(push_constant) uniform Push { uint n, x_off, dy_off, dx_off, accumulate; };
void main() {
    const uint i = gl_GlobalInvocationID.x;
    if (i >= n) return;
    const float v = x[x_off + i];
    const float s = 1.0 / (1.0 + exp(-v));
    const float g = dy[dy_off + i] * s * (1.0 + v * (1.0 - s));
    dx[dx_off + i] = accumulate != 0 ? dx[dx_off + i] + g : g;
}
