// shaders/diffusion/q_sample.glsl, the forward process and the training noise level shared by
// diffusion/q_sample.comp, train/batch.comp and train/batch2d.comp, run through shaders/test/q_sample_include.comp:
// - its cosine_log_snr(t) = −2 ln tan(π t/2), from which the trainers draw their levels, is the log-SNR of the
//   cosine schedule with offset s = 0 (diffusion/schedule/schedule.cpp's double twin and shaders/diffusion/schedule.comp)
//   at τ = t, over every level whose β the guards left alone;
// - draw_training_log_snr, q_sample, v_target and signal_noise_of equal their double closed forms.
#include "diffusion/schedule/schedule_gpu.hpp"
#include "engine/pipeline.hpp"
#include "tests/gpu.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>

using namespace diffuscope;

namespace {

class QSampleInclude : public test::GpuTest {
protected:
    struct Push {
        uint32_t n;
        float lmin, lmax;
    };
    // args[i] = (t, pick, x₀, ε) → (cosine_log_snr, the drawn λ, x_t, v) per element.
    std::vector<float> run(const std::vector<float>& args, float lmin, float lmax) {
        engine::ComputePipeline kernel(ctx, {"test/q_sample_include.comp", 2, sizeof(Push)});
        const uint32_t n = uint32_t(args.size() / 4);
        engine::Buffer in(ctx, args.size() * 4), out(ctx, args.size() * 4 + 64);
        in.upload(args);
        test::poison(out);
        auto set = kernel.bind({in, out});
        engine::one_shot(ctx, [&](engine::CommandBuffer& c) {
            c.dispatch(kernel, set, Push{n, lmin, lmax}, engine::groups_for(n, 64));
        });
        auto r = out.download_as<float>(args.size() + 16);
        for (size_t i = args.size(); i < r.size(); ++i) EXPECT_TRUE(std::isnan(r[i])) << "wrote past the end at " << i;
        r.resize(args.size());
        return r;
    }
};

}  // namespace

TEST_F(QSampleInclude, TheTrainingLevelIsTheCosineSchedulesLogSnr) {
    ScheduleSpec spec;
    spec.preset = SchedulePreset::cosine;
    spec.timesteps = 1000;
    spec.cosine_s = 0;  // ᾱ(τ) = cos²(π τ/2): λ(τ) = −2 ln tan(π τ/2)
    const auto L = compute_levels(spec);
    ScheduleBuffer sb(ctx);
    sb.set(spec);
    const auto G = sb.download();
    const uint32_t T = spec.timesteps;
    std::vector<float> args;
    std::vector<uint32_t> at;
    for (uint32_t t = 0; t < T; ++t) {
        if (L[t].flags != 0) continue;  // β clamped (cosine's last level hits beta_max): no longer the closed form
        at.push_back(t);
        args.insert(args.end(), {float(double(t + 1) / T), 0.5f, 0.0f, 0.0f});
    }
    ASSERT_GT(at.size(), T - 4);
    const auto r = run(args, -20.0f, 20.0f);
    double worst_cpu = 0, worst_gpu = 0;
    for (size_t k = 0; k < at.size(); ++k) {
        const double lam = L[at[k]].log_snr, got = r[4 * k];
        const double tau = double(at[k] + 1) / T;
        ASSERT_NEAR(lam, -2 * std::log(std::tan(std::numbers::pi / 2 * tau)), 1e-9 * (1 + std::abs(lam))) << "t " << at[k];
        worst_cpu = std::max(worst_cpu, std::abs(got - lam) / (1 + std::abs(lam)));
        worst_gpu = std::max(worst_gpu, std::abs(got - double(G[at[k]].log_snr)) / (1 + std::abs(lam)));
        ASSERT_EQ(r[4 * k + 1], std::clamp(r[4 * k], -20.0f, 20.0f)) << "pick < 0.9 draws the cosine level";
    }
    std::printf("cosine_log_snr vs the cosine schedule (s = 0): worst |Δλ|/(1 + |λ|) %.3g (schedule.cpp), %.3g (schedule.comp)\n",
                worst_cpu, worst_gpu);
    EXPECT_LT(worst_cpu, 1e-4) << "cosine_log_snr vs schedule.cpp's cosine (s = 0), relative to 1 + |λ|";
    EXPECT_LT(worst_gpu, 1e-4) << "cosine_log_snr vs schedule.comp's cosine (s = 0), relative to 1 + |λ|";
}

TEST_F(QSampleInclude, TheDrawAndTheForwardProcessMatchTheirClosedForms) {
    const float lmin = -15, lmax = 15;
    std::vector<float> args;
    for (uint32_t i = 0; i < 400; ++i) {
        const float t = (float(i) + 0.5f) / 400.0f;
        const float pick = i % 2 ? 0.95f : 0.25f;  // uniform half the time, cosine the other
        args.insert(args.end(), {t, pick, std::sin(0.37f * float(i)), std::cos(0.91f * float(i)) * 1.5f});
    }
    const auto r = run(args, lmin, lmax);
    for (size_t i = 0; i < args.size() / 4; ++i) {
        const double t = args[4 * i], pick = args[4 * i + 1], x0 = args[4 * i + 2], eps = args[4 * i + 3];
        const double l = pick < 0.9 ? std::clamp(-2 * std::log(std::tan(std::numbers::pi / 2 * t)), double(lmin), double(lmax))
                                    : lmin + t * (lmax - lmin);
        ASSERT_NEAR(r[4 * i + 1], l, 1e-4 * (1 + std::abs(l))) << "t " << t << ", pick " << pick;
        const double a = std::sqrt(1 / (1 + std::exp(-double(r[4 * i + 1])))), b = std::sqrt(1 / (1 + std::exp(double(r[4 * i + 1]))));
        ASSERT_NEAR(r[4 * i + 2], a * x0 + b * eps, 1e-5) << "x_t, t " << t;
        ASSERT_NEAR(r[4 * i + 3], a * eps - b * x0, 1e-5) << "v, t " << t;
    }
}
