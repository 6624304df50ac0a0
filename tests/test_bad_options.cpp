// Every number a user hands in goes through one rule (diffusion/cli/option_checks.hpp): NaN, ±Inf, values out of
// range, a '-' on an unsigned option and integers too large for their type are refused with a message naming the
// option, the value and what is allowed; nothing is written, and no refused run reaches the GPU.
#include "diffusion/cli/option_checks.hpp"
#include "tests/io_util.hpp"
#include "tests/run_binary.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace diffuscope::cli;

namespace {

struct Case {
    std::string args, must_say;
};

// The refused command lines, each with the text its message must hold; every output goes into `out`.
std::vector<Case> command_line_cases(const std::string& out, const std::string& a_file) {
    const std::string u64 = "allowed: 0 to 18446744073709551615";
    const std::string render = "render --frames 1 --out " + out + "/r.png ";
    const std::string sample = "sample --oracle --out " + out + "/s.npy ";
    const std::string sample2d = "sample2d --toy gmm8 --count 4 --out " + out + "/p.npy ";
    const std::string train = "train --out " + out + "/c.safetensors ";
    const std::string classifier = "train-classifier --out " + out + "/k.safetensors ";
    const std::string eval = "eval --oracle --json " + out + "/e.json ";
    return {
        // Inputs a tester found accepted or crashing: each is refused with its option, value and range.
        {render + "--budget nan", "--budget: nan is not a finite number; allowed: 1 to 100 (ms)"},
        {render + "--speed nan", "--speed: nan is not a finite number; allowed: 0.1 to 10000"},
        {"--budget nan", "--budget: nan is not a finite number"},  // no subcommand: the window's options
        {"visualise --speed inf", "--speed: inf is not a finite number"},
        {render + "--guidance nan", "--guidance: nan is not a finite number; allowed: 0 to 10"},
        {render + "--eta nan", "--eta: nan is not a finite number; allowed: 0 to 1"},
        {render + "--ui-scale nan", "--ui-scale: nan is not a finite number"},
        {render + "--fps nan", "--fps: nan is not a finite number; allowed: 1 to 1000"},
        {train + "--ema nan", "--ema: nan is not a finite number"},
        {train + "--p-uncond nan", "--p-uncond: nan is not a finite number"},
        {sample + "--guidance nan", "--guidance: nan is not a finite number; allowed: -20 to 100"},
        {sample + "--guidance 1e30", "--guidance: 1e30 is too large; allowed: -20 to 100"},
        {sample2d + "--guidance 1e30", "--guidance: 1e30 is too large; allowed: -20 to 100"},
        {sample2d + "--guidance -1e30", "--guidance: -1e30 is too small"},
        {train + "--lr nan", "--lr: nan is not a finite number; allowed: 1e-06 to 1"},
        {train + "--minutes nan", "--minutes: nan is not a finite number; allowed: more than 0, up to"},
        {train + "--minutes -1", "--minutes: -1 is too small"},
        {train + "--minutes 0", "--minutes: 0 is too small"},
        {train + "--steps 0", "--steps: 0 is too small; allowed: 1 to"},
        {train + "--steps 99999999999999999999999", "--steps: 99999999999999999999999 is too large"},
        {sample2d + "--seed -1", "--seed: -1 is negative; " + u64},
        {sample2d + "--seed 12345678901234567890123", "--seed: 12345678901234567890123 is too large; " + u64},
        {train + "--seed -1", "--seed: -1 is negative; " + u64},
        {sample2d + "--steps 99999999999999999999999",
         "--steps: 99999999999999999999999 is too large; allowed: 1 to 4000"},
        {train + "--data " + a_file, a_file + " is a file, not a folder of IDX files"},
        {"data --data " + a_file, a_file + " is a file, not a folder of IDX files"},
        // One float and one whole-number option of every subcommand with numbers.
        {"--device -5 info", "--device: -5 is too small; allowed: -1 to 1023"},  // the global option
        {"--device nan info", "--device: nan is not a whole number"},
        {"data --heldout-per-class -1", "--heldout-per-class: -1 is negative"},
        {train + "--batch -1", "--batch: -1 is negative; allowed: 1 to 1024"},
        {train + "--warmup 99999999999", "--warmup: 99999999999 is too large; allowed: 0 to 4294967295"},
        {train + "--checkpoint-every 1.5", "--checkpoint-every: 1.5 is not a whole number"},
        {train + "--base 4", "--base: 4 is too small; allowed: 8 to 128"},
        {render + "--width 1e3", "--width: 1e3 is not a whole number; allowed: 64 to 8192 (pixels)"},
        {render + "--seed -1", "--seed: -1 is negative; allowed: 0 to 4294967295"},
        {render + "--chains 99999999999999999999", "--chains: 99999999999999999999 is too large; allowed: 1 to 64"},
        {render + "--slice-a -2", "--slice-a: -2 is too small; allowed: -1 to 9"},
        {"render --frames 0 --out " + out + "/r.png", "--frames: 0 is too small; allowed: 1 to 100000"},
        {"visualise --width 99999999999999999999", "--width: 99999999999999999999 is too large"},
        {"visualise --frames -1", "--frames: -1 is negative; allowed: 0 to"},
        {sample + "--percentile 0", "--percentile: 0 is too small; allowed: more than 0, up to 1"},
        {sample + "--count 0", "--count: 0 is too small"},
        {sample + "--batch -1", "--batch: -1 is negative"},
        {sample + "--gif-frames 1", "--gif-frames: 1 is too small; allowed: 2 to 1000"},
        {sample + "--timesteps 0x10", "--timesteps: 0x10 is not a whole number"},
        {sample2d + "--eta nan", "--eta: nan is not a finite number"},
        {"sample2d --count 99999999999 --out " + out + "/p.npy", "--count: 99999999999 is too large"},
        {classifier + "--lr nan", "--lr: nan is not a finite number"},
        {classifier + "--epochs 0", "--epochs: 0 is too small"},
        {classifier + "--shift 5", "--shift: 5 is too large; allowed: 0 to 4 (pixels)"},
        {classifier + "--max-images -1", "--max-images: -1 is negative"},
        {eval + "--guidance nan", "--guidance: nan is not a finite number"},
        {eval + "--count 9", "--count: 9 is too small; allowed: 10 to"},
        {eval + "--batch 0", "--batch: 0 is too small"},
    };
}

// --config files go through the same validators: huge or non-finite numbers are refused naming the file and key.
std::vector<Case> config_cases() {
    return {
        {R"({"budget": 1e400})", "number overflow"},
        {R"({"guidance": 1e30})", "--guidance: 1e+30 is too large; allowed: 0 to 10"},
        {R"({"seed": -1})", "--seed: -1 is negative"},
        {R"({"seed": 99999999999999999999999})", "is not a whole number; allowed: 0 to 4294967295"},
        {R"({"steps": 18446744073709551615})", "--steps: 18446744073709551615 is too large; allowed: 1 to 4000"},
        {R"({"speed": 1e-30})", "--speed: 1e-30 is too small"},
    };
}

}  // namespace

