// The visualiser as a user meets it: the oracle chains form real digits, a schedule swap mid-chain changes the
// rest of the chain, the 2-D field's arrows point to the data; `diffuscope render` writes a frame with
// real content; a real window under Xvfb survives keys, resize, minimise and lecture mode with zero validation
// messages (skipped with a message when Xvfb is not installed). Minimise is requested too, but a bare Xvfb has no
// window manager to iconify the window, so the 0×0 path is not reached there (the JSON records it).
#include "diffusion/vis/chains.hpp"
#include "diffusion/vis/export.hpp"
#include "tests/image_decode.hpp"
#include "diffusion/vis/field2d.hpp"
#include "diffusion/vis/model_source.hpp"
#include "diffusion/vis/visualiser.hpp"
#include "diffusion/data/toy2d.hpp"
#include "diffusion/model/classifier.hpp"
#include "engine/offscreen.hpp"
#include "tests/gpu.hpp"
#include "tests/run_binary.hpp"

#include <nlohmann/json.hpp>
#include <stb_image.h>

#include <array>
#include <cmath>
#include <optional>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace diffuscope::vis;
using test::GpuTest;
namespace fs = std::filesystem;

namespace {
using test::Run;
Run run(const std::string& args, const std::string& env = "") { return test::run_diffuscope(args, env); }

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

// The MNIST training split, or a skip with the reason (setup could not fetch the data).
const diffuscope::data::Mnist* training_digits() {
    static std::optional<diffuscope::data::Mnist> train;
    static std::string why;
    static bool tried = false;
    if (!tried) {
        tried = true;
        try {
            train = load_training_digits(diffuscope::data::default_data_dir(), why);
        } catch (const std::exception& e) {  // no data folder at all
            why = e.what();
        }
    }
    return train ? &*train : nullptr;
}

// Mean squared pixel difference of image a (floats in [−1, 1]) to the nearest training image of `label`, and to
// the nearest of any other label.
std::pair<double, double> nearest_distances(const float* a, const diffuscope::data::Mnist& m, int label) {
    double same = 1e9, other = 1e9;
    for (uint32_t i = 0; i < m.count; ++i) {
        double d = 0;
        for (uint32_t p = 0; p < 784; ++p) {
            double v = m.pixels[size_t(i) * 784 + p] / 127.5 - 1 - a[p];
            d += v * v;
        }
        d /= 784;
        (m.labels[i] == label ? same : other) = std::min(m.labels[i] == label ? same : other, d);
    }
    return {same, other};
}

struct OracleChain {
    std::unique_ptr<LoadedModel> model;
    std::unique_ptr<VisChain> chain;
    OracleChain(engine::Context& ctx, const diffuscope::data::Mnist& m)
        : model(load_oracle_model(ctx, m, 2 * VisChain::group_for(ctx))),
          chain(std::make_unique<VisChain>(ctx, model->denoiser(), &m)) {}
};
}  // namespace

TEST_F(GpuTest, OracleChainsOfLabelThreeEndAsRealThrees) {
    const auto* m = training_digits();
    if (!m) GTEST_SKIP() << "no MNIST data (run scripts/run.sh, or set DIFFUSCOPE_DATA)";
    OracleChain oc(ctx, *m);
    VisChain& chain = *oc.chain;
    ScheduleSettings ss;
    ss.steps = 20;
    HostSchedule h = make_schedule(ss);
    ASSERT_EQ(h.timesteps.size(), 20u);
    ASSERT_LT(h.final_alpha_bar(), 1e-3) << "linear T=1000 should end near pure noise";
    ChainSettings cs;
    cs.chains = 4;
    cs.label = 3;
    cs.seed = 7;
    engine::one_shot(ctx, [&](engine::CommandBuffer& c) {
        chain.restart(c, cs, h);
        while (chain.record_step(c)) {}
    });
    EXPECT_TRUE(chain.done());
    EXPECT_EQ(chain.step_index(), 20);
    EXPECT_EQ(chain.history_frames(), 21u) << "x_T and every step's x in the trajectory";
    auto x = chain.x_t().download_as<float>(4 * 784);
    auto traj = chain.history().download_as<float>(size_t(21) * 4 * 784);
    for (size_t i = 0; i < x.size(); ++i) {
        ASSERT_TRUE(std::isfinite(x[i]));
        EXPECT_EQ(x[i], traj[size_t(20) * 4 * 784 + i]) << "the last trajectory slot is the final x";
    }
    // What "save GIF" / "save PNG" write: every step as a frame of the labelled grid, the last one the final x.
    auto dir = temp_dir("export");
    EXPECT_EQ(write_chain_gif(chain, dir / "c.gif", 100), 21u);
    EXPECT_EQ(write_chain_gif(chain, dir / "short.gif", 5), 5u);
    write_chain_png(chain, dir / "g.png");
    auto gif = imgtest::decode_gif(diffuscope::io::read_file(dir / "c.gif"));
    EXPECT_EQ(gif.frames.size(), 21u);
    Image png = load_png(dir / "g.png");
    EXPECT_GT(png.w, 2 * 28 * 3);
    fs::remove_all(dir);
    for (int k = 0; k < 4; ++k) {
        auto [same, other] = nearest_distances(x.data() + k * 784, *m, 3);
        // The empirical oracle memorises: each sample is (almost) a training 3, far closer to one than to any
        // other digit (typical distances between different MNIST digits are ≳ 0.2 in this unit).
        EXPECT_LT(same, 0.02) << "chain " << k << " did not land on a training 3";
        EXPECT_LT(same * 4, other) << "chain " << k;
    }
}

