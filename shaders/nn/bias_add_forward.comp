#version 450
// Broadcast add of a per-sample, per-channel vector (the conditioning, projected to C channels) over H, W:
//   y[n,c,h,w] = x[n,c,h,w] + v[n,c]          x, y [N,C,H,W], v [N,C]
// In place (y = x) is allowed.
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer V { float v[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint NC, HW, x_off, v_off, y_off; };
void main() {
    const uint idx = gl_GlobalInvocationID.x;
    if (idx >= NC * HW) return;
    y[y_off + idx] = x[x_off + idx] + v[v_off + idx / HW];
}