TEST(BadOptions, EveryBadNumberIsRefusedNamingOptionValueAndRange) {
    iotest::TempDir tmp;
    const fs::path out = tmp / "out";
    fs::create_directories(out);
    const fs::path a_file = tmp / "not-a-folder.txt";
    std::ofstream(a_file) << "hello\n";
    const auto cases = command_line_cases(out.string(), a_file.string());
    for (const auto& c : cases) {
        auto r = test::run_diffuscope(c.args);
        EXPECT_NE(r.rc, 0) << c.args << "\n" << r.out;
        EXPECT_NE(r.out.find(c.must_say), std::string::npos) << c.args << "\nwanted: " << c.must_say << "\n" << r.out;
        EXPECT_EQ(r.out.find("terminate called"), std::string::npos) << c.args << "\n" << r.out;
        EXPECT_TRUE(fs::is_empty(out)) << c.args << ": wrote into " << out;
    }
    int n = 0;
    for (const auto& c : config_cases()) {
        const fs::path cfg = tmp / ("config" + std::to_string(n++) + ".json");
        std::ofstream(cfg) << c.args;
        auto r = test::run_diffuscope("render --frames 1 --out " + (out / "r.png").string() + " --config " +
                                      cfg.string());
        EXPECT_NE(r.rc, 0) << c.args << "\n" << r.out;
        EXPECT_NE(r.out.find(c.must_say), std::string::npos) << c.args << "\nwanted: " << c.must_say << "\n" << r.out;
        EXPECT_NE(r.out.find(cfg.string()), std::string::npos) << c.args << ": the message names the file\n" << r.out;
        EXPECT_TRUE(fs::is_empty(out)) << c.args << ": wrote into " << out;
    }
    RecordProperty("bad_inputs", int(cases.size() + config_cases().size()));
}