TEST_F(GpuTest, ScheduleSwapMidChainContinuesFromTheCurrentLevelAndChangesTheRest) {
    const auto* m = training_digits();
    if (!m) GTEST_SKIP() << "no MNIST data (run `diffuscope data`)";
    OracleChain oc(ctx, *m);
    VisChain& chain = *oc.chain;
    ScheduleSettings ss;
    ss.steps = 20;
    ChainSettings cs;
    cs.chains = 4;
    cs.label = 5;
    // Reference: 11 steps of the linear schedule.
    engine::one_shot(ctx, [&](engine::CommandBuffer& c) {
        chain.restart(c, cs, make_schedule(ss));
        for (int i = 0; i < 11; ++i) chain.record_step(c);
    });
    auto ref = chain.x_t().download_as<float>(4 * 784);
    // The same 10 steps, then the cosine schedule with 100 steps, then one step.
    engine::one_shot(ctx, [&](engine::CommandBuffer& c) {
        chain.restart(c, cs, make_schedule(ss));
        for (int i = 0; i < 10; ++i) chain.record_step(c);
    });
    const double level = chain.alpha_bar();
    ScheduleSettings cos = ss;
    cos.preset = diffuscope::SchedulePreset::cosine;
    cos.steps = 100;
    chain.set_schedule(make_schedule(cos));
    EXPECT_NEAR(chain.alpha_bar(), level, 0.02 * level + 1e-4) << "swapping the schedule must not move x_t's noise level";
    EXPECT_GT(chain.alpha_bar_next(), chain.alpha_bar()) << "the next step goes towards less noise";
    EXPECT_GT(chain.total_steps(), 40) << "the rest of the chain follows the new, finer schedule";
    engine::one_shot(ctx, [&](engine::CommandBuffer& c) { chain.record_step(c); });
    auto swapped = chain.x_t().download_as<float>(4 * 784);
    double diff = 0;
    for (size_t i = 0; i < ref.size(); ++i) diff = std::max(diff, double(std::abs(ref[i] - swapped[i])));
    EXPECT_GT(diff, 0.05) << "the step after the swap must differ from the old schedule's step";
    int left = 0;
    engine::one_shot(ctx, [&](engine::CommandBuffer& c) { while (chain.record_step(c)) ++left; });
    EXPECT_GT(left, 30);
    EXPECT_TRUE(chain.done());
    auto x = chain.x_t().download_as<float>(4 * 784);
    auto [same, other] = nearest_distances(x.data(), *m, 5);
    EXPECT_LT(same, 0.02) << "the swapped chain still ends on a training 5";
    EXPECT_LT(same * 4, other);
}

