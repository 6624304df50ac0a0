// `diffuscope bench`'s PyTorch baseline (python/bench_torch.py, diffusion/cli/bench_torch.*):
//  - the script, found and run as the bench does (--quick), writes every figure, each positive;
//  - its PyTorch port of the classifier judges images as diffuscope's classify() does (so "digits judged
//    correct" means the same on both sides);
//  - the ratios are ours / theirs for the same task only, with the 30 % and ≤ 1× targets;
//  - a missing python, a python without torch, a failing script and unreadable JSON each become a
//    "skipped: why", never a failure of the bench.
// The tests that need torch skip, with the reason, when /usr/bin/python3 cannot import it.
#include "diffusion/cli/bench_torch.hpp"
#include "diffusion/data/assets.hpp"
#include "diffusion/io/npy.hpp"
#include "diffusion/model/classifier.hpp"
#include "tests/gpu.hpp"
#include "tests/io_util.hpp"
#include "tests/run_binary.hpp"

#include <cmath>
#include <fstream>
#include <random>

using namespace diffuscope;
using nlohmann::json;

namespace {

// A stand-in interpreter: a shell script that prints `text` and exits with `status` (ignores its arguments).
std::string fake_python(const iotest::TempDir& dir, const std::string& name, const std::string& text, int status) {
    const auto p = dir / name;
    std::ofstream(p) << "#!/bin/sh\necho '" << text << "'\nexit " << status << "\n";
    std::filesystem::permissions(p, std::filesystem::perms::owner_all);
    return p.string();
}

bool positive(const json& j, const char* key) { return j.contains(key) && j[key].is_number() && j[key].get<double>() > 0; }

}  // namespace

TEST(BenchTorch, QuickRunWritesEveryFigure) {
    const auto t = cli::find_torch_bench("auto");
    if (!t.skipped.empty()) GTEST_SKIP() << t.skipped;
    EXPECT_EQ(t.script, std::filesystem::path(DIFFUSCOPE_SOURCE_DIR) / "python" / "bench_torch.py");
    const json r = cli::run_torch_bench(t, /*quick=*/true);
    if (r.contains("skipped") && r["skipped"].get<std::string>().find("cannot import torch") != std::string::npos)
        GTEST_SKIP() << r["skipped"];
    ASSERT_FALSE(r.contains("skipped")) << r.dump(2);
    EXPECT_TRUE(r["quick"].get<bool>());
    EXPECT_GE(r["threads"].get<int>(), 1);
    ASSERT_EQ(r["forward"].size(), 2u) << r.dump(2);
    for (const auto& f : r["forward"]) EXPECT_TRUE(positive(f, "ms") && positive(f, "batch")) << f;
    EXPECT_TRUE(positive(r["train_step"], "ms") && positive(r["train_step"], "images_per_s")) << r["train_step"];
    ASSERT_EQ(r["sampling"].size(), 2u);
    EXPECT_FALSE(r["sampling"][0]["guided"].get<bool>());
    EXPECT_TRUE(r["sampling"][1]["guided"].get<bool>());
    for (const auto& s : r["sampling"]) EXPECT_TRUE(positive(s, "seconds") && positive(s, "ms_per_step")) << s;
    const json& d = r["digits"];
    if (data::find_asset("unet.safetensors").empty()) {
        EXPECT_TRUE(d.contains("skipped")) << d;
    } else {
        EXPECT_TRUE(positive(d, "seconds") && positive(d, "seconds_per_100")) << d;
        EXPECT_EQ(d["prediction"], "v");
        EXPECT_GE(d["label_accuracy"].get<double>(), 0.0);
        EXPECT_LE(d["label_accuracy"].get<double>(), 1.0);
        const json& f = r["digits_fast"];
        EXPECT_EQ(f["sampler"], "dpmpp2m");
        EXPECT_TRUE(positive(f, "seconds") && positive(f, "seconds_per_100")) << f;
        EXPECT_GE(f["label_accuracy"].get<double>(), 0.0);
    }
    // The quick sizes match none of the bench's tasks: no ratio may come from unequal work.
    json ours = {{"unet", {{"forward", json::array({{{"batch", 1}, {"ms", 50.0}}})}}}};
    EXPECT_TRUE(cli::compare_with_torch(ours, r).contains("forward_b1"));
    ours["unet"]["forward"][0]["batch"] = 16;
    EXPECT_TRUE(cli::compare_with_torch(ours, r).empty());
}

