// The two oracles that need no network. The Gaussian-mixture denoiser: its closed-form score against finite
// differences of the mixture's log-density, and the shader against the double reference for ε, x₀ and v, every
// toy, levels from pure noise to clean, conditional and unconditional. The empirical MNIST denoiser: the GPU's
// three passes against the double reference on small synthetic image sets (odd sizes, empty classes), the
// nearest image at tiny noise, the (class) mean at huge noise, and a whole guided, thresholded chain.
#include "diffusion/oracle/empirical_oracle.hpp"
#include "diffusion/oracle/gmm_oracle.hpp"
#include "diffusion/sampler/chain.hpp"
#include "tests/gpu.hpp"
#include "tests/reference/empirical_ref.hpp"
#include "tests/reference/gmm_ref.hpp"
#include "tests/reference/sampler_ref.hpp"

#include <cmath>
#include <random>

using namespace diffuscope;

namespace {

// The λ a model is given for ᾱ (the clean level's sentinel at 1; −80 stands for ᾱ = 0: σ(−80) = 2e-35).
float level_of(double ab) {
    return float(ab >= 1 ? double(log_snr_clean) : ab <= 0 ? -80.0 : std::log(ab / (1 - ab)));
}

// Bind a denoiser to fresh buffers, run it once, return its output.
std::vector<float> evaluate(engine::Context& ctx, const Denoiser& d, const std::vector<float>& x,
                            const std::vector<double>& alpha_bar, const std::vector<int32_t>& labels) {
    const uint32_t B = uint32_t(labels.size());
    std::vector<float> lv;
    for (double ab : alpha_bar) lv.push_back(level_of(ab));
    engine::Buffer bx(ctx, x.size() * 4), bl(ctx, B * sizeof(float)), bb(ctx, B * 4), bo(ctx, x.size() * 4);
    bx.upload(x);
    bl.upload(lv);
    bb.upload(labels);
    test::poison(bo);
    auto fwd = d.bind({&bx, &bl, &bb, &bo, B});
    engine::one_shot(ctx, [&](engine::CommandBuffer& c) { fwd(c); });
    return bo.download_as<float>(x.size());
}

}  // namespace

TEST(GmmReference, ScoreIsTheGradientOfTheLogDensity) {
    for (const auto& name : data::toy2d_names()) {
        auto g = data::toy2d(name);
        std::mt19937_64 gen(3);
        std::normal_distribution<double> z;
        for (double ab : {0.0, 0.02, 0.5, 0.97, 0.9995}) {
            for (int label : {10, 1}) {
                std::array<double, 2> x{0.7 * z(gen), 0.7 * z(gen)};
                auto p = ref::gmm_posterior(g, ab, x, label);
                const double h = 1e-6;
                for (int i = 0; i < 2; ++i) {
                    auto xp = x, xm = x;
                    xp[i] += h;
                    xm[i] -= h;
                    double fd = (ref::gmm_log_density(g, ab, xp, label) - ref::gmm_log_density(g, ab, xm, label)) / (2 * h);
                    ASSERT_NEAR(p.score[i], fd, 1e-5 * std::max(1.0, std::abs(fd))) << name << " ᾱ=" << ab;
                }
                // Tweedie: E[x₀|x] = (x + (1−ᾱ) ∇log p_t(x)) / √ᾱ
                for (int i = 0; ab > 0 && i < 2; ++i)
                    ASSERT_NEAR(p.x0[i], (x[i] + (1 - ab) * p.score[i]) / std::sqrt(ab), 1e-9 / std::sqrt(ab));
            }
        }
    }
}

class Oracles : public test::GpuTest {};