TEST_F(GpuTest, Field2dArrowsPointToTheDataAndParticlesReachIt) {
    engine::Offscreen target(ctx, {64, 64});
    Field2d field(ctx, target.render_pass());
    Field2dSettings fs;  // gmm8: 8 Gaussians on a circle of radius 0.9
    fs.particles = 256;
    fs.steps = 40;
    ScheduleSettings ss;
    field.restart(to_spec(ss), fs, 3);
    engine::one_shot(ctx, [&](engine::CommandBuffer& c) { field.record(c, 40, -1); });
    EXPECT_EQ(field.step(), 40);
    const auto gmm = diffuscope::data::toy2d("gmm8");
    auto nearest = [&](float x, float y) {
        float best = 1e9f, bx = 0, by = 0;
        for (const auto& c : gmm.components) {
            float d = std::hypot(c.mean[0] - x, c.mean[1] - y);
            if (d < best) best = d, bx = c.mean[0], by = c.mean[1];
        }
        return std::array<float, 3>{best, bx, by};
    };
    // Arrows at the least noisy level: near a component (but not on it), the denoise direction points at it.
    const uint32_t K = field.grid_side();
    auto arrows = field.arrow_items().download_as<float>(size_t(K) * K * 4);
    int checked = 0, pointing = 0;
    for (uint32_t i = 0; i < K * K; ++i) {
        const float* a = &arrows[i * 4];
        ASSERT_TRUE(std::isfinite(a[2]) && std::isfinite(a[3]));
        auto [d, mx, my] = nearest(a[0], a[1]);
        if (d < 0.15f || d > 0.4f) continue;
        ++checked;
        float tx = mx - a[0], ty = my - a[1];
        float cosine = (a[2] * tx + a[3] * ty) / (std::hypot(a[2], a[3]) * std::hypot(tx, ty) + 1e-12f);
        pointing += cosine > 0.9f;
    }
    ASSERT_GT(checked, 10);
    EXPECT_GT(pointing, checked * 9 / 10) << pointing << " of " << checked << " arrows point to the nearest component";
    auto dots = field.particle_items().download_as<float>(256 * 4);
    int close = 0;
    for (int i = 0; i < 256; ++i) close += nearest(dots[i * 4], dots[i * 4 + 1])[0] < 0.3f;
    EXPECT_GT(close, 256 * 9 / 10) << "the particles end on the data";

    // Trails: each particle's segments join end to start, from x_T to where the particle is now; a CPU driver
    // draws at most 6144 segments a panel (several steps each), a GPU one per step.
    const uint32_t segs = field.trail_segments();
    if (ctx.info().type == VK_PHYSICAL_DEVICE_TYPE_CPU) {
        EXPECT_LE(256 * segs, 6144u);
        EXPECT_LT(segs, 40u) << "256 particles × 40 steps is more than the CPU cap";
    } else {
        EXPECT_EQ(segs, 40u);
    }
    ASSERT_GT(segs, 1u);
    auto trails = field.trail_items().download_as<float>(size_t(256) * segs * 4);
    // x_T: where the particles were before the first step (a fresh restart, nothing advanced).
    Field2d fresh(ctx, target.render_pass());
    fresh.restart(to_spec(ss), fs, 3);
    engine::one_shot(ctx, [&](engine::CommandBuffer& c) { fresh.record(c, 0, -1); });
    const auto x_T = fresh.particle_items().download_as<float>(256 * 4);
    for (uint32_t p = 0; p < 256; ++p) {
        ASSERT_EQ(trails[size_t(p) * 4], x_T[p * 4]) << "particle " << p << ": the trail starts at x_T";
        ASSERT_EQ(trails[size_t(p) * 4 + 1], x_T[p * 4 + 1]) << "particle " << p;
        for (uint32_t s = 0; s + 1 < segs; ++s) {
            const float* a = &trails[(size_t(s) * 256 + p) * 4];
            const float* b = &trails[(size_t(s + 1) * 256 + p) * 4];
            ASSERT_EQ(a[2], b[0]) << "particle " << p << " segment " << s;
            ASSERT_EQ(a[3], b[1]) << "particle " << p << " segment " << s;
        }
        const float* last = &trails[(size_t(segs - 1) * 256 + p) * 4];
        ASSERT_EQ(last[2], dots[p * 4]) << "particle " << p << ": the trail ends at the particle";
        ASSERT_EQ(last[3], dots[p * 4 + 1]) << "particle " << p;
    }
}

