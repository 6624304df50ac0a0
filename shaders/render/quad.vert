#version 450
// A rectangle in framebuffer pixels from 6 vertices (two triangles), no vertex buffer:
//   corner c ∈ {(0,0),(1,0),(0,1),(1,0),(1,1),(0,1)},  pixel = rect.xy + c·rect.wh,  ndc = pixel / target · 2 − 1
// Reference: none (no CPU reference: render-only); tests: tests/test_render.cpp
//   (TileQuadUpscalesNearestNeighbourPixelForPixel)
#include "render/quad_push.glsl"
layout(location = 0) out vec2 uv;
void main() {
    const vec2 corners[6] = vec2[6](vec2(0, 0), vec2(1, 0), vec2(0, 1), vec2(1, 0), vec2(1, 1), vec2(0, 1));
    vec2 c = corners[gl_VertexIndex];
    uv = c;
    vec2 px = rect.xy + c * rect.zw;
    gl_Position = vec4(px / target * 2.0 - 1.0, 0.0, 1.0);
}
