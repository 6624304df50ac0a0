// Push constants of render/quad.vert + render/image.frag (one block, both stages).
// Reference: none (no CPU reference: render-only push constants); tests: tests/test_render.cpp
//   (TileQuadUpscalesNearestNeighbourPixelForPixel)
layout(push_constant) uniform P {
    vec4 rect;          // x, y, w, h of the quad in framebuffer pixels (y down)
    vec2 target;        // framebuffer size in pixels
    uint image_w, image_h;  // the packed RGBA8 image's size
    float opacity;
};
