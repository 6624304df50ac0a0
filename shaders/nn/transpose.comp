#version 450
// y [C,R] = xᵀ for x [R,C]:  y[c, r] = x[r, c]. One invocation per element (the small tensors it serves —
// the 2-D denoiser's [N,2] ↔ [2,N] — need no tiling).
// Reference: tests/reference/mlp2d_ref.cpp (ref::mlp2d_forward/backward, through the 2-D denoiser); tests:
//   tests/test_mlp2d.cpp (ForwardAndBackwardMatchTheReference)
layout(local_size_x = 64) in;
layout(binding = 0) uniform samplerBuffer x_t;
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint R, C, x_off, y_off; };
void main() {
    const uint i = gl_GlobalInvocationID.x;  // index into y
    if (i >= R * C) return;
    const uint c = i / R, r = i % R;
    y[y_off + i] = texelFetch(x_t, int(x_off + r * C + c)).x;
}
