// The trainer: the GPU batch equals its CPU twin; training lowers the loss; a checkpoint resumes bit for
// bit; a non-finite gradient skips the step and leaves every weight as it was.
#include "diffusion/train/unet_trainer.hpp"
#include "engine/rng.hpp"
#include "tests/gpu.hpp"

#include <cmath>
#include <cstring>
#include <unistd.h>
#include <filesystem>
#include <random>

using namespace diffuscope;

namespace {
data::Mnist synthetic_digits(uint32_t count, uint64_t seed) {
    data::Mnist m;
    m.count = count;
    m.rows = m.cols = 28;
    std::mt19937 gen{uint32_t(seed)};
    m.pixels.resize(size_t(count) * 784);
    m.labels.resize(count);
    for (uint32_t i = 0; i < count; ++i) {
        m.labels[i] = uint8_t(i % 10);
        // A bar whose position encodes the label, plus noise: learnable, not trivial.
        for (uint32_t p = 0; p < 784; ++p) {
            uint32_t x = p % 28, y = p / 28;
            const uint32_t l = m.labels[i];
            bool ink = x >= 2 + 2 * l && x < 5 + 2 * l && y > 4 && y < 24;
            m.pixels[size_t(i) * 784 + p] = uint8_t(ink ? 200 + gen() % 56 : gen() % 30);
        }
    }
    return m;
}

train::TrainConfig small_config() {
    train::TrainConfig c;
    c.model.base = 8;
    c.model.groups = 4;
    c.model.emb_dim = 16;
    c.model.cond_dim = 32;
    c.batch = 4;
    c.warmup = 0;
    c.seed = 77;
    return c;
}
}  // namespace

class Trainer : public test::GpuTest {};

TEST_F(Trainer, BatchMatchesItsCpuTwin) {
    auto data = synthetic_digits(37, 1);  // 37: not a multiple of 4, so byte unpacking is exercised
    const uint32_t B = 5, step = 9;
    const uint64_t seed = 0x1234567890ull;
    std::vector<uint32_t> px((data.pixels.size() + 3) / 4), lb((data.labels.size() + 3) / 4);
    std::memcpy(px.data(), data.pixels.data(), data.pixels.size());
    std::memcpy(lb.data(), data.labels.data(), data.labels.size());
    engine::Buffer pixels(ctx, px.size() * 4), labels(ctx, lb.size() * 4), stepb(ctx, 16), xt(ctx, B * 784 * 4),
        level(ctx, B * 4), label(ctx, B * 4), target(ctx, B * 784 * 4);
    pixels.upload(px);
    labels.upload(lb);
    stepb.upload(std::vector<uint32_t>{step, 0, 0, 0});
    for (auto* b : {&xt, &level, &label, &target}) test::poison(*b);
    diffuscope::nn::Kernel k(ctx, {"train/batch.comp", 7, 32});
    for (uint32_t v_pred : {0u, 1u}) {
        struct { uint32_t B, M, s0, s1; float p_uncond, lmin, lmax; uint32_t v; } push{
            B, data.count, uint32_t(seed), uint32_t(seed >> 32), 0.3f, -15.0f, 15.0f, v_pred};
        engine::one_shot(ctx, [&](engine::CommandBuffer& cmd) {
            k.dispatch(cmd, {&pixels, &labels, &stepb, &xt, &level, &label, &target}, push, engine::groups_for(B * 784, 64));
        });
        auto gx = xt.download_as<float>(), gt = target.download_as<float>(), gl = level.download_as<float>();
        auto glab = label.download_as<int32_t>();
        for (uint32_t b = 0; b < B; ++b) {
            auto w = engine::rng::philox4x32_10({b, step, 1u, 0x5eedu}, uint32_t(seed), uint32_t(seed >> 32));
            uint32_t i = w[0] % data.count;
            double t = engine::rng::uniform(w[2]);
            double l = engine::rng::uniform(w[3]) < 0.9f ? std::clamp(-2.0 * std::log(std::tan(M_PI / 2 * t)), -15.0, 15.0)
                                                         : -15.0 + t * 30.0;
            int lab = engine::rng::uniform(w[1]) < 0.3f ? 10 : data.labels[i];
            EXPECT_EQ(glab[b], lab) << "sample " << b;
            EXPECT_NEAR(gl[b], l, 1e-4 * (1 + std::abs(l))) << "sample " << b;
            double a = std::sqrt(1 / (1 + std::exp(-l))), s = std::sqrt(1 / (1 + std::exp(l)));
            for (uint32_t p = 0; p < 784; ++p) {
                double x0 = data.pixels[size_t(i) * 784 + p] / 127.5 - 1;
                double eps = engine::rng::gaussian(seed, 2, step, b * 784 + p);
                ASSERT_NEAR(gx[b * 784 + p], a * x0 + s * eps, 1e-4) << b << "," << p;
                double tgt = v_pred ? a * eps - s * x0 : eps;
                ASSERT_NEAR(gt[b * 784 + p], tgt, 1e-4) << b << "," << p;
            }
        }
    }
}