// Float against double: the shader's log-sum-exp and 2×2 solves lose ~1e-6 relative; bound 5e-5 absolute on
// outputs of order 1 (worst measured: 7.2e-6, ε̂ on "digits"), against the reference at ᾱ = σ(λ) of the float λ
// the shader was given.
TEST_F(Oracles, GmmShaderMatchesTheReference) {
    std::mt19937_64 gen(5);
    std::normal_distribution<float> z;
    for (const auto& name : data::toy2d_names()) {
        auto g = data::toy2d(name);
        for (auto p : {Prediction::eps, Prediction::x0, Prediction::v}) {
            oracle::GmmOracle orc(ctx, g, p);
            const uint32_t B = 131;
            std::vector<float> x(2 * B);
            std::vector<double> ab(B);
            std::vector<int32_t> labels(B);
            const double levels[] = {0.0, 1e-4, 0.01, 0.3, 0.7, 0.99, 0.99999, 1.0};
            for (uint32_t b = 0; b < B; ++b) {
                ab[b] = levels[b % 8];
                x[2 * b] = 1.2f * z(gen);
                x[2 * b + 1] = 1.2f * z(gen);
                labels[b] = b % 3 == 0 ? null_label : int32_t(b % 11);  // includes labels a toy does not have
            }
            auto got = evaluate(ctx, orc.denoiser(), x, ab, labels);
            double worst = 0;
            for (uint32_t b = 0; b < B; ++b) {
                // The oracle's answer for what it was given: ᾱ = σ(λ) of the float λ.
                auto want = ref::gmm_predict(g, 1 / (1 + std::exp(-double(level_of(ab[b])))), {x[2 * b], x[2 * b + 1]}, labels[b], p);
                for (int i = 0; i < 2; ++i) {
                    ASSERT_TRUE(std::isfinite(got[2 * b + i])) << name << " ᾱ=" << ab[b];
                    worst = std::max(worst, std::abs(got[2 * b + i] - want[i]));
                }
            }
            EXPECT_LT(worst, 5e-5) << name << " " << prediction_name(p);
        }
    }
}

// The empirical denoiser against its double definition on synthetic image sets. Float dot products over 784
// pixels carry ~1e-5…1e-4 absolute error, which the softmax turns into relative weight errors of that times
// √ᾱ/(1−ᾱ); bound 2e-4 on x̂₀ ∈ [−1, 1] for 1 − ᾱ ≥ 0.05 and 2e-3 below that, where the softmax is sharp
// (worst measured: 1.8e-5 at ᾱ = 0.5).
TEST_F(Oracles, EmpiricalShaderMatchesTheReference) {
    struct Case {
        uint32_t count, side, batch;
        uint64_t seed;
    };
    for (const Case& c : {Case{103, 28, 13, 1}, Case{37, 7, 5, 2}, Case{9, 28, 3, 3}}) {  // 9 images: empty classes
        std::vector<uint8_t> pixels, labels;
        ref::synthetic_images(c.count, c.side, c.seed, pixels, labels);
        const uint32_t dim = c.side * c.side;
        oracle::EmpiricalOracle orc(ctx, pixels, labels, dim, c.batch);
        std::mt19937_64 gen(c.seed);
        std::normal_distribution<double> z;
        const double levels[] = {0.0, 0.01, 0.2, 0.5, 0.8, 0.95, 0.99};
        for (int rep = 0; rep < 2; ++rep) {
            std::vector<float> x(size_t(c.batch) * dim);
            std::vector<double> ab(c.batch);
            std::vector<int32_t> lb(c.batch);
            for (uint32_t b = 0; b < c.batch; ++b) {
                ab[b] = levels[(b + rep * 3) % 7];
                lb[b] = (b + rep) % 4 == 0 ? null_label : int32_t(labels[(b * 7 + rep) % c.count]);
                uint32_t src = (b * 13 + rep) % c.count;  // a noised training image, as in a chain
                for (uint32_t p = 0; p < dim; ++p)
                    x[b * dim + p] = float(std::sqrt(ab[b]) * (pixels[src * dim + p] * (2.0 / 255) - 1) + std::sqrt(1 - ab[b]) * z(gen));
            }
            auto got = evaluate(ctx, orc.denoiser(), x, ab, lb);
            for (uint32_t b = 0; b < c.batch; ++b) {
                std::vector<double> xb(x.begin() + b * dim, x.begin() + (b + 1) * dim);
                auto want = ref::empirical_denoise(pixels, labels, dim, xb, ab[b], lb[b]);
                double worst = 0;
                for (uint32_t p = 0; p < dim; ++p) {
                    ASSERT_TRUE(std::isfinite(got[b * dim + p]));
                    worst = std::max(worst, std::abs(got[b * dim + p] - want[p]));
                }
                EXPECT_LT(worst, 1 - ab[b] >= 0.05 ? 2e-4 : 2e-3) << "images " << c.count << " ᾱ=" << ab[b] << " label " << lb[b];
            }
        }
    }
}

