// Samplers on the 2-D Gaussian-mixture oracle: every sampler's GPU chain against the double-precision reference
// chain (same RNG draws), for ε/x₀/v models, guidance, clipping and respacing; the distribution every sampler
// reaches (sliced Wasserstein to true samples, with bounds, shrinking with more steps, and failing for a broken
// model); Euler = DDIM(η = 0); reproducibility from (seed, sample index, step); the trajectory; a recorded step
// replayed across a live schedule change; the forward process q(x_t|x₀).
#include "diffusion/oracle/gmm_oracle.hpp"
#include "diffusion/sampler/chain.hpp"
#include "diffusion/sampler/q_sample.hpp"
#include "engine/rng.hpp"
#include "tests/gpu.hpp"
#include "tests/reference/gmm_ref.hpp"
#include "tests/reference/sampler_ref.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>

using namespace diffuscope;

namespace {

ScheduleSpec linear(uint32_t T = 1000) {
    ScheduleSpec s;
    s.timesteps = T;
    return s;
}

struct Ran {
    std::unique_ptr<Chain> chain;
    std::vector<float> x;  // after the last step
};
Ran run(engine::Context& ctx, const ScheduleBuffer& sb, const Denoiser& d, ChainConfig cfg,
        const std::vector<uint32_t>& ts, const std::vector<int32_t>& labels, const SamplerOptions& o) {
    cfg.dim = d.dim;
    cfg.max_steps = std::max<uint32_t>(cfg.max_steps, uint32_t(ts.size()));
    Ran r{std::make_unique<Chain>(ctx, cfg, sb, d), {}};
    r.chain->reset(ts, labels, o);
    r.chain->run();
    r.x = r.chain->x().download_as<float>(size_t(cfg.batch) * cfg.dim);
    return r;
}

ref::ModelRef gmm_model(const data::Gmm& g, Prediction p) {
    return [&g, p](const std::vector<double>& x, const std::vector<double>& ab, const std::vector<int>& lb,
                   std::vector<double>& out) {
        for (size_t b = 0; b < ab.size(); ++b) {
            auto o = ref::gmm_predict(g, ab[b], {x[2 * b], x[2 * b + 1]}, lb[b], p);
            out[2 * b] = o[0];
            out[2 * b + 1] = o[1];
        }
    };
}

double max_abs_diff(const std::vector<float>& a, const std::vector<double>& b) {
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::isfinite(a[i]) ? std::abs(a[i] - b[i]) : INFINITY);
    return m;
}

// A model that is the oracle with its output negated (a sign error): the distribution bounds must catch it.
struct Negated {
    engine::ComputePipeline scale;
    Denoiser inner;
    Negated(engine::Context& ctx, Denoiser d) : scale(ctx, {"diffusion/scale.comp", 1, 8}), inner(std::move(d)) {}
    Denoiser denoiser() {
        Denoiser d = inner;
        d.bind = [this](const DenoiserIo& io) -> Denoiser::Recorder {
            auto fwd = inner.bind(io);
            auto set = scale.bind({*io.out});
            struct { uint32_t n; float a; } push{io.batch * inner.dim, -1.0f};
            return [this, fwd, set, push](engine::CommandBuffer& cmd) {
                fwd(cmd);
                cmd.barrier();  // RAW: negate what the oracle wrote
                cmd.dispatch(scale, set, push, engine::groups_for(push.n, 64));
            };
        };
        return d;
    }
};

}  // namespace

class Samplers : public test::GpuTest {};

