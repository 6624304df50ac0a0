#version 450
// The interpolated vertex colour, unchanged (already sRGB-encoded).
// Reference: none (no CPU reference: render-only); tests: tests/test_render.cpp (ArrowsDrawWhereTheDataSays)
layout(location = 0) in vec4 v_colour;
layout(location = 0) out vec4 colour;
void main() { colour = v_colour; }
