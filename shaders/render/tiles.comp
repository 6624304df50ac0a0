#version 450
// Tiles: N float images [N, C, H, W] (channel 0 drawn) laid out as a grid of `cols` columns with `gap`
// background pixels around every tile, written as packed RGBA8 (R in the low byte), sRGB-encoded:
//   grid size  GW = cols·W + (cols + 1)·gap,  GH = rows·H + (rows + 1)·gap
//   grid pixel (x, y): u = x − gap, tx = u div (W + gap), px = u mod (W + gap) (likewise y) — inside tile
//   k = ty·cols + tx when px < W, py < H and k < N; the colour is colour_map(src[k, 0, py, px]).
// A NaN or ±Inf sample is drawn magenta, so a broken kernel shows instead of hiding as black.
// Reference: the layout and colour maps in double in tests/test_render.cpp (ref_grid, ref_map); tests:
//   tests/test_render.cpp (TilePassMatchesReferenceForEveryMapAndOddLayouts)
#include "render/colormap.glsl"
layout(local_size_x = 16, local_size_y = 16) in;
layout(std430, binding = 0) readonly buffer Src { float src[]; };
layout(std430, binding = 1) writeonly buffer Dst { uint dst[]; };
layout(push_constant) uniform P {
    uint src_offset;            // in floats
    uint count, channels, height, width;
    uint cols, rows, gap;
    uint map;
    float lo, hi;
    uint background;            // packed RGBA8
};
void main() {
    uint gw = cols * width + (cols + 1) * gap, gh = rows * height + (rows + 1) * gap;
    uvec2 g = gl_GlobalInvocationID.xy;
    if (g.x >= gw || g.y >= gh) return;
    uint out_colour = background;
    if (g.x >= gap && g.y >= gap) {
        uint ux = g.x - gap, uy = g.y - gap;
        uint tx = ux / (width + gap), px = ux % (width + gap);
        uint ty = uy / (height + gap), py = uy % (height + gap);
        uint k = ty * cols + tx;
        if (px < width && py < height && tx < cols && k < count) {
            float s = src[src_offset + ((k * channels) * height + py) * width + px];
            vec3 c = (isnan(s) || isinf(s)) ? vec3(1, 0, 1) : colour_map(map, s, lo, hi);
            out_colour = packUnorm4x8(vec4(c, 1));
        }
    }
    dst[g.y * gw + g.x] = out_colour;
}