// Every sampler, on the GPU and in the double reference, from the same x_T and the same per-step noise. The
// chains agree to float rounding of the levels and the arithmetic: worst measured 1.8e-6 on x and x̂₀, 1.3e-4 on
// ε̂ (from an x₀-model, ε̂ = (x − √ᾱ x̂₀)/√(1−ᾱ) divides by √(1−ᾱ) ≈ 0.01 at the last level); bound 1e-3 on x,
// x̂₀, ε̂ and the score (scaled by that √(1−ᾱ)).
TEST_F(Samplers, EveryGpuChainMatchesTheDoubleReference) {
    struct Row {
        SamplerKind kind;
        Prediction pred;
        uint32_t T, S;
        Spacing spacing;
        bool guided;
        float w, eta;
        ClipMode clip;
        DdpmSigma sigma;
    };
    using K = SamplerKind;
    using P = Prediction;
    const Row rows[] = {
        {K::ddpm, P::eps, 1000, 12, Spacing::trailing, false, 1, 0, ClipMode::none, DdpmSigma::posterior},
        {K::ddpm, P::x0, 1000, 12, Spacing::leading, false, 1, 0, ClipMode::none, DdpmSigma::beta},
        {K::ddpm, P::v, 50, 50, Spacing::trailing, true, 2.5f, 0, ClipMode::clip, DdpmSigma::posterior},
        {K::ddim, P::eps, 1000, 12, Spacing::trailing, false, 1, 0, ClipMode::none, DdpmSigma::posterior},
        {K::ddim, P::v, 1000, 15, Spacing::linspace, false, 1, 0.5f, ClipMode::none, DdpmSigma::posterior},
        {K::ddim, P::x0, 1000, 12, Spacing::trailing, true, 2.5f, 1.0f, ClipMode::none, DdpmSigma::posterior},
        {K::euler, P::eps, 1000, 12, Spacing::trailing, false, 1, 0, ClipMode::none, DdpmSigma::posterior},
        {K::euler, P::v, 1000, 12, Spacing::trailing, true, 0.0f, 0, ClipMode::none, DdpmSigma::posterior},
        {K::heun, P::eps, 1000, 10, Spacing::trailing, false, 1, 0, ClipMode::none, DdpmSigma::posterior},
        {K::heun, P::x0, 333, 9, Spacing::linspace, true, 1.5f, 0, ClipMode::clip, DdpmSigma::posterior},
        {K::sde, P::eps, 1000, 40, Spacing::trailing, false, 1, 0, ClipMode::none, DdpmSigma::posterior},
        {K::sde, P::v, 1000, 40, Spacing::trailing, true, 3.0f, 0, ClipMode::none, DdpmSigma::posterior},
        {K::dpmpp2m, P::eps, 1000, 12, Spacing::trailing, false, 1, 0, ClipMode::none, DdpmSigma::posterior},
        {K::dpmpp2m, P::x0, 1000, 12, Spacing::leading, false, 1, 0, ClipMode::dynamic, DdpmSigma::posterior},
    };
    ScheduleBuffer sb(ctx);
    const auto g = data::toy2d("gmm8");
    const uint32_t n = 37;
    std::vector<int32_t> labels(n);
    for (uint32_t i = 0; i < n; ++i) labels[i] = i % 9 == 8 ? null_label : int32_t(i % 9);  // some unconditional
    uint64_t seed = 11;
    for (const Row& r : rows) {
        sb.set(linear(r.T));
        oracle::GmmOracle orc(ctx, g, r.pred);
        SamplerOptions o;
        o.seed = ++seed;
        o.first_index = 3;
        o.eta = r.eta;
        o.guidance = r.w;
        o.clip = r.clip;
        o.percentile = 0.5f;
        o.ddpm_sigma = r.sigma;
        ChainConfig cfg{r.kind, n, 2, r.guided};
        auto ts = respace(r.T, r.S, r.spacing);
        auto [chain, x] = run(ctx, sb, orc.denoiser(), cfg, ts, labels, o);
        ref::ChainRef rc{r.kind, n, 2, r.pred, r.guided, o};
        auto want = ref::run_chain(rc, compute_levels(linear(r.T)), ts, std::vector<int>(labels.begin(), labels.end()),
                                   gmm_model(g, r.pred));
        const std::string what = sampler_name(r.kind) + " " + prediction_name(r.pred) + (r.guided ? " guided" : "");
        EXPECT_LT(max_abs_diff(x, want.x), 1e-3) << what;
        EXPECT_LT(max_abs_diff(chain->x0_hat().download_as<float>(2 * n), want.x0_hat), 1e-3) << what;
        EXPECT_LT(max_abs_diff(chain->eps_hat().download_as<float>(2 * n), want.eps_hat), 1e-3) << what;
        const auto last = compute_levels(linear(r.T))[ts.back()];
        const double b = last.sqrt_one_minus_alpha_bar, a = last.sqrt_alpha_bar;
        // v̂ = a ε̂ − b x̂₀ from the double reference's ε̂ and x̂₀ at the level of the last evaluation.
        std::vector<double> want_v(want.x0_hat.size());
        for (size_t i = 0; i < want_v.size(); ++i) want_v[i] = a * want.eps_hat[i] - b * want.x0_hat[i];
        EXPECT_LT(max_abs_diff(chain->v_hat().download_as<float>(2 * n), want_v), 1e-3) << what << " v̂";
        auto sc = chain->score().download_as<float>(2 * n);
        for (auto& v : sc) v *= float(b);
        auto want_sc = want.score;
        for (auto& v : want_sc) v *= b;
        EXPECT_LT(max_abs_diff(sc, want_sc), 1e-3) << what;
    }
}

