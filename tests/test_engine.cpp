// Engine round trips: saxpy and a two-level reduction at odd sizes with poisoned outputs; the validation
// counter catches a real hazard; timestamps measure something; the device choice order.
#include "engine/pipeline.hpp"
#include "engine/timestamps.hpp"
#include "tests/gpu.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <random>

using namespace engine;
using test::GpuTest;

TEST_F(GpuTest, SaxpyMatchesCpuAtOddSizes) {
    ComputePipeline saxpy(ctx, {"test/saxpy.comp", 2, 8});
    for (uint32_t n : {1u, 63u, 64u, 65u, 1000u, 4099u}) {
        std::mt19937 gen(1234 + n);
        std::normal_distribution<float> d;
        std::vector<float> x(n), y(n);
        for (auto& v : x) v = d(gen);
        for (auto& v : y) v = d(gen);
        const float a = 0.75f + n * 1e-3f;
        Buffer bx(ctx, n * 4), by(ctx, (n + 7) * 4);  // y longer than n: the tail must stay untouched
        bx.upload(x);
        test::poison(by);
        by.upload(y);
        auto set = saxpy.bind({bx, by});
        struct { uint32_t n; float a; } push{n, a};
        one_shot(ctx, [&](CommandBuffer& c) { c.dispatch(saxpy, set, push, groups_for(n, 64)); });
        auto out = by.download_as<float>();
        // a·x + y rounded once (a driver may fuse it: NVIDIA does) or twice (llvmpipe), and nothing else.
        for (uint32_t i = 0; i < n; ++i) {
            const float twice = a * x[i] + y[i], once = std::fma(a, x[i], y[i]);
            ASSERT_TRUE(out[i] == twice || out[i] == once) << "n=" << n << " i=" << i << ": " << out[i] << ", not "
                                                           << twice << " or " << once;
        }
        for (uint32_t i = n; i < n + 7; ++i) ASSERT_TRUE(std::isnan(out[i])) << "wrote past n at " << i;
    }
}

TEST_F(GpuTest, TwoLevelReductionAtOddSizes) {
    const uint32_t wg = 128, items = 4;
    ComputePipeline reduce(ctx, {"test/reduce_sum.comp", 2, 4, {wg, items}});
    for (uint32_t n : {1u, 511u, 513u, 100003u}) {
        std::mt19937 gen(n);
        std::uniform_real_distribution<float> d(-1, 1);
        std::vector<float> x(n);
        double ref = 0;
        for (auto& v : x) ref += (v = d(gen));
        uint32_t groups = groups_for(n, wg * items);
        Buffer bx(ctx, n * 4), partial(ctx, groups * 4), total(ctx, 4);
        bx.upload(x);
        test::poison(partial);
        test::poison(total);
        auto s1 = reduce.bind({bx, partial});
        auto s2 = reduce.bind({partial, total});
        ASSERT_LE(groups, wg * items * 1024);
        // Second level loops when groups exceed one workgroup's reach: use a loop of passes.
        one_shot(ctx, [&](CommandBuffer& c) {
            c.dispatch(reduce, s1, n, groups);
            c.barrier();  // RAW: level 2 reads level 1's partial sums
            c.dispatch(reduce, s2, groups, 1);
        });
        if (groups > wg * items) GTEST_SKIP() << "too many partials for one level";
        float got = total.download_as<float>()[0];
        EXPECT_NEAR(got, ref, 1e-5 * std::sqrt(double(n)) + 1e-6) << "n=" << n;
    }
}