// 24 images through diffuscope's classify() (GPU) and the script's PyTorch port: probabilities agree to 1e-4,
// and so does every label whose top two probabilities are not a near-tie.
class BenchTorchGpu : public test::GpuTest {};
TEST_F(BenchTorchGpu, PyTorchClassifierJudgesAsOurs) {
    const auto cls = data::find_asset("classifier.safetensors");
    if (cls.empty()) GTEST_SKIP() << "assets/classifier.safetensors not found";
    const auto t = cli::find_torch_bench("auto");
    if (!t.skipped.empty()) GTEST_SKIP() << t.skipped;
    iotest::TempDir dir;
    const uint32_t n = 24;
    std::vector<float> images(n * 784);
    std::mt19937 gen(11);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    for (uint32_t i = 0; i < n; ++i)  // a blob of ink at a random place and size, plus speckle: varied verdicts
        for (int y = 0; y < 28; ++y)
            for (int x = 0; x < 28; ++x) {
                const float cx = 8 + 12 * float(i % 5) / 4, cy = 8 + 12 * float(i % 7) / 6, r = 3 + float(i % 4) * 2;
                const float d = std::hypot(x - cx, y - cy);
                images[i * 784 + y * 28 + x] = std::clamp((d < r ? 1.0f : 0.0f) * (0.6f + 0.4f * u(gen)) + 0.2f * u(gen) - 0.1f, 0.0f, 1.0f);
            }
    io::write_npy_f32(dir / "x.npy", std::vector<int64_t>{n, 1, 28, 28}, images);
    const auto r = test::run_command(t.python + " " + t.script.string() + " --classify " + (dir / "x.npy").string() +
                                     " --classifier " + cls.string() + " --json " + (dir / "c.json").string());
    if (r.rc == 77) GTEST_SKIP() << r.out;
    ASSERT_EQ(r.rc, 0) << r.out;
    std::ifstream f(dir / "c.json");
    const json theirs = json::parse(f);
    const auto ours = nn::classify(ctx, nn::load_classifier(cls), images);
    ASSERT_EQ(theirs["probs"].size(), n);
    double worst = 0;
    uint32_t labels_compared = 0;
    for (uint32_t i = 0; i < n; ++i) {
        std::vector<float> p(ours.probs.begin() + i * 10, ours.probs.begin() + i * 10 + 10);
        for (int k = 0; k < 10; ++k) worst = std::max(worst, std::abs(double(p[k]) - theirs["probs"][i][k].get<double>()));
        std::sort(p.rbegin(), p.rend());
        if (p[0] - p[1] > 1e-3) {
            EXPECT_EQ(ours.predicted[i], theirs["predicted"][i].get<int>()) << "image " << i;
            ++labels_compared;
        }
    }
    EXPECT_LE(worst, 1e-4);
    EXPECT_GE(labels_compared, n / 2);
    std::printf("classifier: diffuscope vs PyTorch, max |Δp| = %.2e over %u images, %u labels compared\n", worst, n,
                labels_compared);
}

