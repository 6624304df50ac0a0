// Colour maps, returning sRGB-encoded colours (every target is UNORM; see engine/frame_target.hpp).
//   grey(v)       = (v, v, v)
//   viridis(v)    = piecewise-linear through viridis at v = 0, ¼, ½, ¾, 1: #440154 #3b528b #21918c #5ec962 #fde725
//   diverging(u)  = u ∈ [−1, 1]: blue #3b4cc0 at −1, light grey #eeeeee at 0, red #b40426 at +1, piecewise linear
// Reference: the maps in double in tests/test_render.cpp (ref_map); tests: tests/test_render.cpp
//   (TilePassMatchesReferenceForEveryMapAndOddLayouts)
const uint MAP_GREY = 0u, MAP_VIRIDIS = 1u, MAP_DIVERGING = 2u;

vec3 viridis(float v) {
    const vec3 k[5] = vec3[5](vec3(68, 1, 84), vec3(59, 82, 139), vec3(33, 145, 140), vec3(94, 201, 98),
                              vec3(253, 231, 37));
    float x = clamp(v, 0.0, 1.0) * 4.0;
    int i = min(int(x), 3);
    return mix(k[i], k[i + 1], x - float(i)) / 255.0;
}

vec3 diverging(float u) {
    const vec3 blue = vec3(59, 76, 192) / 255.0, mid = vec3(238) / 255.0, red = vec3(180, 4, 38) / 255.0;
    u = clamp(u, -1.0, 1.0);
    return u < 0.0 ? mix(mid, blue, -u) : mix(mid, red, u);
}

// s: the sample value; [lo, hi]: the range shown (diverging: symmetric, ±max(|lo|, |hi|)).
vec3 colour_map(uint map, float s, float lo, float hi) {
    if (map == MAP_DIVERGING) return diverging(s / max(max(abs(lo), abs(hi)), 1e-20));
    float v = clamp((s - lo) / max(hi - lo, 1e-20), 0.0, 1.0);
    return map == MAP_VIRIDIS ? viridis(v) : vec3(v);
}