TEST_F(GpuTest, ValidationCountsARealHazardThenResets) {
    // Two dispatches that write the same buffer with no barrier between them: a write-after-write hazard
    // that only synchronization validation reports. The counter must see it, then reset to zero.
    ComputePipeline saxpy(ctx, {"test/saxpy.comp", 2, 8});
    Buffer x(ctx, 256 * 4), y(ctx, 256 * 4);
    auto set = saxpy.bind({x, y});
    struct { uint32_t n; float a; } push{256, 1.0f};
    one_shot(ctx, [&](CommandBuffer& c) {
        c.fill(x, 0);
        c.fill(y, 0);
        c.dispatch(saxpy, set, push, 4);  // deliberate: no c.barrier() after the fills
    });
    auto v = ctx.validation();
    EXPECT_GE(v.errors, 1u) << "synchronization validation did not report the hazard";
    ctx.reset_validation();
    EXPECT_EQ(ctx.validation().total(), 0u);
}

TEST_F(GpuTest, TimestampsMeasureWork) {
    Timestamps ts(ctx);
    if (!ts.supported()) GTEST_SKIP() << "device has no timestamps on its compute queue";
    ComputePipeline saxpy(ctx, {"test/saxpy.comp", 2, 8});
    const uint32_t n = 1 << 21;
    Buffer x(ctx, n * 4), y(ctx, n * 4);
    auto set = saxpy.bind({x, y});
    struct { uint32_t n; float a; } push{n, 2.0f};
    CommandBuffer c(ctx);
    c.begin();
    ts.reset(c);
    c.fill(x, 0);
    c.fill(y, 0);
    c.barrier();
    ts.begin(c, "small");
    c.dispatch(saxpy, set, push, 1);
    ts.end(c);
    c.barrier();
    ts.begin(c, "large");
    for (int k = 0; k < 8; ++k) {
        c.dispatch(saxpy, set, push, groups_for(n, 64));
        c.barrier();
    }
    ts.end(c);
    c.end();
    c.submit_and_wait();
    auto t = ts.read();
    ASSERT_EQ(t.size(), 2u);
    EXPECT_EQ(t[0].name, "small");
    EXPECT_GE(t[0].ms, 0.0);
    EXPECT_GT(t[1].ms, t[0].ms) << "8 full passes over 16 MiB took no longer than one workgroup";
    EXPECT_LT(t[1].ms, 60'000.0);
}

TEST_F(GpuTest, RecordedCommandBufferReplays) {
    // Recorded once, submitted many times: per-step values come from buffers, not re-recording.
    ComputePipeline saxpy(ctx, {"test/saxpy.comp", 2, 8});
    const uint32_t n = 333;
    Buffer x(ctx, n * 4), y(ctx, n * 4);
    x.upload(std::vector<float>(n, 1.0f));
    y.upload(std::vector<float>(n, 0.0f));
    auto set = saxpy.bind({x, y});
    struct { uint32_t n; float a; } push{n, 0.5f};
    CommandBuffer c(ctx);
    c.begin();
    c.barrier_from_host();
    c.dispatch(saxpy, set, push, groups_for(n, 64));
    c.barrier_to_host();
    c.end();
    for (int k = 0; k < 5; ++k) c.submit_and_wait();
    auto out = y.download_as<float>();
    for (auto v : out) ASSERT_FLOAT_EQ(v, 2.5f);
}

TEST(DeviceChoice, DiscreteFirstThenIntegratedThenCpu) {
    std::vector<DeviceInfo> d(3);
    d[0].index = 0; d[0].type_name = "CPU"; d[0].preference = 1; d[0].has_compute_queue = true;
    d[1].index = 1; d[1].type_name = "integrated GPU"; d[1].preference = 3; d[1].has_compute_queue = true;
    d[2].index = 2; d[2].type_name = "discrete GPU"; d[2].preference = 4; d[2].has_compute_queue = true;
    std::string why;
    EXPECT_EQ(Context::choose(d, -1, &why), 2u);
    d[2].has_compute_queue = false;
    EXPECT_EQ(Context::choose(d, -1, &why), 1u);
    EXPECT_NE(why.find("no discrete GPU"), std::string::npos) << why;
    EXPECT_EQ(Context::choose(d, 0, &why), 0u);
    EXPECT_THROW(Context::choose(d, 7, &why), std::runtime_error);
    EXPECT_THROW(Context::choose({}, -1, &why), NoDeviceError);
}

TEST_F(GpuTest, UnknownShaderNamesTheKnownOnes) {
    try {
        ComputePipeline p(ctx, {"nope.comp", 1, 0});
        FAIL();
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("test/saxpy.comp"), std::string::npos);
    }
}

