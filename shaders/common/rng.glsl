// shaders/common/rng.glsl — Philox4x32-10 (Salmon et al. 2011), twin of engine/rng.hpp.
// philox(key, ctr) is a bijection of the 128-bit counter under a 64-bit key: element i of the draw
// (seed, stream, step) uses counter (i/4, step, stream, 0x5eed) and takes word i%4 of the block.
// Reference: engine/rng.hpp (philox4x32_10, uniform, gaussian: the C++ twin); tests: tests/test_rng.cpp (through
//   shaders/test/rng_fill.comp)
#ifndef DIFFUSCOPE_RNG_GLSL
#define DIFFUSCOPE_RNG_GLSL

#include "common/fmath.glsl"

uvec4 philox4x32_10(uvec4 ctr, uvec2 key) {
    const uint M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
    for (int r = 0; r < 10; ++r) {
        if (r > 0) key += uvec2(W0, W1);
        uint hi0, lo0, hi1, lo1;
        umulExtended(M0, ctr.x, hi0, lo0);
        umulExtended(M1, ctr.z, hi1, lo1);
        ctr = uvec4(hi1 ^ ctr.y ^ key.x, lo1, hi0 ^ ctr.w ^ key.y, lo0);
    }
    return ctr;
}

uvec4 rng_counter(uint stream, uint step, uint i) { return uvec4(i >> 2, step, stream, 0x5eedu); }

float rng_uniform(uint w) { return (float(w >> 8) + 0.5) * (1.0 / 16777216.0); }

// Box–Muller on one pair of words: r·cos θ and r·sin θ. log and sin/cos from common/fmath.glsl: a built-in
// log(u) for u near 1 may carry an absolute error of 2⁻²¹ (Vulkan allows it), which is the whole of r² there.
vec2 rng_box_muller(uint w_radius, uint w_angle) {
    const float r = sqrt(-2.0 * log_acc(rng_uniform(w_radius)));
    float s, c;
    sincos_acc(6.28318530717958647692 * rng_uniform(w_angle), s, c);
    return r * vec2(c, s);
}

// (w0,w1) -> (n0,n1), (w2,w3) -> (n2,n3).
vec4 rng_normal4(uvec4 w) { return vec4(rng_box_muller(w.x, w.y), rng_box_muller(w.z, w.w)); }

// Element i of the Gaussian draw (seed, stream, step); seed is (low, high) words.
float gaussian(uvec2 seed, uint stream, uint step, uint i) {
    vec4 n = rng_normal4(philox4x32_10(rng_counter(stream, step, i), seed));
    return n[i & 3u];
}

#endif
