// Push constants of render/arrows.vert + render/flat.frag.
// Reference: none (no CPU reference: render-only push constants); tests: tests/test_render.cpp
//   (ArrowsDrawWhereTheDataSays)
layout(push_constant) uniform P {
    vec4 rect;          // the plot's x, y, w, h in framebuffer pixels (y down)
    vec4 domain;        // data x_lo, y_lo, x_hi, y_hi shown in the rect (data y up)
    vec4 colour;        // sRGB colour and alpha; with colour_by_length the rgb comes from viridis
    vec2 target;        // framebuffer size in pixels
    float scale;        // arrow: data units of shaft per unit of (dx, dy)
    float thickness;    // px
    float head;         // arrow head length in px (0: none)
    float max_length;   // colour_by_length: |d| mapped to viridis(|d| / max_length)
    uint mode;          // 0 arrow (x, y, dx, dy), 1 segment (x0, y0, x1, y1), 2 dot (x, y, ·, ·)
    uint flags;         // bit 0: colour by length; bit 1: alpha *= weight[instance]
};
