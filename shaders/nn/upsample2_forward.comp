#version 450
// Nearest-neighbour upsampling ×2 of x [N,C,H,W] to y [N,C,2H,2W]:
//   y[n,c,2i+a,2j+b] = x[n,c,i,j],  a, b ∈ {0, 1}
// One invocation per x element, writing its 2×2 block.
layout(local_size_x = 256) in;
layout(binding = 0) uniform samplerBuffer x_t;  // X: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint NC, H, W, x_off, y_off; };
void main() {
    const uint idx = gl_GlobalInvocationID.x;
    if (idx >= NC * H * W) return;
    const uint p = idx / (H * W), r = idx % (H * W), i = r / W, j = r % W;
    const float v = texelFetch(x_t, int(x_off + idx)).x;
    const uint o = y_off + (p * 2 * H + 2 * i) * 2 * W + 2 * j;
    y[o] = v;
    y[o + 1] = v;
    y[o + 2 * W] = v;
    y[o + 2 * W + 1] = v;
}