// The distribution each sampler reaches on "gmm8" (8 Gaussians, σ = 0.08, on a circle of radius 0.9), linear
// schedule, T = 1000, trailing spacing, particles from N(0, I): sliced Wasserstein-2 (256 directions) to as many
// true samples. Two independent true sample sets are 0.019 apart with 4096 points, 0.037 with 2048 (the floor;
// the 1000-step samplers use 2048 particles to keep the test short). Measured on llvmpipe (SW at few / many
// steps): DDPM 10/1000 steps 0.101/0.048 (2048), DDIM 10/100 0.087/0.022, Euler = DDIM, Heun 5/50 0.179/0.027,
// SDE 10/1000 0.076/0.047 (2048), DPM++(2M) 5/20 0.229/0.030.
// Bounds: many steps < 0.045 with 4096 particles, < 0.065 with 2048 (≈ 2× the floor), and fewer steps strictly
// worse. These bounds fail for broken samplers: flipping the sign of the ε̂ term in ddim_step.comp gives
// SW 0.27 (DDIM-100), flipping the sign of the D term in dpmpp2m_step.comp gives 0.46 (DPM++ 20 steps), and a
// model whose output is negated diverges (SW ≈ 2e5) with DDIM-100 (BoundsCatchABrokenModel below, which keeps that check).
struct Reach {
    SamplerKind kind;
    uint32_t few, many, particles;
    double bound;  // on SW after `many` steps
};
void PrintTo(const Reach& r, std::ostream* os) {
    *os << sampler_name(r.kind) << " " << r.few << "/" << r.many << " steps, " << r.particles << " particles";
}
class SamplerReach : public test::GpuTest, public ::testing::WithParamInterface<Reach> {};

TEST_P(SamplerReach, TheMixtureAndImprovesWithSteps) {
    const Reach r = GetParam();
    ScheduleBuffer sb(ctx);
    sb.set(linear());
    const auto g = data::toy2d("gmm8");
    oracle::GmmOracle orc(ctx, g);
    const auto truth = data::sample_toy2d(g, r.particles, 99);
    const double floor = ref::sliced_wasserstein(truth, data::sample_toy2d(g, r.particles, 98));
    SamplerOptions o;
    o.seed = 5;
    std::vector<int32_t> labels(r.particles, null_label);
    ChainConfig cfg{r.kind, r.particles, 2};
    auto sw = [&](uint32_t S) {
        return ref::sliced_wasserstein(run(ctx, sb, orc.denoiser(), cfg, respace(1000, S, Spacing::trailing), labels, o).x, truth);
    };
    double few = sw(r.few), many = sw(r.many);
    std::printf("  %-8s SW %3u steps %.4f, %4u steps %.4f (floor %.4f, %u particles)\n", sampler_name(r.kind).c_str(),
                r.few, few, r.many, many, floor, r.particles);
    EXPECT_LT(many, r.bound) << r.many << " steps (floor " << floor << ")";
    EXPECT_GT(few, many) << r.few << " steps not worse than " << r.many;
}

INSTANTIATE_TEST_SUITE_P(Samplers, SamplerReach,
                         ::testing::Values(Reach{SamplerKind::ddpm, 10, 1000, 2048, 0.065},
                                           Reach{SamplerKind::ddim, 10, 100, 4096, 0.045},
                                           Reach{SamplerKind::euler, 10, 100, 4096, 0.045},
                                           Reach{SamplerKind::heun, 5, 50, 4096, 0.045},
                                           Reach{SamplerKind::sde, 10, 1000, 2048, 0.065},
                                           Reach{SamplerKind::dpmpp2m, 5, 20, 4096, 0.045}),
                         [](const auto& info) { return sampler_name(info.param.kind); });

TEST_F(Samplers, BoundsCatchABrokenModel) {
    ScheduleBuffer sb(ctx);
    sb.set(linear());
    const auto g = data::toy2d("gmm8");
    oracle::GmmOracle orc(ctx, g);
    Negated broken(ctx, orc.denoiser());
    const uint32_t n = 4096;
    SamplerOptions o;
    o.seed = 5;
    auto x = run(ctx, sb, broken.denoiser(), {SamplerKind::ddim, n, 2}, respace(1000, 100, Spacing::trailing),
                 std::vector<int32_t>(n, null_label), o).x;
    double sw = ref::sliced_wasserstein(x, data::sample_toy2d(g, n, 99));
    EXPECT_GT(sw, 0.3) << "a sign-flipped model went unnoticed";
}

