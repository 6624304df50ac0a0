#version 450
// Instanced arrows, segments or dots from a storage buffer of vec4 per instance, in data coordinates.
//   data → pixels: px = rect.x + (x − x_lo)/(x_hi − x_lo)·rect.w,  py = rect.y + rect.h − (y − y_lo)/(y_hi − y_lo)·rect.h
//   9 vertices per instance: 0–5 a quad of `thickness` px along a → b (the shaft; stops short of a head),
//   6–8 the head: tip b, base b − t·head ± n·head/2 with t = (b − a)/|b − a|, n = t rotated by 90°.
//   A segment has no head (drawn with 6 vertices only); a dot is a square centred on a.
// Reference: none (no CPU reference: render-only); tests: tests/test_render.cpp (ArrowsDrawWhereTheDataSays)
#include "render/arrows_push.glsl"
#include "render/colormap.glsl"
layout(std430, binding = 0) readonly buffer Items { vec4 items[]; };
layout(std430, binding = 1) readonly buffer Weights { float weight[]; };
layout(location = 0) out vec4 v_colour;

vec2 to_px(vec2 p) {
    vec2 f = (p - domain.xy) / (domain.zw - domain.xy);
    return vec2(rect.x + f.x * rect.z, rect.y + rect.w - f.y * rect.w);
}

void main() {
    vec4 it = items[gl_InstanceIndex];
    vec2 a = to_px(it.xy);
    vec2 b = mode == 0u ? to_px(it.xy + scale * it.zw) : mode == 1u ? to_px(it.zw) : a + vec2(thickness * 0.5, 0);
    if (mode == 2u) a -= vec2(thickness * 0.5, 0);
    float len = length(b - a);
    vec2 t = len > 1e-6 ? (b - a) / len : vec2(1, 0);
    vec2 n = vec2(-t.y, t.x);
    float h = mode == 0u ? min(head, len) : 0.0;
    vec2 shaft_end = b - t * h * 0.8;
    float half_w = thickness * 0.5;
    vec2 p;
    uint v = gl_VertexIndex;
    if (v < 6u) {
        // corners (along, across) of the two triangles: (0,−1) (1,−1) (0,1) | (1,−1) (1,1) (0,1)
        float along = (v == 1u || v == 3u || v == 4u) ? 1.0 : 0.0;
        float across = (v == 2u || v == 4u || v == 5u) ? 1.0 : -1.0;
        p = mix(a, shaft_end, along) + n * (half_w * across);
    } else if (v == 6u) {
        p = h > 0.0 ? b : shaft_end;
    } else {
        p = h > 0.0 ? b - t * h + n * (v == 7u ? 0.5 : -0.5) * h : shaft_end;
    }
    gl_Position = vec4(p / target * 2.0 - 1.0, 0.0, 1.0);
    v_colour = colour;
    if ((flags & 1u) != 0u) v_colour.rgb = viridis(length(it.zw - (mode == 1u ? it.xy : vec2(0))) / max_length);
    if ((flags & 2u) != 0u) v_colour.a *= weight[gl_InstanceIndex];
}