TEST_F(Oracles, EmpiricalIsTheNearestImageAtTinyNoiseAndTheClassMeanAtHugeNoise) {
    std::vector<uint8_t> pixels, labels;
    ref::synthetic_images(60, 28, 9, pixels, labels);
    const uint32_t dim = 784, B = 6;
    oracle::EmpiricalOracle orc(ctx, pixels, labels, dim, B);
    auto image = [&](uint32_t i, uint32_t p) { return pixels[i * dim + p] * (2.0f / 255) - 1; };
    std::mt19937_64 gen(4);
    std::normal_distribution<float> z;
    // Tiny noise (1 − ᾱ = 1e-4): x_t is image j plus a little noise; the answer is image j itself, labelled or not.
    std::vector<float> x(B * dim);
    std::vector<int32_t> lb(B);
    const uint32_t js[B] = {0, 7, 21, 33, 45, 59};
    const double ab_tiny = 1 - 1e-4;
    for (uint32_t b = 0; b < B; ++b) {
        lb[b] = b % 2 ? int32_t(labels[js[b]]) : null_label;
        for (uint32_t p = 0; p < dim; ++p) x[b * dim + p] = float(std::sqrt(ab_tiny)) * image(js[b], p) + 0.01f * z(gen);
    }
    auto got = evaluate(ctx, orc.denoiser(), x, std::vector<double>(B, ab_tiny), lb);
    for (uint32_t b = 0; b < B; ++b)
        for (uint32_t p = 0; p < dim; ++p) ASSERT_NEAR(got[b * dim + p], image(js[b], p), 1e-5) << "query " << b;
    // Huge noise: ᾱ = 0 exactly gives the (class) mean; ᾱ = 1e-8 is within 1e-3 of it.
    for (double ab : {0.0, 1e-8}) {
        for (uint32_t b = 0; b < B; ++b) {
            lb[b] = b == 0 ? null_label : int32_t(b);
            for (uint32_t p = 0; p < dim; ++p) x[b * dim + p] = z(gen);
        }
        got = evaluate(ctx, orc.denoiser(), x, std::vector<double>(B, ab), lb);
        for (uint32_t b = 0; b < B; ++b) {
            std::vector<double> mean(dim, 0.0);
            uint32_t k = 0;
            for (uint32_t i = 0; i < 60; ++i) {
                if (lb[b] != null_label && labels[i] != lb[b]) continue;
                ++k;
                for (uint32_t p = 0; p < dim; ++p) mean[p] += image(i, p);
            }
            ASSERT_GT(k, 0u);
            for (uint32_t p = 0; p < dim; ++p)
                ASSERT_NEAR(got[b * dim + p], mean[p] / k, ab == 0 ? 1e-5 : 1e-3) << "label " << lb[b] << " ᾱ=" << ab;
        }
    }
}

// A whole chain on the empirical oracle (784-pixel samples: dynamic thresholding and guidance act per sample)
// against the double reference chain. Near the end the softmax is one-hot, so both chains land on the same
// training images; bound 1e-4 (worst measured: 1.5e-7).
TEST_F(Oracles, EmpiricalChainMatchesTheReferenceChain) {
    std::vector<uint8_t> pixels, labels;
    ref::synthetic_images(40, 28, 11, pixels, labels);
    const uint32_t dim = 784, n = 3;
    ScheduleBuffer sb(ctx);
    ScheduleSpec spec;
    spec.preset = SchedulePreset::cosine;
    sb.set(spec);
    std::vector<int32_t> lb = {int32_t(labels[0]), null_label, int32_t(labels[5])};
    for (auto kind : {SamplerKind::ddim, SamplerKind::ddpm}) {
        SamplerOptions o;
        o.seed = 21;
        o.guidance = 2.0f;
        o.clip = ClipMode::dynamic;
        o.percentile = 0.9f;
        o.eta = 0.5f;
        oracle::EmpiricalOracle orc(ctx, pixels, labels, dim, 2 * n);
        Chain chain(ctx, {kind, n, dim, true, 8}, sb, orc.denoiser());
        auto ts = respace(1000, 8, Spacing::trailing);
        chain.reset(ts, lb, o);
        chain.run();
        auto x = chain.x().download_as<float>(n * dim);
        ref::ModelRef model = [&](const std::vector<double>& xs, const std::vector<double>& ab, const std::vector<int>& l,
                                  std::vector<double>& out) {
            for (size_t b = 0; b < ab.size(); ++b) {
                std::vector<double> xb(xs.begin() + b * dim, xs.begin() + (b + 1) * dim);
                auto d = ref::empirical_denoise(pixels, labels, dim, xb, ab[b], l[b]);
                std::copy(d.begin(), d.end(), out.begin() + b * dim);
            }
        };
        auto want = ref::run_chain({kind, n, dim, Prediction::x0, true, o}, compute_levels(spec), ts,
                                   std::vector<int>(lb.begin(), lb.end()), model);
        double worst = 0;
        for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(x[i] - want.x[i]));
        EXPECT_LT(worst, 1e-4) << sampler_name(kind);
    }
}
