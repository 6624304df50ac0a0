#version 450
// shaders/render/fieldimg_overlay.comp — the per-pixel direction as a signed heat map to lay over the x_t grid:
//   s = x̂₀ − x_t (mode 0: where each pixel still has to go) or s = the prediction buffer as it is (mode 1: the score
//   ∇log p_t, when the prediction view is "score"); u = clamp(s / range, −1, 1);
//   colour = the diverging map's end for sign(u) (red #b40426: brighter, blue #3b4cc0: darker), alpha = max_alpha·|u|,
//   so a pixel the model leaves alone stays transparent and x_t shows through. Packed RGBA8 (R in the low byte).
// The layout is render/tiles.comp's: N tiles of W×H in `cols` columns with `gap` transparent pixels around each:
//   grid pixel (x, y): u = x − gap, tx = u div (W + gap), px = u mod (W + gap) (likewise y), tile k = ty·cols + tx.
// A NaN or ±Inf sample is opaque magenta, so a broken kernel shows.
// Reference: the double heat map in tests/test_fieldimg.cpp (FieldImgProjectionsAndHeatMapMatchADoubleReference);
//   tests: tests/test_fieldimg.cpp
#include "render/colormap.glsl"
layout(local_size_x = 16, local_size_y = 16) in;
layout(binding = 0) uniform samplerBuffer x_t;
layout(binding = 1) uniform samplerBuffer x0_hat;
layout(binding = 2) uniform samplerBuffer prediction;
layout(std430, binding = 3) writeonly buffer Dst { uint dst[]; };
layout(push_constant) uniform P {
    uint count, cols, rows, gap, width, height, mode;
    float range, max_alpha;
};
void main() {
    uint gw = cols * width + (cols + 1u) * gap, gh = rows * height + (rows + 1u) * gap;
    uvec2 g = gl_GlobalInvocationID.xy;
    if (g.x >= gw || g.y >= gh) return;
    vec4 c = vec4(0.0);
    if (g.x >= gap && g.y >= gap) {
        uint ux = g.x - gap, uy = g.y - gap;
        uint tx = ux / (width + gap), px = ux % (width + gap);
        uint ty = uy / (height + gap), py = uy % (height + gap);
        uint k = ty * cols + tx;
        if (px < width && py < height && tx < cols && k < count) {
            int i = int((k * height + py) * width + px);
            float s = mode == 0u ? texelFetch(x0_hat, i).r - texelFetch(x_t, i).r : texelFetch(prediction, i).r;
            if (isnan(s) || isinf(s)) {
                c = vec4(1, 0, 1, 1);
            } else {
                float u = clamp(s / max(range, 1e-20), -1.0, 1.0);
                c = vec4(diverging(u < 0.0 ? -1.0 : 1.0), max_alpha * abs(u));
            }
        }
    }
    dst[g.y * gw + g.x] = packUnorm4x8(c);
}