TEST_F(Samplers, EulerIsDdimWithEtaZero) {
    ScheduleBuffer sb(ctx);
    sb.set(linear());
    oracle::GmmOracle orc(ctx, data::toy2d("moons"));
    std::vector<int32_t> labels(256, null_label);
    auto ts = respace(1000, 25, Spacing::trailing);
    auto a = run(ctx, sb, orc.denoiser(), {SamplerKind::euler, 256, 2}, ts, labels, {}).x;
    auto b = run(ctx, sb, orc.denoiser(), {SamplerKind::ddim, 256, 2}, ts, labels, {}).x;
    for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-4) << i;
}

TEST_F(Samplers, ChainsReplayFromSeedSampleIndexAndStep) {
    ScheduleBuffer sb(ctx);
    sb.set(linear());
    oracle::GmmOracle orc(ctx, data::toy2d("rings"));
    auto ts = respace(1000, 20, Spacing::trailing);
    for (auto kind : {SamplerKind::ddpm, SamplerKind::sde, SamplerKind::ddim}) {
        SamplerOptions o;
        o.seed = 0x1234'5678'9abcull;
        o.eta = 1;
        std::vector<int32_t> l8 = {0, 1, 0, 1, 10, 10, 1, 0};
        auto a = run(ctx, sb, orc.denoiser(), {kind, 8, 2}, ts, l8, o).x;
        auto again = run(ctx, sb, orc.denoiser(), {kind, 8, 2}, ts, l8, o).x;
        EXPECT_EQ(std::memcmp(a.data(), again.data(), a.size() * 4), 0) << "same seed, different bytes";
        // Samples 5…7 alone, as a batch of 3 starting at index 5: the same bytes as in the batch of 8.
        SamplerOptions o3 = o;
        o3.first_index = 5;
        auto part = run(ctx, sb, orc.denoiser(), {kind, 3, 2}, ts, {10, 1, 0}, o3).x;
        EXPECT_EQ(std::memcmp(part.data(), a.data() + 10, part.size() * 4), 0) << sampler_name(kind);
        o.seed += 1;
        auto other = run(ctx, sb, orc.denoiser(), {kind, 8, 2}, ts, l8, o).x;
        EXPECT_NE(std::memcmp(a.data(), other.data(), a.size() * 4), 0);
    }
}

TEST_F(Samplers, TrajectoryKeepsEveryKthStep) {
    ScheduleBuffer sb(ctx);
    sb.set(linear());
    const auto g = data::toy2d("gmm8");
    oracle::GmmOracle orc(ctx, g);
    const uint32_t n = 5, S = 10;
    auto ts = respace(1000, S, Spacing::trailing);
    std::vector<int32_t> labels = {0, 3, 10, 7, 2};
    SamplerOptions o;
    o.seed = 3;
    ChainConfig cfg{SamplerKind::ddpm, n, 2, false, 1000, 4};  // 4 slots for 10 steps: after 0, 4, 8, 10 steps
    auto chain = run(ctx, sb, orc.denoiser(), cfg, ts, labels, o).chain;
    auto want = ref::run_chain({SamplerKind::ddpm, n, 2, Prediction::eps, false, o}, compute_levels(linear()), ts,
                               {0, 3, 10, 7, 2}, gmm_model(g, Prediction::eps));
    ASSERT_EQ(chain->trajectory_stride(), 4u);
    ASSERT_EQ(chain->trajectory_slots_used(), 4u);
    auto traj = chain->trajectory().download_as<float>(4 * n * 2);
    for (uint32_t slot = 0; slot < 4; ++slot) {
        uint32_t step = chain->trajectory_step(slot);
        EXPECT_EQ(step, std::min(slot * 4, S));
        std::vector<float> got(traj.begin() + slot * n * 2, traj.begin() + (slot + 1) * n * 2);
        EXPECT_LT(max_abs_diff(got, want.x_after_step[step]), 1e-3) << "slot " << slot;
    }
}

