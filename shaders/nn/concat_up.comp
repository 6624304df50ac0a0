#version 450
// The UNet's upsampling and skip concatenation without the upsampled tensor: a [N,Ca,H/2,W/2] enters y
// [N,Ca+Cb,H,W] upsampled ×2 (nearest), b [N,Cb,H,W] after it:
//   y[n,c,i,j] = a[n,c,⌊i/2⌋,⌊j/2⌋] (c < Ca),   y[n,Ca+c,i,j] = b[n,c,i,j]
// and back: da[n,c,i,j] (+)= Σ_{a,b∈{0,1}} dy[n,c,2i+a,2j+b] (in pairs of rows), db[n,c] (+)= dy[n,Ca+c].
// With Cb = 0 and N = 1, modes 0 and 2 are the plain upsampling ×2 of Ca planes and its backward (nn::Upsample2).
// Four MODEs, one dispatch each, so that no invocation runs the other part's code (llvmpipe executes both sides
// of a branch): 0 writes y's a part, one invocation per a element and its 2×2 block; 1 copies b into y; 2 sums
// da, one invocation per da element; 3 copies dy's b part into db. VEC4 (modes 1 and 3, CPU drivers, when Cb·HW,
// Ca·HW and the offsets are multiples of 4): 4 values an invocation, RGBA32F texels in, vec4 stores out.
// Reference: tests/reference/elementwise.cpp (ref::upsample2_forward/backward, ref::concat_forward/backward); tests:
//   tests/test_nn_layers.cpp (concat_up and upsample2 rows, tests/nn_runners_misc.cpp)
layout(local_size_x = 256) in;
layout(constant_id = 0) const uint MODE = 0;
layout(constant_id = 1) const bool VEC4 = false;
layout(binding = 0) uniform samplerBuffer in_t;               // a (0), b (1), dy (2, 3)
layout(binding = 1) uniform samplerBuffer in4_t;              // the same as RGBA32F texels (VEC4)
layout(std430, binding = 2) buffer Out { float o[]; };        // y (0, 1), da (2), db (3)
layout(std430, binding = 3) buffer Out4 { vec4 o4[]; };       // the same as vec4 (VEC4)
layout(push_constant) uniform Push { uint N, Ca, Cb, H, W, in_off, out_off, accumulate; };
void main() {
    const uint idx = gl_GlobalInvocationID.x, HW = H * W, h = H / 2, w = W / 2;
    if (MODE == 0 || MODE == 2) {  // one a (da) element [n, c, i, j] of h × w
        if (idx >= N * Ca * h * w) return;
        const uint p = idx / (h * w), r = idx % (h * w), i = r / w, j = r % w, n = p / Ca, c = p % Ca;
        const uint yb = (n * (Ca + Cb) + c) * HW + 2 * i * W + 2 * j;  // y's (dy's) element [n, c, 2i, 2j]
        if (MODE == 0) {
            const float v = texelFetch(in_t, int(in_off + idx)).x;
            const uint d = out_off + yb;
            o[d] = v;
            o[d + 1] = v;
            o[d + W] = v;
            o[d + W + 1] = v;
        } else {
            const uint s = in_off + yb;
            const float g = (texelFetch(in_t, int(s)).x + texelFetch(in_t, int(s + 1)).x) +
                            (texelFetch(in_t, int(s + W)).x + texelFetch(in_t, int(s + W + 1)).x);
            const uint d = out_off + idx;
            o[d] = accumulate != 0 ? o[d] + g : g;
        }
        return;
    }
    // modes 1 and 3: b's part, element (or texel) k of sample n; y's (dy's) b part of sample n starts at Ca·HW
    const uint per_b = VEC4 ? Cb * HW / 4 : Cb * HW, per_y = VEC4 ? (Ca + Cb) * HW / 4 : (Ca + Cb) * HW;
    const uint skip = VEC4 ? Ca * HW / 4 : Ca * HW;
    if (idx >= N * per_b) return;
    const uint n = idx / per_b, k = idx % per_b;
    const uint ys = n * per_y + skip + k;  // y's (dy's) element or texel
    const uint src = MODE == 1 ? idx : ys, dst = MODE == 1 ? ys : idx;
    if (VEC4) {
        const vec4 v = texelFetch(in4_t, int(in_off / 4 + src));
        const uint d = out_off / 4 + dst;
        o4[d] = MODE == 3 && accumulate != 0 ? o4[d] + v : v;
    } else {
        const float v = texelFetch(in_t, int(in_off + src)).x;
        const uint d = out_off + dst;
        o[d] = MODE == 3 && accumulate != 0 ? o[d] + v : v;
    }
}