TEST_F(GpuTest, Field2dLearnedFieldApproachesTheExactOneAndItsParticlesReachTheData) {
    engine::Offscreen target(ctx, {64, 64});
    Field2d field(ctx, target.render_pass());
    Field2dSettings fs;  // gmm8
    fs.particles = 256;
    fs.steps = 30;
    fs.grid = 16;
    fs.model = FieldModel::side_by_side;
    ScheduleSettings ss;
    field.restart(to_spec(ss), fs, 3);
    ASSERT_EQ(field.panels().size(), 2u);
    // The error of the learned arrows against the exact ones over the grid, at slot 20 of 30 (ᾱ ≈ 0.5 on the
    // linear schedule: where the noised data covers the grid). At the least noisy levels the grid's far points
    // are where the net never trained (x_t there is never drawn from the data), and its arrows are wrong there:
    // the difference panel shows exactly that, so it is not measured.
    const uint32_t K = field.grid_side();
    const int mid = 20;
    auto error = [&] {
        engine::one_shot(ctx, [&](engine::CommandBuffer& c) { field.record(c, 0, mid); });
        auto exact = field.arrow_items().download_as<float>(size_t(K) * K * 4);
        auto diff = field.difference_items().download_as<float>(size_t(K) * K * 4);
        double e = 0, n = 0;
        for (uint32_t i = 0; i < K * K; ++i) {
            e += std::hypot(diff[i * 4 + 2], diff[i * 4 + 3]);
            n += std::hypot(exact[i * 4 + 2], exact[i * 4 + 3]);
        }
        return e / n;
    };
    engine::one_shot(ctx, [&](engine::CommandBuffer& c) { field.record(c, 30, -1); });
    const double before = error();
    // The learner's steps as the window records them, here a whole step per submission (an unlimited budget).
    for (int frames = 0; field.learn_steps() < 400; ++frames) {
        ASSERT_LT(frames, 100000);
        engine::one_shot(ctx, [&](engine::CommandBuffer& c) { field.record_learning(c, 0, 1e9); });
        field.learning_slot_finished(0, 0.0);
    }
    const double after = error();
    std::printf("  learned field: arrow error at ᾱ = %.2f %.3f → %.3f after %llu steps (loss %.4f)\n", field.shown_alpha_bar(),
                before, after, (unsigned long long)field.learn_steps(), field.learn_loss());
    // Measured 0.947 → 0.457 over the whole grid (corners included) after 416 steps; an untrained or broken
    // learner stays near 1 (tests/test_mlp2d.cpp measures the trained field closely, inside the data's box).
    EXPECT_LT(after, 0.6);
    EXPECT_LT(after, before * 0.6);
    // The learned model's particles, from the same x_T, end nearer the data than the untrained model's did.
    const auto gmm = diffuscope::data::toy2d("gmm8");
    auto mean_distance = [&] {
        auto dots = field.learned_particle_items().download_as<float>(256 * 4);
        double sum = 0;
        for (int i = 0; i < 256; ++i) {
            float best = 1e9f;
            for (const auto& c : gmm.components) best = std::min(best, std::hypot(c.mean[0] - dots[i * 4], c.mean[1] - dots[i * 4 + 1]));
            sum += best;
        }
        return sum / 256;
    };
    engine::one_shot(ctx, [&](engine::CommandBuffer& c) { field.record(c, 0, -1); });
    const double untrained = mean_distance();
    const uint64_t learned = field.learn_steps();
    field.restart(to_spec(ss), fs, 3);  // same data set: the learned model is kept, the particles start again
    EXPECT_EQ(field.learn_steps(), learned);
    engine::one_shot(ctx, [&](engine::CommandBuffer& c) { field.record(c, 30, -1); });
    const double trained = mean_distance();
    std::printf("  learned particles: mean distance to the nearest component %.3f (untrained) → %.3f\n", untrained, trained);
    EXPECT_LT(trained, 0.6 * untrained);
    // Exact alone: one panel, and training does nothing.
    fs.model = FieldModel::exact;
    field.restart(to_spec(ss), fs, 3);
    EXPECT_EQ(field.panels().size(), 1u);
    Slice none;
    engine::one_shot(ctx, [&](engine::CommandBuffer& c) { none = field.record_learning(c, 0, 1e9); });
    EXPECT_EQ(none.dispatches, 0u);
}