// One step recorded once and replayed S times, across a schedule change (same T) and new options: the result
// equals a fresh chain run under the new schedule — nothing was re-recorded.
TEST_F(Samplers, ARecordedStepReplaysAcrossLiveChanges) {
    ScheduleBuffer sb(ctx);
    sb.set(linear());
    oracle::GmmOracle orc(ctx, data::toy2d("moons"));
    const uint32_t n = 64, S = 15;
    auto ts = respace(1000, S, Spacing::trailing);
    std::vector<int32_t> labels(n, 1);
    Chain chain(ctx, {SamplerKind::dpmpp2m, n, 2}, sb, orc.denoiser());
    chain.reset(ts, labels, {});
    engine::CommandBuffer init(ctx), step(ctx);
    init.begin();
    chain.record_init(init);
    init.end();
    step.begin();
    step.barrier_from_host();
    chain.record_step(step);
    step.barrier_to_host();
    step.end();
    auto replay = [&] {
        chain.reset(ts, labels, {});
        init.submit_and_wait();
        for (uint32_t i = 0; i < S + 2; ++i) step.submit_and_wait();  // extra replays past S are no-ops
        return chain.x().download_as<float>(2 * n);
    };
    auto before = replay();
    EXPECT_EQ(chain.state().step, S);
    ScheduleSpec cos;
    cos.preset = SchedulePreset::cosine;
    sb.set(cos);
    auto after = replay();
    auto fresh = run(ctx, sb, orc.denoiser(), {SamplerKind::dpmpp2m, n, 2}, ts, labels, {}).x;
    EXPECT_EQ(std::memcmp(after.data(), fresh.data(), after.size() * 4), 0);
    EXPECT_NE(std::memcmp(after.data(), before.data(), after.size() * 4), 0) << "the schedule change did nothing";
}

// q(x_t | x₀) = N(√ᾱ x₀, (1 − ᾱ) I): the GPU draw equals √ᾱ x₀ + √(1−ᾱ) ε with ε from the RNG twin (to 2e-5),
// and over all draws z = (x_t − √ᾱ x₀)/√(1−ᾱ) has mean 0 and variance 1 (5σ bounds).
TEST_F(Samplers, ForwardProcessMatchesItsClosedForm) {
    ScheduleBuffer sb(ctx);
    sb.set(linear());
    auto L = compute_levels(linear());
    QSample q(ctx);
    const uint32_t n = 20000, dim = 3;
    std::vector<float> x0(size_t(n) * dim);
    std::vector<uint32_t> t(n);
    for (uint32_t s = 0; s < n; ++s) {
        t[s] = (s * 7919u) % 1001u;  // every level incl. the clean sentinel (1000)
        for (uint32_t i = 0; i < dim; ++i) x0[s * dim + i] = 0.5f - float(i) * 0.4f;
    }
    engine::Buffer bt(ctx, n * 4), bx0(ctx, x0.size() * 4), bxt(ctx, x0.size() * 4), beps(ctx, x0.size() * 4),
        blev(ctx, n * sizeof(float));
    bt.upload(t);
    bx0.upload(x0);
    for (auto* b : {&bxt, &beps, &blev}) test::poison(*b);
    engine::one_shot(ctx, [&](engine::CommandBuffer& c) {
        q.record(c, {&sb.levels(), &bt, &bx0, &bxt, &beps, &blev, n, dim, 77, 10, 4});
    });
    auto xt = bxt.download_as<float>(x0.size()), eps = beps.download_as<float>(x0.size());
    auto lev = blev.download_as<float>(n);
    double worst = 0;
    for (uint32_t s = 0; s < n; ++s) {
        const auto& l = L[t[s]];
        ASSERT_NEAR(lev[s], l.log_snr, 1e-4 * std::max(1.0, std::abs(l.log_snr)));
        for (uint32_t i = 0; i < dim; ++i) {
            double e = engine::rng::gaussian(77, 10 + s, 4, i);
            ASSERT_NEAR(eps[s * dim + i], e, 2e-5 * (1 + std::abs(e)));  // the RNG test's bound
            worst = std::max(worst, std::abs(xt[s * dim + i] - (l.sqrt_alpha_bar * x0[s * dim + i] + l.sqrt_one_minus_alpha_bar * e)));
        }
    }
    EXPECT_LT(worst, 1e-5);
    // Every element at every level: z = (x_t − √ᾱ x₀)/√(1−ᾱ) over all non-clean draws is N(0, 1).
    double zm = 0, zv = 0;
    uint32_t zc = 0;
    for (uint32_t s = 0; s < n; ++s) {
        if (t[s] == 1000) continue;
        for (uint32_t i = 0; i < dim; ++i) {
            double z = (xt[s * dim + i] - L[t[s]].sqrt_alpha_bar * x0[s * dim + i]) / L[t[s]].sqrt_one_minus_alpha_bar;
            zm += z;
            zv += z * z;
            ++zc;
        }
    }
    zm /= zc;
    zv = zv / zc - zm * zm;
    EXPECT_NEAR(zm, 0.0, 5 / std::sqrt(double(zc)));
    EXPECT_NEAR(zv, 1.0, 5 * std::sqrt(2.0 / zc));
}