TEST(BadOptions, GoodValuesStillWork) {
    iotest::TempDir tmp;
    auto r =
        test::run_diffuscope("sample2d --toy gmm8 --count 4 --seed 5 --guidance 2 --out " + (tmp / "a.npy").string());
    EXPECT_EQ(r.rc, 0) << r.out;
    EXPECT_TRUE(fs::exists(tmp / "a.npy"));
    // The ends of the ranges are allowed; a leading 0 is decimal, not octal (CLI11 alone reads 010 as 8).
    r = test::run_diffuscope("sample2d --toy gmm8 --count 4 --seed 18446744073709551615 --guidance -20 --steps 010 "
                             "--eta 1 --out " + (tmp / "b.npy").string());
    EXPECT_EQ(r.rc, 0) << r.out;
    r = test::run_diffuscope("train --help");
    EXPECT_EQ(r.rc, 0) << r.out;
    EXPECT_NE(r.out.find("--steps UINT:in [1, 1000000000]"), std::string::npos) << r.out;
}

// The validators alone, in process: canonical decimal, the ends of each type, and text that is not a number.
TEST(BadOptions, ValidatorsCheckTheTextBeforeCli11ConvertsIt) {
    auto check = [](const CLI::Validator& v, std::string text) {
        const std::string error = v(text);
        return error.empty() ? "=" + text : error;
    };
    EXPECT_EQ(check(whole_range<uint32_t>(1, 4000), "010"), "=10");
    EXPECT_EQ(check(whole_range<uint32_t>(1, 4000), "+7"), "=7");
    EXPECT_EQ(check(whole_range<int>(-1, 9), "-0"), "=0");
    EXPECT_EQ(check(whole_of<int64_t>(), "-9223372036854775808"), "=-9223372036854775808");
    EXPECT_EQ(check(whole_of<int64_t>(), "-9223372036854775809"),
              "-9223372036854775809 is too small; allowed: -9223372036854775808 to 9223372036854775807");
    EXPECT_EQ(check(whole_of<uint64_t>(), "18446744073709551616"),
              "18446744073709551616 is too large; allowed: 0 to 18446744073709551615");
    EXPECT_EQ(check(whole_of<uint8_t>(), "256"), "256 is too large; allowed: 0 to 255");
    EXPECT_EQ(check(whole_of<uint32_t>(), ""), "\"\" is not a whole number; allowed: 0 to 4294967295");
    EXPECT_EQ(check(whole_of<uint32_t>(), "-"), "- is not a whole number; allowed: 0 to 4294967295");
    EXPECT_EQ(check(whole_of<uint32_t>(), " 5"), " 5 is not a whole number; allowed: 0 to 4294967295");
    EXPECT_EQ(check(finite_range(1, 100, "ms"), "8"), "=8");
    EXPECT_EQ(check(finite_range(1, 100, "ms"), "1"), "=1");
    EXPECT_EQ(check(finite_range(1, 100, "ms"), "-inf"), "-inf is not a finite number; allowed: 1 to 100 (ms)");
    EXPECT_EQ(check(finite_range(1, 100, "ms"), "1e400"), "1e400 is not a finite number; allowed: 1 to 100 (ms)");
    EXPECT_EQ(check(finite_range(1, 100, "ms"), "8ms"), "8ms is not a number; allowed: 1 to 100 (ms)");
    EXPECT_EQ(check(finite_above(0, 1), "0"), "0 is too small; allowed: more than 0, up to 1");
    EXPECT_EQ(check(finite_above(0, 1), "1"), "=1");
}