// Kernels with a 4-value path bind an RGBA32F view of every input, on every device: a buffer smaller than one
// such texel (here one float) must still get both views, without a validation message (checked at teardown).
TEST_F(GpuTest, TinyBufferHasBothTexelViews) {
    Buffer one(ctx, 4);
    EXPECT_NE(one.texel_view(VK_FORMAT_R32_SFLOAT), VK_NULL_HANDLE);
    EXPECT_NE(one.texel_view(VK_FORMAT_R32G32B32A32_SFLOAT), VK_NULL_HANDLE);
    EXPECT_EQ(one.size(), 4u);  // the padding to a whole texel is not the caller's size
}

// The asynchronous compute queue (the visualiser's chains): work submitted there and on the main queue is ordered
// by timeline semaphores alone, in both directions (RAW compute → main, WAR main → compute), round after round.
// With AsyncCompute::on every device has the path: a GPU's compute-only family, else the main queue again.
TEST_F(GpuTest, AsyncComputeSubmissionsAreOrderedByTimelineSemaphores) {
    ContextOptions o;
    o.validate = true;
    o.quiet = true;
    o.async_compute = AsyncCompute::on;
    if (const char* d = std::getenv("DIFFUSCOPE_TEST_DEVICE")) o.device_index = std::atoi(d);
    Context c2(o);
    ASSERT_TRUE(c2.async_compute()) << c2.async_reason();
    std::printf("compute queue: %s\n", c2.async_reason().c_str());
    if (c2.compute_family() != c2.queue_family())
        EXPECT_EQ(c2.sharing_families().size(), 2u) << "buffers must be shared by both families";
    else
        EXPECT_TRUE(c2.sharing_families().empty());
    const uint32_t n = 1u << 18;  // 1 MiB: a copy that ran before the fill would see the previous round's words
    Buffer a(c2, n * 4), b(c2, n * 4);
    one_shot(c2, [&](CommandBuffer& c) {
        c.fill(a, 0u);
        c.fill(b, 0x7fc00000u);
    });
    TimelineSemaphore comp(c2), main(c2);
    CommandBuffer cc(c2, QueueRole::compute), mc(c2);
    ASSERT_EQ(cc.role(), QueueRole::compute);
    for (uint32_t round = 1; round <= 3; ++round) {
        cc.begin(true);
        cc.fill(a, 0x1000u + round);
        cc.end();
        SubmitSync s1;
        if (main.issued() > 0) s1.waits.push_back({main.handle(), main.issued(), VK_PIPELINE_STAGE_TRANSFER_BIT});
        s1.signals.push_back({comp.handle(), comp.next()});
        cc.submit(s1);

        mc.begin(true);
        mc.copy(a, b, VkDeviceSize(n) * 4);
        mc.barrier_to_host();
        mc.end();
        SubmitSync s2;
        s2.waits.push_back({comp.handle(), comp.issued(), VK_PIPELINE_STAGE_TRANSFER_BIT});
        s2.signals.push_back({main.handle(), main.next()});
        mc.submit_and_wait(s2);
        EXPECT_EQ(main.completed(), round);
        EXPECT_EQ(comp.completed(), round);
        auto out = b.download_as<uint32_t>();
        size_t wrong = 0;
        for (uint32_t v : out) wrong += v != 0x1000u + round;
        ASSERT_EQ(wrong, 0u) << "round " << round << ": the copy did not see the compute queue's fill";
    }
    cc.wait();
    EXPECT_EQ(c2.validation().total(), 0u);
}
