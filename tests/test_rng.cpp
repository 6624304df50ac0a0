// The counter-based RNG: GPU words equal the C++ twin's bit for bit; normals agree to float rounding of
// log/sin/cos; the moments of a large draw are those of N(0,1); known-answer test against Random123.
#include "engine/pipeline.hpp"
#include "engine/rng.hpp"
#include "tests/gpu.hpp"

using namespace engine;

TEST(Rng, Philox4x32_10KnownAnswers) {
    // Known-answer vectors from Random123's kat_vectors (philox4x32_10).
    auto a = rng::philox4x32_10({0, 0, 0, 0}, 0, 0);
    EXPECT_EQ(a, (rng::u32x4{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
    auto b = rng::philox4x32_10({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, 0xffffffffu, 0xffffffffu);
    EXPECT_EQ(b, (rng::u32x4{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}));
    auto c = rng::philox4x32_10({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, 0xa4093822u, 0x299f31d0u);
    EXPECT_EQ(c, (rng::u32x4{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}));
}

class RngGpu : public test::GpuTest {};

TEST_F(RngGpu, GpuEqualsCpuBitForBitAndMomentsAreNormal) {
    ComputePipeline fill(ctx, {"test/rng_fill.comp", 2, 20});
    for (uint64_t seed : {0ull, 42ull, 0x123456789abcdefull}) {
        const uint32_t n = 100003, stream = 7, step = uint32_t(seed % 1000);
        Buffer words(ctx, n * 4), normals(ctx, n * 4);
        test::poison(words);
        test::poison(normals);
        auto set = fill.bind({words, normals});
        struct { uint32_t s0, s1, stream, step, n; } push{uint32_t(seed), uint32_t(seed >> 32), stream, step, n};
        one_shot(ctx, [&](CommandBuffer& c) { c.dispatch(fill, set, push, groups_for(n, 64)); });
        auto w = words.download_as<uint32_t>();
        auto z = normals.download_as<float>();
        double m1 = 0, m2 = 0, m3 = 0, m4 = 0;
        for (uint32_t i = 0; i < n; ++i) {
            auto ref = rng::philox4x32_10(rng::counter(stream, step, i), uint32_t(seed), uint32_t(seed >> 32));
            ASSERT_EQ(w[i], ref[i & 3]) << "seed " << seed << " element " << i;
            float zr = rng::gaussian(seed, stream, step, i);
            ASSERT_NEAR(z[i], zr, 2e-5f * (1 + std::abs(zr))) << "seed " << seed << " element " << i;
            double v = z[i];
            m1 += v; m2 += v * v; m3 += v * v * v; m4 += v * v * v * v;
        }
        m1 /= n; m2 /= n; m3 /= n; m4 /= n;
        // Standard errors at n=1e5: mean 0.0032, E[z²] 0.0045, E[z³] 0.0077, E[z⁴] 0.031 — bounds at ~5σ.
        EXPECT_NEAR(m1, 0.0, 0.016);
        EXPECT_NEAR(m2, 1.0, 0.023);
        EXPECT_NEAR(m3, 0.0, 0.04);
        EXPECT_NEAR(m4, 3.0, 0.16);
    }
}

TEST(Rng, StreamsAndStepsDiffer) {
    EXPECT_NE(rng::gaussian(1, 0, 0, 5), rng::gaussian(1, 1, 0, 5));
    EXPECT_NE(rng::gaussian(1, 0, 0, 5), rng::gaussian(1, 0, 1, 5));
    EXPECT_NE(rng::gaussian(1, 0, 0, 5), rng::gaussian(2, 0, 0, 5));
    EXPECT_EQ(rng::gaussian(1, 0, 0, 5), rng::gaussian(1, 0, 0, 5));
}
