// tests/gpu.hpp — every GPU test runs on a validated context (Khronos layer + synchronization validation)
// and fails on any validation message. DIFFUSCOPE_TEST_DEVICE=N picks the device.
#pragma once
#include "engine/commands.hpp"
#include "engine/context.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>
#include <vector>

namespace test {

inline engine::Context& gpu() {
    static std::unique_ptr<engine::Context> ctx = [] {
        engine::ContextOptions o;
        o.validate = true;
        o.quiet = true;
        if (const char* d = std::getenv("DIFFUSCOPE_TEST_DEVICE")) o.device_index = std::atoi(d);
        return std::make_unique<engine::Context>(o);
    }();
    return *ctx;
}

// Fixture: validation counters reset before the test, and must be zero after it.
class GpuTest : public ::testing::Test {
protected:
    engine::Context& ctx = gpu();
    void SetUp() override { ctx.reset_validation(); }
    void TearDown() override {
        auto v = ctx.validation();
        EXPECT_EQ(v.errors, 0u) << "Vulkan validation errors (see stderr)";
        EXPECT_EQ(v.warnings, 0u) << "Vulkan validation warnings (see stderr)";
    }
};

// Fill a buffer with NaN so a kernel that skips an output cannot pass on stale data.
inline void poison(engine::Buffer& b) {
    engine::one_shot(gpu(), [&](engine::CommandBuffer& c) { c.fill(b, 0x7fc00000u); });
}

}  // namespace test
