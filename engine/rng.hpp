// engine/rng.hpp — the C++ twin of shaders/common/rng.glsl: Philox4x32-10 (Salmon et al., "Parallel random
// numbers: as easy as 1, 2, 3", SC 2011), a counter-based generator: the same (key, counter) gives the same
// four words on every device, so a chain replays bit for bit from (seed, stream, step, index).
// Uniforms use the top 24 bits (exact in float); normals are Box–Muller on pairs of uniforms.
#pragma once
#include <array>
#include <cmath>
#include <cstdint>

namespace engine::rng {

using u32x4 = std::array<uint32_t, 4>;

inline u32x4 philox4x32_10(u32x4 ctr, uint32_t k0, uint32_t k1) {
    constexpr uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
    for (int r = 0; r < 10; ++r) {
        if (r) { k0 += W0; k1 += W1; }
        uint64_t p0 = uint64_t(M0) * ctr[0], p1 = uint64_t(M1) * ctr[2];
        uint32_t hi0 = uint32_t(p0 >> 32), lo0 = uint32_t(p0), hi1 = uint32_t(p1 >> 32), lo1 = uint32_t(p1);
        ctr = {hi1 ^ ctr[1] ^ k0, lo1, hi0 ^ ctr[3] ^ k1, lo0};
    }
    return ctr;
}

// The counter of element `i` of a draw: four consecutive elements share one Philox call.
inline u32x4 counter(uint32_t stream, uint32_t step, uint32_t i) { return {i >> 2, step, stream, 0x5eedu}; }

// Uniform in (0, 1): (top 24 bits + 0.5) / 2^24, exact in float32.
inline float uniform(uint32_t w) { return (float(w >> 8) + 0.5f) * (1.0f / 16777216.0f); }

// Four standard normals from one block: Box–Muller on (w0,w1) and (w2,w3).
inline std::array<float, 4> normal4(const u32x4& w) {
    std::array<float, 4> n{};
    for (int j = 0; j < 2; ++j) {
        float u1 = uniform(w[2 * j]), u2 = uniform(w[2 * j + 1]);
        float r = std::sqrt(-2.0f * std::log(u1));
        float th = 6.28318530717958647692f * u2;
        n[2 * j] = r * std::cos(th);
        n[2 * j + 1] = r * std::sin(th);
    }
    return n;
}

// Element i of the Gaussian draw (seed, stream, step): what gaussian() in rng.glsl returns.
inline float gaussian(uint64_t seed, uint32_t stream, uint32_t step, uint32_t i) {
    auto w = philox4x32_10(counter(stream, step, i), uint32_t(seed), uint32_t(seed >> 32));
    return normal4(w)[i & 3];
}

}  // namespace engine::rng
