#version 450
// Nearest-neighbour upscale of a packed RGBA8 image (R in the low byte) over the quad:
//   texel = min(floor(uv · size), size − 1),  colour = unpack(image[texel.y · W + texel.x])
// Reference: none (no CPU reference: render-only, checked pixel for pixel against the image it upscales); tests:
//   tests/test_render.cpp (TileQuadUpscalesNearestNeighbourPixelForPixel)
#include "render/quad_push.glsl"
layout(std430, binding = 0) readonly buffer Image { uint image[]; };
layout(location = 0) in vec2 uv;
layout(location = 0) out vec4 colour;
void main() {
    uvec2 size = uvec2(image_w, image_h);
    uvec2 t = min(uvec2(floor(uv * vec2(size))), size - 1u);
    colour = unpackUnorm4x8(image[t.y * image_w + t.x]);
    colour.a *= opacity;
}
