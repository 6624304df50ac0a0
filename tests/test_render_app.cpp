// The visualiser as a user meets it: the stand-in chain forms digits; `diffuscope render` writes a frame with
// real content; a real window under Xvfb survives keys, resize, minimise and lecture mode with zero validation
// messages (skipped with a message when Xvfb is not installed). Minimise is requested too, but a bare Xvfb has no
// window manager to iconify the window, so the 0×0 path is not reached there (the JSON records it).
#include "diffusion/app/vis_standin.hpp"
#include "tests/gpu.hpp"

#include <stb_image.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace diffuscope::app;
using test::GpuTest;
namespace fs = std::filesystem;

namespace {
struct Run {
    int rc;
    std::string out;
};
Run run(const std::string& args, const std::string& env = "") {
    std::string cmd = env + " " + DIFFUSCOPE_BINARY + " " + args + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    std::array<char, 4096> buf;
    while (size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
    int status = pclose(p);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

struct Image {
    int w = 0, h = 0;
    std::vector<uint8_t> rgba;
};
Image load_png(const fs::path& p) {
    Image im;
    int n = 0;
    unsigned char* d = stbi_load(p.c_str(), &im.w, &im.h, &n, 4);
    if (d) {
        im.rgba.assign(d, d + size_t(im.w) * im.h * 4);
        stbi_image_free(d);
    }
    return im;
}

fs::path temp_dir(const std::string& name) {
    auto d = fs::temp_directory_path() / ("diffuscope_" + name + "_" + std::to_string(getpid()));
    fs::create_directories(d);
    return d;
}
}  // namespace

TEST_F(GpuTest, StandInChainFormsDigitsOfTheLabel) {
    StandInChain chain(ctx);
    ScheduleSettings ss;
    ss.steps = 40;
    HostSchedule h = make_schedule(ss);
    ASSERT_EQ(h.step_alpha_bar.size(), 40u);
    ASSERT_LT(h.final_alpha_bar(), 1e-3) << "linear T=1000 should end near pure noise";
    auto bright_fraction = [&](int label) {
        ChainSettings cs;
        cs.chains = 4;
        cs.label = label;
        cs.seed = 7;
        engine::one_shot(ctx, [&](engine::CommandBuffer& c) {
            chain.restart(c, cs, h);
            while (chain.record_step(c)) {}
        });
        EXPECT_TRUE(chain.done());
        EXPECT_EQ(chain.step_index(), 40);
        auto x = chain.x_t().download_as<float>(4 * 784);
        auto x0 = chain.x0_hat().download_as<float>(4 * 784);
        size_t bright = 0, binary = 0;
        for (size_t i = 0; i < x.size(); ++i) {
            EXPECT_TRUE(std::isfinite(x[i]));
            EXPECT_NEAR(x[i], x0[i], 1e-3) << "the last DDIM step (ᾱ' = 1) lands on x̂₀";
            bright += x[i] > 0.5f;
            binary += std::abs(x[i]) > 0.8f;
        }
        EXPECT_GT(double(binary) / x.size(), 0.85) << "digits are ±1 strokes on ±1 background, not noise";
        return double(bright) / x.size();
    };
    double one = bright_fraction(1), eight = bright_fraction(8);
    EXPECT_GT(one, 0.03);
    EXPECT_LT(eight, 0.5);
    EXPECT_GT(eight, 1.5 * one) << "an 8 has more ink than a 1";
}

TEST_F(GpuTest, ScheduleSwapMidChainContinuesFromTheCurrentLevel) {
    StandInChain chain(ctx);
    ScheduleSettings ss;
    ss.steps = 20;
    ChainSettings cs;
    cs.chains = 1;
    engine::one_shot(ctx, [&](engine::CommandBuffer& c) {
        chain.restart(c, cs, make_schedule(ss));
        for (int i = 0; i < 10; ++i) chain.record_step(c);
    });
    double level = chain.alpha_bar();
    ss.preset = Preset::cosine;
    ss.steps = 100;
    chain.set_schedule(make_schedule(ss));
    EXPECT_DOUBLE_EQ(chain.alpha_bar(), level) << "swapping the schedule must not move x_t's noise level";
    EXPECT_GT(chain.alpha_bar_next(), level) << "the next step goes towards less noise";
    int left = 0;
    engine::one_shot(ctx, [&](engine::CommandBuffer& c) { while (chain.record_step(c)) ++left; });
    EXPECT_GT(left, 20) << "the rest of the chain follows the new, finer schedule";
    EXPECT_TRUE(chain.done());
}

TEST(RenderCommand, WritesAFrameWithDigitsAndIsValidationClean) {
    auto dir = temp_dir("render");
    auto r = run("--validate render --frames 45 --steps 40 --out " + (dir / "f.png").string() + " --grid-out " +
                 (dir / "g.png").string() + " --label 0");
    ASSERT_EQ(r.rc, 0) << r.out;
    EXPECT_NE(r.out.find("validation: 0 errors, 0 warnings"), std::string::npos) << r.out;
    Image f = load_png(dir / "f.png"), g = load_png(dir / "g.png");
    ASSERT_EQ(f.w, 1280);
    ASSERT_EQ(f.h, 800);
    // The grid: 4×4 tiles of 28 px with 1 px gaps; 40 steps done at 30 steps/s over 45 frames → digits.
    ASSERT_EQ(g.w, 4 * 28 + 5);
    size_t white = 0, black = 0, tile_px = 0;
    for (int y = 1; y < 29; ++y)
        for (int x = 1; x < 29; ++x, ++tile_px) {
            uint8_t v = g.rgba[(size_t(y) * g.w + x) * 4];
            white += v > 200;
            black += v < 55;
        }
    EXPECT_GT(white, tile_px / 10) << "no strokes in the first tile";
    EXPECT_GT(black, tile_px / 3) << "no background in the first tile";
    EXPECT_GT(white + black, tile_px * 8 / 10) << "the first tile is still noisy";
    // A zero has a hole: the tile's centre pixel is background.
    EXPECT_LT(g.rgba[(size_t(15) * g.w + 15) * 4], 55);
    // The whole frame: the panels' text and the grids, many distinct colours; the grid is drawn in it.
    std::vector<uint32_t> colours;
    for (size_t i = 0; i < f.rgba.size(); i += 4) colours.push_back(f.rgba[i] | f.rgba[i + 1] << 8 | f.rgba[i + 2] << 16);
    std::sort(colours.begin(), colours.end());
    colours.erase(std::unique(colours.begin(), colours.end()), colours.end());
    EXPECT_GT(colours.size(), 50u);
}

TEST(RenderCommand, SameCommandLineSameGrid) {
    auto dir = temp_dir("render_twice");
    std::string args = " render --frames 12 --chains 4 --eta 0.5 --seed 9 --steps 30 --out " + (dir / "f.png").string();
    auto a = run(args + " --grid-out " + (dir / "a.png").string());
    auto b = run(args + " --grid-out " + (dir / "b.png").string());
    ASSERT_EQ(a.rc, 0) << a.out;
    ASSERT_EQ(b.rc, 0) << b.out;
    Image ga = load_png(dir / "a.png"), gb = load_png(dir / "b.png");
    ASSERT_FALSE(ga.rgba.empty());
    EXPECT_EQ(ga.rgba, gb.rgba) << "the offscreen frame must not depend on timing";
}

TEST(RenderCommand, BadOptionsAreClearErrors) {
    auto r = run("render --steps 500 --T 100 --out /tmp/never.png");
    EXPECT_NE(r.rc, 0);
    EXPECT_NE(r.out.find("--steps"), std::string::npos) << r.out;
    r = run("render --mode field2d --frames 1 --out /tmp/never.png");
    EXPECT_NE(r.rc, 0);
    EXPECT_NE(r.out.find("not in this build"), std::string::npos) << r.out;
    r = run("render --frames 1 --out /nonexistent-dir/x.png");
    EXPECT_NE(r.rc, 0);
    EXPECT_NE(r.out.find("/nonexistent-dir/x.png"), std::string::npos) << r.out;
}

TEST(VisualiserWindow, XvfbSelftestKeysResizeLectureScreenshotIsValidationClean) {
    if (system("command -v Xvfb >/dev/null 2>&1") != 0) GTEST_SKIP() << "Xvfb is not installed (apt-get install xvfb)";
    const int display = 40 + getpid() % 50;
    pid_t xvfb = fork();
    if (xvfb == 0) {
        std::string d = ":" + std::to_string(display);
        if (!freopen("/dev/null", "w", stderr)) _exit(126);
        execlp("Xvfb", "Xvfb", d.c_str(), "-screen", "0", "1280x800x24", "-nolisten", "tcp", nullptr);
        _exit(127);
    }
    auto sock = fs::path("/tmp/.X11-unix") / ("X" + std::to_string(display));
    for (int i = 0; i < 100 && !fs::exists(sock); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!fs::exists(sock)) {
        kill(xvfb, SIGTERM);
        waitpid(xvfb, nullptr, 0);
        GTEST_SKIP() << "Xvfb :" << display << " did not start";
    }
    auto dir = temp_dir("window");
    auto r = run("--validate --frames 90 --selftest --screenshot " + (dir / "w.png").string() + " --stats-json " +
                     (dir / "s.json").string(),
                 "DISPLAY=:" + std::to_string(display));
    kill(xvfb, SIGTERM);
    waitpid(xvfb, nullptr, 0);
    ASSERT_EQ(r.rc, 0) << r.out;
    EXPECT_NE(r.out.find("validation: 0 errors, 0 warnings"), std::string::npos) << r.out;
    std::stringstream json;
    json << std::ifstream(dir / "s.json").rdbuf();
    EXPECT_NE(json.str().find("\"frames\": 90"), std::string::npos) << json.str();
    EXPECT_EQ(json.str().find("\"recreations\": 0"), std::string::npos) << "resizing did not rebuild the swapchain\n" << json.str();
    Image w = load_png(dir / "w.png");
    ASSERT_EQ(w.w, 1280) << "the window is back at 1280×800 after the resize";
    ASSERT_EQ(w.h, 800);
    size_t lit = 0;
    for (size_t i = 0; i < w.rgba.size(); i += 4) lit += w.rgba[i + 1] > 128;
    EXPECT_GT(lit, w.rgba.size() / 4 / 100) << "the screenshot is (almost) empty";
}