TEST(BenchTorch, RatiosAreOursOverTheirsForTheSameTaskOnly) {
    const json ours = {
        {"unet", {{"forward", {{{"batch", 1}, {"ms", 60.0}}, {{"batch", 16}, {"ms", 200.0}}, {{"batch", 64}, {"ms", 700.0}}}}}},
        {"trainer", {{"batch", 64}, {"ms", 2000.0}, {"images_per_s", 32.0}}},
        {"sampling", {{{"steps", 50}, {"digits", 16}, {"guided", false}, {"seconds", 9.0}},
                      {{"steps", 50}, {"digits", 16}, {"guided", true}, {"seconds", 16.0}}}},
        {"digits", {{"count", 100}, {"steps", 20}, {"guidance", 2.0}, {"seconds", 40.0}, {"seconds_per_100", 40.0},
                    {"label_accuracy", 0.8}, {"seconds_per_100_correct", 50.0}}},
        {"digits_fast", {{"count", 100}, {"sampler", "dpmpp2m"}, {"steps", 4}, {"guidance", 1.5}, {"seconds", 5.0},
                         {"seconds_per_100", 5.0}, {"label_accuracy", 0.5}, {"seconds_per_100_correct", 10.0}}}};
    json torch = {
        {"forward", {{{"batch", 1}, {"ms", 15.0}}, {{"batch", 16}, {"ms", 400.0}}, {{"batch", 64}, {"ms", 100.0}}}},
        {"train_step", {{"batch", 64}, {"ms", 250.0}, {"images_per_s", 80.0}}},
        {"sampling", {{{"steps", 50}, {"digits", 16}, {"guided", true}, {"seconds", 2.0}},
                      {{"steps", 50}, {"digits", 16}, {"guided", false}, {"seconds", 1.5}}}},
        {"digits", {{"count", 100}, {"steps", 20}, {"guidance", 2.0}, {"seconds", 6.0}, {"seconds_per_100", 6.0},
                    {"label_accuracy", 1.0}, {"seconds_per_100_correct", 6.0}}},
        {"digits_fast", {{"count", 100}, {"sampler", "dpmpp2m"}, {"steps", 4}, {"guidance", 1.5}, {"seconds", 1.0},
                         {"seconds_per_100", 1.0}, {"label_accuracy", 1.0}, {"seconds_per_100_correct", 1.0}}}};
    auto c = cli::compare_with_torch(ours, torch);
    EXPECT_DOUBLE_EQ(c["forward_b1"]["ratio"].get<double>(), 4.0);
    EXPECT_DOUBLE_EQ(c["forward_b16"]["ratio"].get<double>(), 0.5);
    EXPECT_DOUBLE_EQ(c["forward_b64"]["ratio"].get<double>(), 7.0);
    EXPECT_DOUBLE_EQ(c["train_images_per_s"]["ratio"].get<double>(), 0.4);  // img/s over img/s
    EXPECT_TRUE(c["train_images_per_s"]["met"].get<bool>());                // 40 % ≥ 30 %
    EXPECT_DOUBLE_EQ(c["ddim50_16"]["ratio"].get<double>(), 6.0);           // matched by "guided", not by order
    EXPECT_DOUBLE_EQ(c["ddim50_16_guided"]["ratio"].get<double>(), 8.0);
    EXPECT_DOUBLE_EQ(c["digits_100_correct"]["ratio"].get<double>(), 50.0 / 6.0);
    EXPECT_DOUBLE_EQ(c["digits_100_correct"]["diffuscope_label_accuracy"].get<double>(), 0.8);
    EXPECT_DOUBLE_EQ(c["digits_fast_100_correct"]["ratio"].get<double>(), 10.0);  // the same sampler on both sides
    EXPECT_EQ(c["digits_fast_100_correct"]["config"], "DPM++2M-4, w = 1.5");
    // The target: our fastest route per 100 correct (10 s, DPM++2M) against PyTorch's baseline task (6 s, DDIM).
    EXPECT_DOUBLE_EQ(c["time_to_100_correct"]["ratio"].get<double>(), 10.0 / 6.0);
    EXPECT_FALSE(c["time_to_100_correct"]["met"].get<bool>());
    EXPECT_EQ(c["time_to_100_correct"]["diffuscope_task"], "digits_fast");
    EXPECT_EQ(c["time_to_100_correct"]["pytorch_config"], "DDIM-20, w = 2");
    cli::print_torch_comparison(torch, c);  // prints every row without throwing
    json faster = ours;
    faster["digits_fast"]["seconds_per_100_correct"] = 5.4;
    EXPECT_TRUE(cli::compare_with_torch(faster, torch)["time_to_100_correct"]["met"].get<bool>());
    faster["digits_fast"]["seconds_per_100_correct"] = 80.0;  // slower than our baseline: the baseline counts
    EXPECT_DOUBLE_EQ(cli::compare_with_torch(faster, torch)["time_to_100_correct"]["ratio"].get<double>(), 50.0 / 6.0);
    faster["digits_fast"]["sampler"] = "ddim";                // another task than PyTorch's fast one: no ratio
    EXPECT_FALSE(cli::compare_with_torch(faster, torch).contains("digits_fast_100_correct"));

    torch["train_step"]["images_per_s"] = 200.0;  // 16 %: below the target
    EXPECT_FALSE(cli::compare_with_torch(ours, torch)["train_images_per_s"]["met"].get<bool>());
    torch["train_step"]["batch"] = 32;            // another task: no ratio
    torch["digits"]["steps"] = 50;
    torch["forward"][1]["ms"] = 0.0;              // no figure: no ratio
    torch["sampling"].erase(0);
    c = cli::compare_with_torch(ours, torch);
    EXPECT_FALSE(c.contains("train_images_per_s"));
    EXPECT_FALSE(c.contains("digits_100_correct"));
    EXPECT_FALSE(c.contains("time_to_100_correct"));  // PyTorch's baseline is another task now
    EXPECT_TRUE(c.contains("digits_fast_100_correct"));
    EXPECT_FALSE(c.contains("forward_b16"));
    EXPECT_FALSE(c.contains("ddim50_16_guided"));
    EXPECT_TRUE(c.contains("ddim50_16"));
    EXPECT_TRUE(cli::compare_with_torch(ours, {{"skipped", "--torch off"}}).empty());
    EXPECT_TRUE(cli::compare_with_torch(ours, json::array()).empty());
}