TEST_F(Trainer, LossFallsAndResumeIsBitForBit) {
    auto data = synthetic_digits(64, 2);
    auto cfg = small_config();
    auto dir = std::filesystem::temp_directory_path() / ("diffuscope-trainer-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);

    std::vector<float> straight;
    double first = 0, last = 0;
    {
        train::Trainer t(ctx, cfg, data);
        t.init();
        for (int s = 0; s < 60; ++s) {
            auto r = t.step();
            ASSERT_FALSE(r.skipped) << "step " << s;
            if (s < 10) first += r.loss / 10;
            if (s >= 50) last += r.loss / 10;
            if (s == 3) straight = t.unet().param_buffer().download_as<float>();
        }
    }
    EXPECT_LT(last, 0.8 * first) << "mean loss of steps 50–59 vs 0–9";
    std::vector<float> resumed;
    {
        train::Trainer a(ctx, cfg, data);
        a.init();
        a.step();
        a.step();
        a.save(dir / "ck.safetensors");
        train::Trainer b(ctx, cfg, data);
        b.load(dir / "ck.safetensors");
        EXPECT_EQ(b.steps_done(), 2u);
        b.step();
        b.step();
        resumed = b.unet().param_buffer().download_as<float>();
    }
    ASSERT_EQ(straight.size(), resumed.size());
    EXPECT_EQ(0, std::memcmp(straight.data(), resumed.data(), straight.size() * 4)) << "resume is not bit for bit";
    std::filesystem::remove_all(dir);
}

TEST_F(Trainer, NonFiniteGradientSkipsTheStep) {
    auto data = synthetic_digits(16, 3);
    auto cfg = small_config();
    train::Trainer t(ctx, cfg, data);
    t.init();
    t.step();
    auto p = t.unet().param_buffer().download_as<float>();
    p[t.unet().params()["conv_in.weight"].offset] = NAN;  // poisons every activation, loss and gradient
    t.unet().param_buffer().upload(p);
    auto ema_before = t.ema_weights();
    auto r = t.step();
    EXPECT_TRUE(r.skipped);
    auto after = t.unet().param_buffer().download_as<float>();
    EXPECT_EQ(0, std::memcmp(p.data(), after.data(), p.size() * 4)) << "a skipped step changed the weights";
    auto ema_after = t.ema_weights();
    EXPECT_EQ(0, std::memcmp(ema_before.data(), ema_after.data(), ema_before.size() * 4));
}

TEST_F(Trainer, ResumeRefusesAnotherModel) {
    auto data = synthetic_digits(16, 4);
    auto cfg = small_config();
    auto path = std::filesystem::temp_directory_path() / ("diffuscope-ck-" + std::to_string(::getpid()) + ".safetensors");
    {
        train::Trainer t(ctx, cfg, data);
        t.init();
        t.save(path);
    }
    cfg.model.base = 16;
    train::Trainer other(ctx, cfg, data);
    try {
        other.load(path);
        FAIL() << "loaded a checkpoint of another width";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("base"), std::string::npos) << e.what();
    }
    std::filesystem::remove(path);
}
