#version 450
// Broadcast add of a per-sample, per-channel vector (the conditioning, projected to C channels) over H, W:
//   y[n,c,h,w] = x[n,c,h,w] + v[n,c]          x, y [N,C,H,W], v [N,C]
// In place (y = x) is allowed.
// Reference: tests/reference/elementwise.cpp (ref::bias_add_forward); tests: tests/test_nn_layers.cpp (bias_add rows,
//   tests/nn_runners_misc.cpp run_bias_add)
layout(local_size_x = 256) in;
layout(binding = 0) uniform samplerBuffer x_t;  // X: read as texels (see docs/PERFORMANCE.md)
layout(binding = 1) uniform samplerBuffer v_t;  // V: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint NC, HW, x_off, v_off, y_off; };
void main() {
    const uint idx = gl_GlobalInvocationID.x;
    if (idx >= NC * HW) return;
    y[y_off + idx] = texelFetch(x_t, int(x_off + idx)).x + texelFetch(v_t, int(v_off + idx / HW)).x;
}