TEST(BenchTorch, EveryProblemIsASkipWithAReason) {
    auto t = cli::find_torch_bench("off");
    EXPECT_EQ(t.skipped, "--torch off");
    EXPECT_EQ(cli::run_torch_bench(t)["skipped"], "--torch off");

    t = cli::find_torch_bench("/nonexistent/python3");
    EXPECT_NE(t.skipped.find("/nonexistent/python3 does not exist"), std::string::npos) << t.skipped;
    EXPECT_TRUE(cli::run_torch_bench(t).contains("skipped"));

    iotest::TempDir dir;
    t = cli::find_torch_bench(fake_python(dir, "no-torch", "bench_torch: skipped: No module named torch", 77));
    ASSERT_TRUE(t.skipped.empty()) << t.skipped;  // the script is found from the test binary's folder
    auto r = cli::run_torch_bench(t);
    EXPECT_NE(r.value("skipped", "").find("cannot import torch: bench_torch: skipped: No module named torch"),
              std::string::npos) << r;
    t.python = fake_python(dir, "crash", "Traceback: ZeroDivisionError", 1);
    r = cli::run_torch_bench(t);
    EXPECT_NE(r.value("skipped", "").find("failed (exit status 1): Traceback: ZeroDivisionError"), std::string::npos) << r;
    t.python = fake_python(dir, "silent", "done", 0);  // exits 0 but writes no JSON
    r = cli::run_torch_bench(t);
    EXPECT_NE(r.value("skipped", "").find("is unreadable"), std::string::npos) << r;
    testing::internal::CaptureStdout();
    cli::print_torch_comparison(r, cli::compare_with_torch(json::object(), r));
    EXPECT_EQ(testing::internal::GetCapturedStdout().rfind("PyTorch CPU baseline: skipped: ", 0), 0u);
}
