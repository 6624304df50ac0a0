// The two SGEMM kernels behind `diffuscope bench`'s ceiling (shaders/bench/sgemm*.comp) on small random
// integer matrices, where every partial sum is exact in float, so C must match the double product exactly.
// C is poisoned first: a kernel that skips part of it fails. The bench checks its own 512³ product too.
#include "engine/buffer.hpp"
#include "engine/commands.hpp"
#include "engine/pipeline.hpp"
#include "tests/gpu.hpp"

#include <random>

namespace {

class BenchKernels : public test::GpuTest {
protected:
    // C[M,N] = Aᵀ[K,M]ᵀ · B[K,N] with `desc`, dispatched as `groups` workgroups; the largest |error|.
    double run_gemm(const engine::PipelineDesc& desc, uint32_t M, uint32_t N, uint32_t K, uint32_t groups, uint32_t seed) {
        std::mt19937 rng(seed);
        std::uniform_int_distribution<int> d(-3, 3);
        std::vector<float> at(size_t(K) * M), b(size_t(K) * N);
        for (auto& v : at) v = float(d(rng));
        for (auto& v : b) v = float(d(rng));
        engine::Buffer ab(ctx, at.size() * 4), bb(ctx, b.size() * 4), cb(ctx, size_t(M) * N * 4);
        ab.upload(at);
        bb.upload(b);
        engine::ComputePipeline gemm(ctx, desc);
        auto set = gemm.bind({ab, bb, cb});
        struct { uint32_t M, N, K; } push{M, N, K};
        engine::one_shot(ctx, [&](engine::CommandBuffer& cmd) {
            cmd.fill(cb, 0x7fc00000u);
            cmd.barrier();
            cmd.dispatch(gemm, set, push, groups);
            cmd.barrier_to_host();
        });
        const auto c = cb.download_as<float>();
        double worst = 0;
        for (uint32_t m = 0; m < M; ++m)
            for (uint32_t n = 0; n < N; ++n) {
                double ref = 0;
                for (uint32_t k = 0; k < K; ++k) ref += double(at[size_t(k) * M + m]) * b[size_t(k) * N + n];
                const double e = std::abs(double(c[size_t(m) * N + n]) - ref);
                worst = std::isnan(e) ? INFINITY : std::max(worst, e);
            }
        return worst;
    }
};

TEST_F(BenchKernels, SgemmRowsIsExactOnSmallIntegers) {
    // Tiles: 16 rows × 16 columns per invocation, 4 k steps a load (the bench's); M, N, K not powers of two.
    for (auto [M, N, K, seed] : {std::tuple{48u, 80u, 36u, 1u}, {16u, 16u, 4u, 2u}, {96u, 32u, 100u, 3u}}) {
        engine::PipelineDesc desc{"bench/sgemm_rows.comp", 3, 12, {16, 16, 4}};
        desc.rgba32f_bindings = 3;
        EXPECT_EQ(run_gemm(desc, M, N, K, engine::groups_for(uint64_t(M / 16) * (N / 16), 64), seed), 0.0)
            << M << "×" << N << "×" << K;
    }
    // Other tiles: 8 × 32, 8 k steps.
    engine::PipelineDesc desc{"bench/sgemm_rows.comp", 3, 12, {8, 32, 8}};
    desc.rgba32f_bindings = 3;
    EXPECT_EQ(run_gemm(desc, 24, 64, 40, engine::groups_for(3 * 2, 64), 4), 0.0);
}

TEST_F(BenchKernels, SgemmShuffleIsExactOnSmallIntegers) {
    if (ctx.info().subgroup_size < 8) GTEST_SKIP() << "the shuffle kernel needs subgroups of at least 8";
    // 8 lanes own 8 rows × 8·TN columns (TN = 16); 64-invocation workgroups.
    engine::PipelineDesc desc{"bench/sgemm.comp", 3, 12, {16}};
    desc.rgba32f_bindings = 2;
    const uint32_t M = 64, N = 256, K = 20;
    EXPECT_EQ(run_gemm(desc, M, N, K, (M / 8) * (N / 128) * 8 / 64, 5), 0.0);
}

}  // namespace