TEST(RenderCommand, WritesAFrameWithDigitsAndIsValidationClean) {
    if (!training_digits()) GTEST_SKIP() << "no MNIST data: the sample view needs the oracle's digits";
    auto dir = temp_dir("render");
    auto r = run("--validate render --oracle --frames 45 --steps 40 --out " + (dir / "f.png").string() + " --grid-out " +
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

// The 16 tiles of a rendered x_t grid (4×4 tiles of 28 px, 1 px gaps, grey map) as images in [0, 1].
std::vector<float> grid_tiles(const Image& g) {
    std::vector<float> out;
    for (int t = 0; t < 16; ++t)
        for (int y = 0; y < 28; ++y)
            for (int x = 0; x < 28; ++x) {
                const int gx = 1 + (t % 4) * 29 + x, gy = 1 + (t / 4) * 29 + y;
                out.push_back(g.rgba[(size_t(gy) * g.w + gx) * 4] / 255.0f);
            }
    return out;
}

// What the window draws is judged by the bundled classifier: the oracle's grid of 3s and the bundled UNet's
// grid of 7s are read as 3s and 7s (skipped where the data or the bundled weights are missing).
TEST(RenderCommand, TheClassifierReadsTheRenderedDigits) {
    if (!training_digits()) GTEST_SKIP() << "no MNIST data";
    const fs::path repo = DIFFUSCOPE_SOURCE_DIR;
    if (!fs::exists(repo / "assets/classifier.safetensors")) GTEST_SKIP() << "no bundled classifier";
    const auto weights = diffuscope::nn::load_classifier(repo / "assets/classifier.safetensors");
    auto dir = temp_dir("render_cls");
    struct Case { std::string model; int label, floor; };
    std::vector<Case> cases = {{"--oracle", 3, 15}};
    if (fs::exists(repo / "assets/unet.safetensors")) cases.push_back({"--guidance 2", 7, 11});  // the bundled UNet
    for (const auto& c : cases) {
        auto r = run("render " + c.model + " --frames 60 --steps 30 --label " + std::to_string(c.label) + " --out " +
                     (dir / "f.png").string() + " --grid-out " + (dir / "g.png").string());
        ASSERT_EQ(r.rc, 0) << r.out;
        auto res = diffuscope::nn::classify(test::gpu(), weights, grid_tiles(load_png(dir / "g.png")));
        const int hits = int(std::count(res.predicted.begin(), res.predicted.end(), c.label));
        std::printf("[render] %s label %d: %d/16 read as %d\n", c.model.c_str(), c.label, hits, c.label);
        EXPECT_GE(hits, c.floor) << c.model;
    }
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

// The chains' work in its own submissions on the compute queue (--async-compute on: on lavapipe the same queue,
// on a GPU its compute-only family) draws the very frame that one queue draws, validation clean, in the sample
// and the forward view.
TEST(RenderCommand, AsyncComputeDrawsTheSameFrameAsOneQueue) {
    auto dir = temp_dir("render_async");
    for (std::string mode : {"sample", "forward"}) {
        std::map<std::string, Image> frame, grid;
        for (std::string async : {"off", "on"}) {
            const std::string tag = mode + "_" + async;
            auto r = run("--validate render --mode " + mode + " --frames 16 --chains 4 --labels per-chain --steps 20 "
                         "--seed 5 --async-compute " + async + " --out " + (dir / (tag + ".png")).string() +
                         " --grid-out " + (dir / (tag + "_g.png")).string() + " --stats-json " +
                         (dir / (tag + ".json")).string());
            ASSERT_EQ(r.rc, 0) << r.out;
            EXPECT_NE(r.out.find("validation: 0 errors, 0 warnings"), std::string::npos) << r.out;
            nlohmann::json j = nlohmann::json::parse(std::ifstream(dir / (tag + ".json")));
            EXPECT_EQ(j.value("async_frames", -1), async == "on" ? 16 : 0) << j.dump();
            EXPECT_EQ(j.value("async_compute", false), async == "on") << j.dump();
            frame[async] = load_png(dir / (tag + ".png"));
            grid[async] = load_png(dir / (tag + "_g.png"));
        }
        ASSERT_FALSE(grid["on"].rgba.empty());
        EXPECT_EQ(grid["on"].rgba, grid["off"].rgba) << mode << ": the compute queue's grid differs";
        EXPECT_EQ(frame["on"].rgba, frame["off"].rgba) << mode << ": the compute queue's frame differs";
    }
}

// A Visualiser drawing offscreen through its own ImGui layer, as `render` does, a frame at a time. ImGui has one
// global context: one of these at a time.
struct OffscreenVis {
    engine::Offscreen& target;
    Visualiser vis;
    engine::ImGuiLayer ui;
    OffscreenVis(engine::Context& ctx, engine::Offscreen& t, VisSettings s)
        : target(t), vis(ctx, t, std::move(s)), ui(ctx, t.render_pass(), 1, nullptr, vis.ui_options(1.0f)) {}
    void frame() {
        auto f = target.begin();
        vis.frame(*f, target, ui, 1 / 30.0f);
        target.submit(*f);
    }
};

// The model panel's weights field: a missing, corrupt or truncated file is refused with the reason on screen and the
// running model kept; a good file (pasted with quotes) joins the model list and runs from the next frame.
TEST_F(GpuTest, TheModelPanelLoadsAWeightsFileAndRefusesBadOnes) {
    const fs::path bundled = fs::path(DIFFUSCOPE_SOURCE_DIR) / "assets/unet.safetensors";
    if (!fs::exists(bundled)) GTEST_SKIP() << "no bundled weights";
    auto dir = temp_dir("load_weights");
    engine::Offscreen target(ctx, {640, 400});
    VisSettings s;
    s.weights = bundled.string();
    s.chain.chains = 1;
    s.data_dir = (dir / "no-mnist-here").string();  // the UNet needs no digits
    {
        OffscreenVis ov(ctx, target, s);
        Visualiser& vis = ov.vis;
        auto frame = [&] { ov.frame(); };
        frame();
        ASSERT_NE(vis.chain(), nullptr);
        const uint64_t first = vis.chain()->serial();
        const std::string first_label = vis.model_label();

        EXPECT_FALSE(vis.load_weights_file((dir / "missing.safetensors").string()));
        EXPECT_NE(vis.model_error().find("no such file"), std::string::npos) << vis.model_error();
        std::ofstream(dir / "garbage.safetensors") << "not a safetensors file at all";
        EXPECT_FALSE(vis.load_weights_file((dir / "garbage.safetensors").string()));
        EXPECT_NE(vis.model_error().find("garbage.safetensors"), std::string::npos) << vis.model_error();
        {
            std::ifstream in(bundled, std::ios::binary);
            std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            std::ofstream(dir / "half.safetensors", std::ios::binary).write(bytes.data(), std::streamsize(bytes.size() / 2));
        }
        EXPECT_FALSE(vis.load_weights_file((dir / "half.safetensors").string()));
        EXPECT_NE(vis.model_error().find("half.safetensors"), std::string::npos) << vis.model_error();
        frame();
        EXPECT_EQ(vis.chain()->serial(), first) << "a refused file must keep the running model";
        EXPECT_EQ(vis.model_label(), first_label);

        fs::copy_file(bundled, dir / "copy.safetensors", fs::copy_options::overwrite_existing);
        EXPECT_TRUE(vis.load_weights_file(" \"" + (dir / "copy.safetensors").string() + "\" ")) << vis.model_error();
        EXPECT_TRUE(vis.model_error().empty()) << vis.model_error();
        frame();
        EXPECT_NE(vis.chain()->serial(), first) << "the loaded weights did not replace the model";
        EXPECT_EQ(vis.model_label(), "UNet (copy.safetensors)");
    }

    // Without digits and without weights there are no chains (the 2-D field view): a file brings them.
    VisSettings bare;
    bare.data_dir = s.data_dir;
    bare.chain.chains = 1;
    bare.budget_ms = 0;  // a whole step per frame, whatever the device
    OffscreenVis ov(ctx, target, bare);
    Visualiser& none = ov.vis;
    auto frame2 = [&] { ov.frame(); };
    frame2();
    EXPECT_EQ(none.chain(), nullptr);
    EXPECT_EQ(none.settings().mode, VisMode::field2d);
    EXPECT_TRUE(none.load_weights_file((dir / "copy.safetensors").string())) << none.model_error();
    frame2();
    ASSERT_NE(none.chain(), nullptr) << "the weights file did not bring digit chains";
    none.settings().mode = VisMode::sample;
    frame2();
    frame2();
    EXPECT_GT(none.step_index(), 0);
}

TEST(RenderCommand, BadOptionsAreClearErrors) {
    auto r = run("render --steps 500 --T 100 --out /tmp/never.png");
    EXPECT_NE(r.rc, 0);
    EXPECT_NE(r.out.find("--steps"), std::string::npos) << r.out;
    // The image field needs digit chains: with unreadable weights and no MNIST there are none.
    r = run("render --mode fieldimg --weights /nonexistent.safetensors --data /nonexistent-mnist --frames 1 --out /tmp/never.png");
    EXPECT_NE(r.rc, 0);
    EXPECT_NE(r.out.find("needs digit chains"), std::string::npos) << r.out;
    r = run("render --frames 1 --out /nonexistent-dir/x.png");
    EXPECT_NE(r.rc, 0);
    EXPECT_NE(r.out.find("/nonexistent-dir/x.png"), std::string::npos) << r.out;
}

namespace {
// Connects to display :n the way libxcb does on Linux, the abstract socket first, then the socket file, and hangs
// up without the connection setup: a client that completed its setup and left would make Xvfb reset itself, and
// the test's real client would then connect into that reset. "" when one of the two sockets accepts.
std::string x11_connect(int n) {
    const std::string path = "/tmp/.X11-unix/X" + std::to_string(n);
    std::string why;
    for (bool abstract : {true, false}) {
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path + (abstract ? 1 : 0), path.data(), path.size());
        const socklen_t len = socklen_t(offsetof(sockaddr_un, sun_path) + (abstract ? 1 : 0) + path.size());
        const int sock = socket(AF_UNIX, SOCK_STREAM, 0);
        if (sock < 0) return "socket() failed";
        const bool ok = connect(sock, reinterpret_cast<sockaddr*>(&addr), len) == 0;
        close(sock);
        if (ok) return "";
        why += (abstract ? "@" : "") + path + " accepts no connection; ";
    }
    return why;
}

// A private X server for one test; skips (with the reason) when Xvfb is missing or does not start.
// Xvfb picks a free display itself and writes its number to a pipe once it accepts connections (-displayfd):
// waiting for a socket file instead could see a stale one left by an earlier server, and a display number derived
// from the pid could collide with another server's. The display is handed out once a socket a client would use
// accepts a connection. The server's stderr is kept for the failure messages.
struct Xvfb {
    int display = -1;
    pid_t pid = -1;
    std::string skip;
    fs::path log = fs::temp_directory_path() / ("diffuscope_xvfb_" + std::to_string(getpid()) + ".log");
    Xvfb() { start(); }
    ~Xvfb() {
        stop();
        std::error_code ec;
        fs::remove(log, ec);
    }
    void start() {
        skip.clear();
        if (system("command -v Xvfb >/dev/null 2>&1") != 0) {
            skip = "Xvfb is not installed (apt-get install xvfb)";
            return;
        }
        int fd[2];
        if (pipe(fd) != 0) {
            skip = "pipe() failed";
            return;
        }
        const std::string out = std::to_string(fd[1]);  // before fork: the child only execs
        pid = fork();
        if (pid == 0) {
            close(fd[0]);
            if (!freopen(log.c_str(), "w", stderr)) _exit(126);
            execlp("Xvfb", "Xvfb", "-displayfd", out.c_str(), "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-audit", "4",
                   nullptr);
            _exit(127);
        }
        close(fd[1]);
        std::string got;
        pollfd p{fd[0], POLLIN, 0};
        for (int waited = 0; waited < 20000 && got.find('\n') == std::string::npos;) {
            if (poll(&p, 1, 200) > 0) {
                char buf[16];
                const ssize_t n = read(fd[0], buf, sizeof buf);
                if (n <= 0) break;  // Xvfb exited without a display
                got.append(buf, size_t(n));
            } else {
                waited += 200;
            }
        }
        close(fd[0]);
        if (got.find('\n') == std::string::npos) {
            skip = "Xvfb did not start (no display number within 20 s)\n" + server_log();
            stop();
            return;
        }
        display = std::stoi(got);
        // Wait until a socket accepts, or the server has gone. ("Failed to open display :0" comes from a client
        // reconnecting into the reset that Xvfb performs when its last client leaves, not from this wait; see
        // engine/window/window.cpp.)
        std::string why;
        for (int waited = 0;; waited += 50) {
            why = x11_connect(display);
            if (why.empty()) break;
            const bool gone = waitpid(pid, nullptr, WNOHANG) == pid;
            if (gone) pid = -1;  // reaped: nothing left to stop
            if (gone || waited >= 10000) {
                skip = "Xvfb reported display :" + std::to_string(display) + " but a client cannot use it (" + why + ")\n" + server_log();
                stop();
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    void stop() {
        if (pid <= 0) return;
        kill(pid, SIGTERM);
        waitpid(pid, nullptr, 0);
        pid = -1;
    }
    bool alive() {
        if (pid > 0 && waitpid(pid, nullptr, WNOHANG) == pid) pid = -1;  // reaped: nothing left to stop
        return pid > 0;
    }
    std::string server_log() const {
        std::ifstream f(log);
        return "Xvfb's stderr:\n" + std::string(std::istreambuf_iterator<char>(f), {});
    }
    std::string env() const { return "DISPLAY=:" + std::to_string(display); }
};

// Runs the client on a fresh private X server; a failure carries the server's stderr. The server audits every
// connection (-audit 4). `connections` counts the clients that completed a connection setup (GLFW's, and the
// Vulkan driver's own), and `emptied` the times all of them had left while another was still to come: the tests
// expect 0: a client that closes its only X connection and opens a new one meets Xvfb resetting as its last
// client leaves, and is refused (engine/window/window.cpp keeps one connection open).
// A start with a single connection can still be refused at once ("Failed to open display", the server alive and
// accepting), for a cause not known: such a start is logged with the server's stderr and repeated on a new
// server, at most twice. Any other failure is returned as it is.
// Seen in 1 of about 20 full-suite runs of the two window tests on a loaded 2-core host; not in 40 starts under load.
struct WindowRun {
    Run r;
    std::string skip;
    int connections = 0, emptied = 0;
};
// From Xvfb's audit lines "client N connected from …" and "client N disconnected" (a client that left before its
// setup, as the readiness check does, has only the second and is ignored).
void count_clients(const std::string& log, int& connections, int& emptied) {
    std::set<int> open;
    bool was_empty_after_use = false;
    std::istringstream in(log);
    for (std::string line; std::getline(in, line);) {
        const size_t at = line.find("client ");
        if (at == std::string::npos) continue;
        const int id = std::atoi(line.c_str() + at + 7);
        if (line.find(" connected from") != std::string::npos) {
            if (was_empty_after_use) ++emptied;
            was_empty_after_use = false;
            open.insert(id);
            ++connections;
        } else if (line.find(" disconnected") != std::string::npos && open.erase(id) && open.empty()) {
            was_empty_after_use = true;
        }
    }
}
WindowRun run_in_xvfb(const std::string& args) {
    for (int attempt = 1;; ++attempt) {
        Xvfb x;
        if (!x.skip.empty()) return {{}, x.skip, 0, 0};
        Run r = run(args, x.env());
        const bool alive = x.alive();
        const std::string log = x.server_log();
        int connections = 0, emptied = 0;
        count_clients(log, connections, emptied);
        const bool refused = r.rc != 0 && r.out.find("Failed to open display") != std::string::npos && connections == 0;
        if (refused && alive && attempt < 3) {
            std::printf("attempt %d: the client could not open display :%d, a server that is running; retrying on a new "
                        "server\n%s\n", attempt, x.display, log.c_str());
            continue;
        }
        if (r.rc != 0) r.out += "\nXvfb " + std::string(alive ? "is still running" : "has gone") + "; " + log;
        return {r, "", connections, emptied};
    }
}
}  // namespace

TEST(VisualiserWindow, XvfbSelftestKeysResizeLectureScreenshotIsValidationClean) {
    auto dir = temp_dir("window");
    auto [r, skip, connections, emptied] = run_in_xvfb("--validate --frames 90 --selftest --screenshot " + (dir / "w.png").string() +
                                                       " --stats-json " + (dir / "s.json").string());
    if (!skip.empty()) GTEST_SKIP() << skip;
    ASSERT_EQ(r.rc, 0) << r.out;
    EXPECT_GE(connections, 1);
    EXPECT_EQ(emptied, 0) << "diffuscope left the X server without clients, then connected again (Xvfb resets then)";
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

// The training panel in a real window: a UNet trains a budgeted slice per frame while the chains sample, with zero
// validation messages; the frame times are reported (a benchmark, not a pass/fail timing).
TEST(VisualiserWindow, XvfbTrainingPanelTrainsInSlicesAndIsValidationClean) {
    if (!training_digits()) GTEST_SKIP() << "no MNIST data (run scripts/run.sh, or set DIFFUSCOPE_DATA)";
    auto dir = temp_dir("window_train");
    // The chains on the compute queue's submissions (the main queue again on lavapipe) while the training slices and
    // the draws stay on the main queue, two frames in flight.
    auto [r, skip, connections, emptied] = run_in_xvfb(
        "--validate visualise --train --budget 40 --frames 120 --chains 4 --async-compute on --stats-json " + (dir / "s.json").string());
    if (!skip.empty()) GTEST_SKIP() << skip;
    ASSERT_EQ(r.rc, 0) << r.out;
    EXPECT_GE(connections, 1);
    EXPECT_EQ(emptied, 0) << "diffuscope left the X server without clients, then connected again (Xvfb resets then)";
    EXPECT_NE(r.out.find("validation: 0 errors, 0 warnings"), std::string::npos) << r.out;
    nlohmann::json j = nlohmann::json::parse(std::ifstream(dir / "s.json"));
    EXPECT_GE(j.value("training_steps", 0), 1) << j.dump();
    EXPECT_GT(j["gpu_ms_mean"].value("train", 0.0), 0.0) << "no training pass was timed\n" << j.dump();
    EXPECT_EQ(j.value("async_frames", 0), 120) << j.dump();
    EXPECT_GT(j["gpu_ms_mean"].value("sampler", 0.0), 0.0) << "the compute queue's passes were not timed\n" << j.dump();
    std::printf("window with training: %d training steps, %d sampling steps in 120 frames, frame p50 %.1f ms, p99 %.1f ms\n",
                j.value("training_steps", 0), j.value("steps_done", 0), j.value("frame_ms_p50", 0.0),
                j.value("frame_ms_p99", 0.0));
}

TEST(RenderCommand, Field2dWithoutMnistOpensWithTheReasonAndIsValidationClean) {
    auto dir = temp_dir("render_field");
    auto r = run("--validate render --mode field2d --data /nonexistent-mnist --frames 4 --dataset moons --out " +
                 (dir / "f.png").string());
    ASSERT_EQ(r.rc, 0) << r.out;
    EXPECT_NE(r.out.find("No MNIST digits"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("/nonexistent-mnist"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("validation: 0 errors, 0 warnings"), std::string::npos) << r.out;
    Image f = load_png(dir / "f.png");
    ASSERT_EQ(f.w, 1280);
    // The particles are drawn in orange (1.0, 0.55, 0.2): some pixels must be strongly orange.
    size_t orange = 0;
    for (size_t i = 0; i < f.rgba.size(); i += 4) orange += f.rgba[i] > 200 && f.rgba[i + 1] > 90 && f.rgba[i + 1] < 180 && f.rgba[i + 2] < 90;
    EXPECT_GT(orange, 100u) << "no particles in the field view";
}
