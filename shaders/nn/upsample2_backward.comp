#version 450
// Nearest upsampling ×2 backward. x[n,c,i,j] is copied to the four y[n,c,2i+a,2j+b], so
//   dx[n,c,i,j] (+)= Σ_{a,b∈{0,1}} dy[n,c,2i+a,2j+b]
layout(local_size_x = 256) in;
layout(binding = 0) uniform samplerBuffer dy_t;  // DY: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 1) buffer DX { float dx[]; };
layout(push_constant) uniform Push { uint NC, H, W, dy_off, dx_off, accumulate; };
void main() {
    const uint idx = gl_GlobalInvocationID.x;
    if (idx >= NC * H * W) return;
    const uint p = idx / (H * W), r = idx % (H * W), i = r / W, j = r % W;
    const uint o = dy_off + (p * 2 * H + 2 * i) * 2 * W + 2 * j;
    const float g = (texelFetch(dy_t, int(o)).x + texelFetch(dy_t, int(o + 1)).x) + (texelFetch(dy_t, int(o + 2 * W)).x + texelFetch(dy_t, int(o + 2 * W + 1)).x);
    dx[dx_off + idx] = accumulate != 0 ? dx[dx_off + idx] + g : g;
}
