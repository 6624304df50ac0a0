// shaders/common/fmath.glsl against double on random and awkward arguments: sin/cos near multiples of π/2 and
// for small |x| (where an absolute-error built-in is far off in relative terms), log near 1 (Box–Muller's
// log u), 2^(hi + lo) with the sinusoidal embedding's split exponents. The built-ins' errors on the same
// arguments are printed beside them (not asserted: Vulkan lets them be loose, which is why fmath.glsl exists).
#include "diffusion/model/sinusoid.hpp"
#include "engine/pipeline.hpp"
#include "tests/gpu.hpp"

#include <algorithm>
#include <cstdio>
#include <numbers>
#include <random>
#include <string>

using namespace engine;
using test::GpuTest;

namespace {

// One float ulp at v (|v| ≥ the smallest normal).
double ulp(double v) { return std::ldexp(1.0, std::ilogb(std::max(std::abs(float(v)), 1.17549435e-38f)) - 23); }

struct Worst {
    double ulps = 0;
    float arg = 0;
    void add(double got, double ref, float at) {
        const double e = std::isnan(got) ? 1e30 : std::abs(got - ref) / ulp(ref);
        if (e > ulps) ulps = e, arg = at;
    }
};

}  // namespace

TEST(Sinusoid, TheSplitExponentIsExactForEveryIndex) {
    for (uint32_t half : {2u, 3u, 8u, 16u, 17u, 32u, 64u, 500u, 1024u}) {
        const auto [hi, lo] = diffuscope::nn::sinusoid_log2_step(half);
        const double c = std::log2(1000.0) / double(half - 1);
        EXPECT_NEAR((double(hi) + double(lo)) / c, 1.0, 4e-12) << "half " << half;  // 14 + 24 bits
        for (uint32_t k = 0; k < half; ++k) EXPECT_EQ(double(float(k) * hi), double(k) * double(hi)) << "k·hi exact, k " << k;
    }
    EXPECT_THROW(diffuscope::nn::sinusoid_log2_step(1), std::invalid_argument);
    EXPECT_THROW(diffuscope::nn::sinusoid_log2_step(1025), std::invalid_argument);
}

TEST_F(GpuTest, FmathMatchesDoubleWhereTheBuiltinsNeedNot) {
    ComputePipeline kernel(ctx, {"test/fmath.comp", 2, 4});
    std::mt19937 gen(std::random_device{}());
    const uint32_t seed = gen();
    SCOPED_TRACE("seed " + std::to_string(seed));
    gen.seed(seed);
    std::uniform_real_distribution<double> u01(0, 1);
    auto log_uniform = [&](double lo, double hi) { return std::exp(std::log(lo) + u01(gen) * (std::log(hi) - std::log(lo))); };
    auto sign = [&] { return u01(gen) < 0.5 ? -1.0 : 1.0; };

    // Four kinds of x (and y, and exponents) per element, in blocks: |x| ≤ π; small |x|; up to 6434; near k·π/2.
    const uint32_t per = 4001, n = 4 * per;  // odd, so the last workgroup is partial
    std::vector<float> args(size_t(n) * 4);
    for (uint32_t i = 0; i < n; ++i) {
        const uint32_t kind = i / per;
        float x = 0, y = 0, hi = 0, lo = 0;
        if (kind == 0) x = float((2 * u01(gen) - 1) * std::numbers::pi);
        if (kind == 1) x = float(sign() * log_uniform(1e-6, 1.0));
        if (kind == 2) x = float((2 * u01(gen) - 1) * 6434.0);
        if (kind == 3) x = float(double(gen() % 4096) * std::numbers::pi / 2) + float(sign() * (gen() % 4)) * 1e-3f;
        // y: the Box–Muller grid near 1 (and near 0), else log-uniform over the normal range.
        if (kind == 0) y = (float((gen() >> 8) | 0xff0000u) + 0.5f) / 16777216.0f;   // u ∈ (0.996, 1)
        if (kind == 1) y = (float(gen() >> 8) + 0.5f) / 16777216.0f;                   // u ∈ (0, 1)
        if (kind >= 2) y = float(log_uniform(1e-30, 1e30));
        if (kind == 3 && i % 2) y = 1.0f + float(sign() * double(1 + gen() % 64)) * 5.96e-8f;
        // 2^(hi + lo): the embedding's exponents k·c (several widths), else random ones with a small lo.
        if (kind < 2) {
            const uint32_t half = kind == 0 ? 32u : 500u, k = gen() % half;
            const auto [chi, clo] = diffuscope::nn::sinusoid_log2_step(half);
            hi = float(k) * chi;
            lo = float(k) * clo;
        } else {
            hi = float((2 * u01(gen) - 1) * 100.0);
            lo = float((2 * u01(gen) - 1) * 1e-6);
        }
        args[4 * i] = x, args[4 * i + 1] = y, args[4 * i + 2] = hi, args[4 * i + 3] = lo;
    }
    Buffer in(ctx, args.size() * 4), out(ctx, size_t(n) * 8 * 4 + 64);
    in.upload(args);
    test::poison(out);
    auto set = kernel.bind({in, out});
    one_shot(ctx, [&](CommandBuffer& c) { c.dispatch(kernel, set, n, groups_for(n, 64)); });
    const auto r = out.download_as<float>(size_t(n) * 8 + 16);
    for (size_t i = size_t(n) * 8; i < r.size(); ++i) ASSERT_TRUE(std::isnan(r[i])) << "wrote past the end at " << i;

    const char* kinds[4] = {"|x| ≤ π", "1e-6 ≤ |x| ≤ 1", "|x| ≤ 6434", "x ≈ k·π/2"};
    for (uint32_t kind = 0; kind < 4; ++kind) {
        Worst s, c, l, e, bs, bc, bl, be;
        for (uint32_t i = kind * per; i < (kind + 1) * per; ++i) {
            const double x = args[4 * i], y = args[4 * i + 1], h = double(args[4 * i + 2]) + double(args[4 * i + 3]);
            const float* g = &r[size_t(i) * 8];
            s.add(g[0], std::sin(x), float(x)), c.add(g[1], std::cos(x), float(x));
            l.add(g[2], std::log(y), float(y)), e.add(g[3], std::exp2(h), float(h));
            bs.add(g[4], std::sin(x), float(x)), bc.add(g[5], std::cos(x), float(x));
            bl.add(g[6], std::log(y), float(y)), be.add(g[7], std::exp2(h), float(h));
        }
        std::printf("%-16s ulps: sin %.2f cos %.2f log %.2f exp2 %.2f | built-ins: sin %.3g cos %.3g log %.3g exp2 %.3g\n",
                    kinds[kind], s.ulps, c.ulps, l.ulps, e.ulps, bs.ulps, bc.ulps, bl.ulps, be.ulps);
        EXPECT_LE(s.ulps, 4) << kinds[kind] << ": sin at x = " << s.arg;
        EXPECT_LE(c.ulps, 4) << kinds[kind] << ": cos at x = " << c.arg;
        EXPECT_LE(l.ulps, 4) << kinds[kind] << ": log at y = " << l.arg;
        EXPECT_LE(e.ulps, 4) << kinds[kind] << ": exp2 at " << e.arg;
    }
}
