// The binary as a user meets it: `--validate info` is clean, a machine without a Vulkan driver gets a clear
// error naming the packages and a non-zero exit, a wrong --device is refused with the valid range.
#include "tests/run_binary.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace {
test::Run run(const std::string& args, const std::string& env = "") { return test::run_diffuscope(args, env); }
}  // namespace

TEST(Cli, ValidatedInfoIsCleanAndNamesTheChoice) {
    auto r = run("--validate info");
    EXPECT_EQ(r.rc, 0) << r.out;
    EXPECT_NE(r.out.find("chosen: device"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("validation: 0 errors, 0 warnings"), std::string::npos) << r.out;
}

TEST(Cli, InfoJsonListsDevices) {
    auto r = run("info --json");
    EXPECT_EQ(r.rc, 0) << r.out;
    EXPECT_NE(r.out.find("\"subgroup_size\""), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\"timestamp_period_ns\""), std::string::npos) << r.out;
}

TEST(Cli, NoVulkanDriverIsAClearError) {
    auto r = run("info", "VK_DRIVER_FILES=/nonexistent.json VK_ICD_FILENAMES=/nonexistent.json");
    EXPECT_NE(r.rc, 0) << r.out;
    EXPECT_NE(r.out.find("mesa-vulkan-drivers"), std::string::npos) << r.out;
}

TEST(Cli, DeviceOutOfRangeIsRefused) {
    auto r = run("--device 99 bench");
    EXPECT_NE(r.rc, 0) << r.out;
    EXPECT_NE(r.out.find("--device 99"), std::string::npos) << r.out;
}

TEST(Cli, HelpTeaches) {
    auto r = run("--help");
    EXPECT_EQ(r.rc, 0) << r.out;
    EXPECT_NE(r.out.find("--validate"), std::string::npos) << r.out;
}
