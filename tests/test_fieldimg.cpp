// The image-mode field view (diffusion/vis/fieldimg.hpp): the slice's host math against double references
// (Gram–Schmidt, projection, PCA against a Jacobi eigen-solver), the GPU field and heat map against a double
// reference with stand-in models of every prediction kind (guided and not, direction and score), and on the
// empirical oracle at a low noise level: the arrows point into the projected cloud of the class's digits.
#include "diffusion/vis/fieldimg.hpp"
#include "diffusion/vis/model_source.hpp"
#include "engine/offscreen.hpp"
#include "tests/gpu.hpp"
#include "tests/reference/empirical_ref.hpp"
#include "tests/reference/slice_ref.hpp"
#include "tests/run_binary.hpp"

#include <stb_image.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>
#include <random>
#include <unistd.h>

using namespace diffuscope::vis;
namespace slice = diffuscope::vis::slice;
using diffuscope::Denoiser;
using diffuscope::DenoiserIo;
using diffuscope::Prediction;
using test::GpuTest;

namespace {

slice::Vec random_vec(std::mt19937_64& g, size_t n, double scale = 1) {
    std::normal_distribution<double> d(0, scale);
    slice::Vec v(n);
    for (double& x : v) x = d(g);
    return v;
}
double norm(const slice::Vec& v) { return std::sqrt(slice::dot(v, v)); }

// The MNIST-shaped synthetic set of tests/reference (soft strokes, labels 0–9): no files needed.
diffuscope::data::Mnist synthetic_digits(uint32_t count, uint64_t seed) {
    diffuscope::data::Mnist m;
    m.count = count;
    m.rows = m.cols = 28;
    ref::synthetic_images(count, 28, seed, m.pixels, m.labels);
    return m;
}

// A stand-in model: output = its input x for the first half of the batch, 0 for the second half (where a guided
// batch has its null-label rows), so guidance mixes two different outputs: m = 0 + w (x − 0).
Denoiser copy_model(Prediction p) {
    Denoiser d;
    d.name = "copy";
    d.prediction = p;
    d.dim = 784;
    d.max_batch = 8;
    d.bind = [](const DenoiserIo& io) -> Denoiser::Recorder {
        const VkDeviceSize row = 784 * 4, half = io.batch / 2;
        return [io, row, half](engine::CommandBuffer& c) {
            c.copy(*io.x, *io.out, io.batch * row);
            c.barrier();  // WAW: the copy → the zeroed second half
            c.fill(*io.out, 0, half * row, (io.batch - half) * row);
        };
    };
    return d;
}

// Runs `steps` sampler steps of `chains` chains (label 3), then one complete field.
struct Rig {
    engine::Offscreen target;
    diffuscope::data::Mnist digits;
    Denoiser model;
    VisChain chain;
    FieldImg field;
    HostSchedule schedule;
    Rig(engine::Context& ctx, Denoiser m, const ChainSettings& cs, int steps, const diffuscope::data::Mnist& train)
        : target(ctx, {64, 64}), digits(train), model(std::move(m)), chain(ctx, model, &digits),
          field(ctx, target.render_pass()) {
        ScheduleSettings ss;
        ss.steps = 20;
        schedule = make_schedule(ss);
        engine::one_shot(ctx, [&](engine::CommandBuffer& c) {
            chain.restart(c, cs, schedule);
            for (int i = 0; i < steps; ++i) chain.record_step(c);
        });
    }
    void evaluate(engine::Context& ctx, FieldImgSettings s, bool overlay) {
        s.complete_now = true;
        test::poison(const_cast<engine::Buffer&>(field.raw()));
        test::poison(const_cast<engine::Buffer&>(field.overlay_pixels()));
        engine::one_shot(ctx, [&](engine::CommandBuffer& c) {
            field.record_field(c, {&chain, &model, &digits, &schedule}, s);
            if (overlay) {
                c.barrier();  // (the frame's order) the field's passes, then the heat map
                field.record_overlay(c, chain, chain.settings().view == PredictionView::score);
            }
        });
    }
};

}  // namespace

TEST(FieldImgSlice, GramSchmidtGivesAnOrthonormalBasisOfThePlane) {
    std::mt19937_64 g(5);
    for (size_t dim : {2u, 3u, 784u}) {
        slice::Vec a = random_vec(g, dim, 3), b = random_vec(g, dim, 0.2), u, v;
        for (size_t i = 0; i < dim; ++i) b[i] += 0.9 * a[i];  // far from orthogonal to a
        ASSERT_TRUE(slice::orthonormalise(a, b, u, v));
        EXPECT_NEAR(norm(u), 1, 1e-13);
        EXPECT_NEAR(norm(v), 1, 1e-13);
        EXPECT_NEAR(slice::dot(u, v), 0, 1e-13);
        EXPECT_GT(slice::dot(a, u), 0) << "u points along a";
        EXPECT_GT(slice::dot(b, v), 0) << "v points to b's side";
        // a and b lie in span(u, v): nothing is left after removing their (u, v) parts.
        for (const slice::Vec* w : {&a, &b}) {
            const double cu = slice::dot(*w, u), cv = slice::dot(*w, v);
            slice::Vec r = *w;
            for (size_t i = 0; i < dim; ++i) r[i] -= cu * u[i] + cv * v[i];
            EXPECT_LT(norm(r), 1e-12 * norm(*w)) << "dim " << dim;
        }
    }
    slice::Vec a = random_vec(g, 784), twice = a, u, v, zero(784, 0.0);
    for (double& x : twice) x *= 2;
    EXPECT_FALSE(slice::orthonormalise(a, twice, u, v)) << "parallel directions span no plane";
    EXPECT_FALSE(slice::orthonormalise(zero, a, u, v)) << "a zero direction";
}

TEST(FieldImgSlice, ProjectionRecoversThePlaneCoordinates) {
    std::mt19937_64 g(9);
    slice::Vec a = random_vec(g, 784), b = random_vec(g, 784), u, v, origin = random_vec(g, 784, 2);
    ASSERT_TRUE(slice::orthonormalise(a, b, u, v));
    // p = origin + 3u − 2.5v + w with w ⟂ u, v: the projection is (3, −2.5) whatever w is.
    slice::Vec w = random_vec(g, 784, 5);
    const double wu = slice::dot(w, u), wv = slice::dot(w, v);
    for (size_t i = 0; i < 784; ++i) w[i] -= wu * u[i] + wv * v[i];
    slice::Vec p(784);
    for (size_t i = 0; i < 784; ++i) p[i] = origin[i] + 3 * u[i] - 2.5 * v[i] + w[i];
    auto q = slice::project(p, origin, u, v);
    EXPECT_NEAR(q[0], 3, 1e-12);
    EXPECT_NEAR(q[1], -2.5, 1e-12);
}

TEST(FieldImgSlice, PcaFindsTheKnownAxesAndMatchesAJacobiReference) {
    // 60 points along three orthonormal axes with standard deviations 3, 1.5, 0.5, plus a little isotropic noise.
    std::mt19937_64 g(21);
    const size_t n = 60, dim = 784;
    slice::Vec e1 = random_vec(g, dim), e2 = random_vec(g, dim), e3 = random_vec(g, dim), tmp;
    ASSERT_TRUE(slice::orthonormalise(e1, e2, e1, e2));
    ASSERT_TRUE(slice::orthonormalise(e1, e3, tmp, e3));
    const double c2 = slice::dot(e3, e2);
    for (size_t i = 0; i < dim; ++i) e3[i] -= c2 * e2[i];
    for (double& x : e3) x /= norm(e3);
    std::normal_distribution<double> d(0, 1);
    const slice::Vec centre = random_vec(g, dim);
    std::vector<slice::Vec> rows;
    for (size_t j = 0; j < n; ++j) {
        const double g1 = 3 * d(g), g2 = 1.5 * d(g), g3 = 0.5 * d(g);
        slice::Vec r(dim);
        for (size_t i = 0; i < dim; ++i) r[i] = centre[i] + g1 * e1[i] + g2 * e2[i] + g3 * e3[i] + 0.01 * d(g);
        rows.push_back(std::move(r));
    }
    const slice::Pca pca = slice::principal_directions(rows, 2);
    ASSERT_EQ(pca.axes.size(), 2u);
    EXPECT_GT(std::abs(slice::dot(pca.axes[0], e1)), 0.98) << "the first axis is the widest direction";
    EXPECT_GT(std::abs(slice::dot(pca.axes[1], e2)), 0.98);
    EXPECT_NEAR(norm(pca.axes[0]), 1, 1e-12);
    EXPECT_NEAR(slice::dot(pca.axes[0], pca.axes[1]), 0, 1e-10);

    // The reference: the sample covariance's top eigenpairs from Jacobi rotations on the Gram matrix of the
    // centred points (Y Yᵀ e = σ² e ⇒ Yᵀe is a covariance eigenvector with eigenvalue σ²/n).
    slice::Vec mean(dim, 0.0);
    for (const auto& r : rows)
        for (size_t i = 0; i < dim; ++i) mean[i] += r[i] / double(n);
    std::vector<slice::Vec> y = rows;
    for (auto& r : y)
        for (size_t i = 0; i < dim; ++i) r[i] -= mean[i];
    std::vector<double> gram(n * n);
    for (size_t a = 0; a < n; ++a)
        for (size_t b = 0; b < n; ++b) gram[a * n + b] = slice::dot(y[a], y[b]);
    const auto eig = ref::jacobi_eigen(gram, n);
    double trace = 0;
    for (size_t a = 0; a < n; ++a) trace += gram[a * n + a] / double(n);
    // The reference itself: G e = λ e for its top pair.
    for (size_t a = 0; a < n; ++a) {
        double ge = 0;
        for (size_t b = 0; b < n; ++b) ge += gram[a * n + b] * eig.vectors[0][b];
        ASSERT_NEAR(ge, eig.values[0] * eig.vectors[0][a], 1e-9 * eig.values[0]);
    }
    EXPECT_NEAR(pca.total_variance, trace, 1e-9 * trace);
    for (int k = 0; k < 2; ++k) {
        slice::Vec axis(dim, 0.0);
        for (size_t j = 0; j < n; ++j)
            for (size_t i = 0; i < dim; ++i) axis[i] += eig.vectors[size_t(k)][j] * y[j][i];
        const double na = norm(axis);
        for (double& x : axis) x /= na;
        EXPECT_GT(std::abs(slice::dot(axis, pca.axes[size_t(k)])), 1 - 1e-9) << "axis " << k;
        EXPECT_NEAR(pca.variance[size_t(k)], eig.values[size_t(k)] / double(n), 1e-9 * eig.values[0] / double(n));
    }
}

TEST(FieldImgSlice, ClassMeansAreTheMeanImagesInModelUnits) {
    const auto m = synthetic_digits(60, 3);
    const auto means = slice::class_means(m);
    ASSERT_EQ(means.size(), 10u);
    for (int c = 0; c < 10; ++c) {
        slice::Vec ref(784, 0.0);
        int count = 0;
        for (uint32_t i = 0; i < m.count; ++i) {
            if (m.labels[i] != c) continue;
            ++count;
            for (size_t p = 0; p < 784; ++p) ref[p] += 2.0 * m.pixels[i * 784 + p] / 255.0 - 1.0;
        }
        if (count == 0) {
            EXPECT_TRUE(means[size_t(c)].empty());
            continue;
        }
        for (size_t p = 0; p < 784; p += 37) EXPECT_NEAR(means[size_t(c)][p], ref[p] / count, 1e-12);
    }
}

// The GPU field (grid points → model → x̂₀ → q → projections) and the heat map against double references.
TEST_F(GpuTest, FieldImgProjectionsAndHeatMapMatchADoubleReference) {
    const auto digits = synthetic_digits(200, 11);
    struct Case {
        Prediction prediction;
        float guidance;
        PredictionView view;
        SliceBasis basis;
        int grid;
        float eta;
        SliceBasis expect;  // the basis used: PCA falls back to the class means when the path is a line
    };
    // The stand-in scales x at every DDIM η = 0 step, so its path is a line; η = 1 adds noise, and a plane.
    for (const Case& k : {Case{Prediction::eps, 1.0f, PredictionView::eps, SliceBasis::class_means, 5, 0, SliceBasis::class_means},
                          Case{Prediction::v, 2.0f, PredictionView::score, SliceBasis::pca, 6, 1, SliceBasis::pca},
                          Case{Prediction::x0, 1.0f, PredictionView::score, SliceBasis::class_means, 7, 0, SliceBasis::class_means},
                          Case{Prediction::eps, 3.0f, PredictionView::x0, SliceBasis::pca, 5, 1, SliceBasis::pca},
                          Case{Prediction::x0, 1.0f, PredictionView::eps, SliceBasis::pca, 5, 0, SliceBasis::class_means}}) {
        SCOPED_TRACE("prediction " + std::string(diffuscope::prediction_name(k.prediction)) + ", w " +
                     std::to_string(k.guidance) + ", grid " + std::to_string(k.grid));
        ChainSettings cs;
        cs.chains = 4;
        cs.guidance = k.guidance;
        cs.view = k.view;
        cs.eta = k.eta;
        Rig rig(ctx, copy_model(k.prediction), cs, 10, digits);
        FieldImgSettings s;
        s.chain = 2;
        s.basis = k.basis;
        s.grid = k.grid;
        rig.evaluate(ctx, s, true);
        const FieldSlice& sl = rig.field.shown_slice();
        ASSERT_TRUE(sl.valid);
        EXPECT_FALSE(rig.field.filling());
        EXPECT_EQ(sl.basis, k.expect) << sl.note;
        if (k.expect != k.basis) {
            EXPECT_NE(sl.note.find("line"), std::string::npos) << sl.note;
        } else if (k.basis == SliceBasis::pca) {
            EXPECT_GT(sl.share[0] + sl.share[1], 0.5);
        }
        EXPECT_EQ(sl.points, uint32_t(1 + k.grid * k.grid));
        EXPECT_EQ(sl.guided, k.guidance != 1.0f);
        EXPECT_NEAR(sl.alpha_bar, rig.chain.alpha_bar(), 1e-12);
        // The square holds the path (ending at x_t = (0, 0)) and the marks.
        ASSERT_GE(sl.path.size(), 2u);
        EXPECT_EQ(sl.path.back()[0], 0.0);
        for (const auto& q : sl.path)
            for (int d = 0; d < 2; ++d) EXPECT_TRUE(q[d] >= sl.lo[d] && q[d] <= sl.hi[d]);
        if (sl.basis == SliceBasis::class_means) {
            ASSERT_EQ(sl.marks.size(), 2u);
            EXPECT_EQ(sl.class_a, 3) << "a = the chain's digit";
            const auto means = slice::class_means(digits);
            auto at = slice::project(means[3], sl.origin, sl.u, sl.v);
            EXPECT_NEAR(sl.marks[0].at[0], at[0], 1e-9);
            // u and v are rounded to float (what the GPU sees): m_a is off the u axis by ~1e-7 of its distance.
            EXPECT_NEAR(std::abs(sl.marks[0].at[1]), 0, 1e-6 * std::max(1.0, std::abs(at[0]))) << "m_a lies on the u axis";
        }
        auto raw = rig.field.raw().download_as<float>(size_t(sl.points) * 4);
        const double a = std::sqrt(sl.alpha_bar), b = std::sqrt(1 - sl.alpha_bar), w = k.guidance;
        const uint32_t per = sl.guided ? 4 : 8;
        double worst = 0;
        for (uint32_t j = 0; j < sl.points; ++j) {
            const auto ab = sl.point(j);
            ASSERT_NEAR(raw[j * 4], ab[0], 1e-5 * (sl.hi[0] - sl.lo[0])) << "point " << j;
            ASSERT_NEAR(raw[j * 4 + 1], ab[1], 1e-5 * (sl.hi[0] - sl.lo[0])) << "point " << j;
            const bool first_half = j % per < 4;  // the stand-in's rows: x, then zeros (guided: the null rows)
            double pu = 0, pv = 0, scale = 0;
            for (size_t p = 0; p < 784; ++p) {
                const double x = sl.origin[p] + ab[0] * sl.u[p] + ab[1] * sl.v[p];
                const double m = sl.guided ? w * x : first_half ? x : 0.0;
                const double x0 = k.prediction == Prediction::eps ? (x - b * m) / a : k.prediction == Prediction::x0 ? m : a * x - b * m;
                const double q = sl.score ? (a * x0 - x) / (b * b) : x0 - x;
                pu += q * sl.u[p];
                pv += q * sl.v[p];
                scale += std::abs(q) * (std::abs(sl.u[p]) + std::abs(sl.v[p]));
            }
            const double err = std::max(std::abs(raw[j * 4 + 2] - pu), std::abs(raw[j * 4 + 3] - pv)) / (scale + 1e-6);
            worst = std::max(worst, err);
        }
        EXPECT_LT(worst, 2e-5) << "relative to Σ|q|(|u| + |v|)";

        // The heat map: 2×2 tiles of 28 px, 1 px transparent gaps; red/blue by sign, alpha = 0.85·|s|/range.
        const uint32_t W = rig.field.overlay_width(), H = rig.field.overlay_height();
        ASSERT_EQ(W, 2u * 28 + 3);
        ASSERT_EQ(H, W);
        auto px = rig.field.overlay_pixels().download_as<uint8_t>(size_t(W) * H * 4);
        auto xt = rig.chain.x_t().download_as<float>(4 * 784), x0 = rig.chain.x0_hat().download_as<float>(4 * 784);
        auto pred = rig.chain.prediction().download_as<float>(4 * 784);
        const bool score = k.view == PredictionView::score;
        const double range = score ? 1 / std::sqrt(std::max(1 - rig.chain.alpha_bar(), 1e-4)) : 2.0;
        int max_diff = 0;
        for (uint32_t y = 0; y < H; ++y)
            for (uint32_t x = 0; x < W; ++x) {
                uint8_t want[4] = {0, 0, 0, 0};
                const uint32_t ux = x - 1, uy = y - 1, tx = ux / 29, ty = uy / 29, cx = ux % 29, cy = uy % 29;
                if (x >= 1 && y >= 1 && cx < 28 && cy < 28 && tx < 2 && ty < 2) {
                    const size_t i = (ty * 2 + tx) * 784 + cy * 28 + cx;
                    const double sv = score ? pred[i] : double(x0[i]) - double(xt[i]);
                    const double u = std::clamp(sv / range, -1.0, 1.0);
                    const int blue[3] = {59, 76, 192}, red[3] = {180, 4, 38};
                    for (int c = 0; c < 3; ++c) want[c] = uint8_t(u < 0 ? blue[c] : red[c]);
                    want[3] = uint8_t(std::lround(0.85 * std::abs(u) * 255));
                }
                for (int c = 0; c < 4; ++c) max_diff = std::max(max_diff, std::abs(int(px[(y * W + x) * 4 + c]) - int(want[c])));
            }
        EXPECT_LE(max_diff, 1) << "heat map bytes";
    }
}

// Live: one model batch per frame; the last complete slice stays on screen while the next one fills; the chain
// moving on waits for the slice in progress, a changed setting does not.
TEST_F(GpuTest, FieldImgFillsOneBatchPerFrameAndKeepsTheLastCompleteSlice) {
    const auto digits = synthetic_digits(100, 13);
    ChainSettings cs;
    cs.chains = 4;
    Rig rig(ctx, copy_model(Prediction::x0), cs, 2, digits);
    FieldImgSettings s;
    s.grid = 5;  // 26 points: 4 batches of 8
    auto frame = [&] {
        engine::one_shot(ctx, [&](engine::CommandBuffer& c) {
            rig.field.record_field(c, {&rig.chain, &rig.model, &rig.digits, &rig.schedule}, s);
        });
    };
    frame();
    EXPECT_TRUE(rig.field.filling());
    EXPECT_EQ(rig.field.filled(), 8u);
    EXPECT_FALSE(rig.field.shown_slice().valid) << "nothing complete yet";
    frame();
    frame();
    EXPECT_TRUE(rig.field.filling());
    frame();
    EXPECT_FALSE(rig.field.filling());
    ASSERT_TRUE(rig.field.shown_slice().valid);
    EXPECT_EQ(rig.field.shown_slice().step, 2);
    frame();
    EXPECT_FALSE(rig.field.filling()) << "nothing moved: no work";
    // The chain takes a step: a new slice fills, the old one stays shown until it is complete.
    engine::one_shot(ctx, [&](engine::CommandBuffer& c) { rig.chain.record_step(c); });
    frame();
    EXPECT_TRUE(rig.field.filling());
    EXPECT_EQ(rig.field.filling_slice().step, 3);
    EXPECT_EQ(rig.field.shown_slice().step, 2);
    engine::one_shot(ctx, [&](engine::CommandBuffer& c) { rig.chain.record_step(c); });
    frame();
    EXPECT_EQ(rig.field.filled(), 16u) << "the chain moving on waits for the slice in progress";
    EXPECT_EQ(rig.field.filling_slice().step, 3);
    s.grid = 7;  // a setting: a new slice at once
    frame();
    EXPECT_EQ(rig.field.filled(), 8u);
    EXPECT_EQ(rig.field.filling_slice().grid, 7u);
    EXPECT_EQ(rig.field.filling_slice().step, 4);
    EXPECT_EQ(rig.field.shown_slice().step, 2);
    for (int i = 0; i < 6; ++i) frame();  // 50 points: 7 batches
    EXPECT_FALSE(rig.field.filling());
    EXPECT_EQ(rig.field.shown_slice().step, 4);
    EXPECT_EQ(rig.field.shown().points, 50u);
}

// Under a GPU-time budget the batches are replayed a dispatch or so per frame; the field that results is the same,
// bit for bit, as the one evaluated whole.
TEST_F(GpuTest, FieldImgBudgetedReplayGivesTheSameFieldAsAWholeEvaluation) {
    const auto digits = synthetic_digits(120, 17);
    auto oracle = load_oracle_model(ctx, digits, 8);
    ChainSettings cs;
    cs.chains = 4;
    cs.guidance = 2;  // 4 points a batch, each with its null-label twin
    FieldImgSettings s;
    s.grid = 5;
    Rig whole(ctx, oracle->denoiser(), cs, 6, digits);
    whole.evaluate(ctx, s, false);
    const auto want = whole.field.raw().download_as<float>(26 * 4);
    Rig sliced(ctx, oracle->denoiser(), cs, 6, digits);
    test::poison(const_cast<engine::Buffer&>(sliced.field.raw()));
    int frames = 0;
    uint32_t dispatches = 0;
    do {
        engine::one_shot(ctx, [&](engine::CommandBuffer& c) {
            const uint32_t d = sliced.field.record_field(c, {&sliced.chain, &sliced.model, &sliced.digits, &sliced.schedule},
                                                         s, 1e-6, uint32_t(frames % 2));
            EXPECT_EQ(d, 1u) << "a budget below one dispatch's cost still records one";
            dispatches += d;
        });
        ++frames;
    } while (sliced.field.filling() && frames < 1000);
    ASSERT_FALSE(sliced.field.filling());
    EXPECT_EQ(dispatches, uint32_t(frames));
    EXPECT_GE(frames, 7 * 5) << "7 batches of (prepare, the oracle's 3 passes, project)";
    const auto got = sliced.field.raw().download_as<float>(26 * 4);
    EXPECT_EQ(got, want);
    // The cost model learns from what a slot's frame took.
    sliced.field.measured(0, 5.0);
    EXPECT_GT(sliced.field.ms_per_dispatch(), 1.0);
}

// On the empirical oracle at a low noise level, every x̂₀(p) is a convex combination of the class's digits, so its
// projection lies in the projected cloud of those digits: from any grid point outside a disc around the cloud's
// centre (the projected class mean) that holds the whole cloud, the arrow must point towards that centre.
// The chain's own arrow matches the double-precision oracle.
TEST_F(GpuTest, FieldImgOracleArrowsPointIntoTheClassCloud) {
    std::optional<diffuscope::data::Mnist> train;
    std::string why;
    try {
        train = load_training_digits(diffuscope::data::default_data_dir(), why);
    } catch (const std::exception& e) {
        why = e.what();
    }
    if (!train) GTEST_SKIP() << "no MNIST data (" << why << "): run `diffuscope data`";
    auto oracle = load_oracle_model(ctx, *train, 8);
    ChainSettings cs;
    cs.chains = 4;
    cs.label = 3;
    cs.seed = 4;
    cs.guidance = 1;
    Rig rig(ctx, oracle->denoiser(), cs, 18, *train);  // 18 of 20 DDIM steps: ᾱ ≈ 0.9
    FieldImgSettings s;
    s.chain = 1;
    s.class_b = 8;
    s.grid = 15;
    rig.evaluate(ctx, s, false);
    const FieldSlice& sl = rig.field.shown_slice();
    ASSERT_TRUE(sl.valid);
    ASSERT_EQ(sl.basis, SliceBasis::class_means) << sl.note;
    EXPECT_GT(sl.alpha_bar, 0.8);
    // The projected cloud of the 3s: its centre is the projected mean (projection is affine), R its radius.
    const auto& d = rig.digits;
    std::array<double, 2> centre{0, 0};
    std::vector<std::array<double, 2>> cloud;
    for (uint32_t i = 0; i < d.count; ++i) {
        if (d.labels[i] != 3) continue;
        slice::Vec x(784);
        for (size_t p = 0; p < 784; ++p) x[p] = d.pixels[size_t(i) * 784 + p] / 127.5 - 1;
        cloud.push_back(slice::project(x, sl.origin, sl.u, sl.v));
    }
    for (const auto& q : cloud) centre[0] += q[0] / double(cloud.size()), centre[1] += q[1] / double(cloud.size());
    EXPECT_NEAR(centre[0], sl.marks[0].at[0], 1e-6) << "the cloud's centre is the projected mean of the 3s";
    double radius = 0;
    for (const auto& q : cloud) radius = std::max(radius, std::hypot(q[0] - centre[0], q[1] - centre[1]));
    auto raw = rig.field.raw().download_as<float>(size_t(sl.points) * 4);
    int outside = 0, inward = 0;
    for (uint32_t j = 1; j < sl.points; ++j) {
        const double px = raw[j * 4], py = raw[j * 4 + 1], dx = raw[j * 4 + 2], dy = raw[j * 4 + 3];
        ASSERT_TRUE(std::isfinite(dx) && std::isfinite(dy));
        const double tx = centre[0] - px, ty = centre[1] - py;
        if (std::hypot(tx, ty) < 1.05 * radius) continue;
        ++outside;
        inward += dx * tx + dy * ty > 0;
    }
    std::printf("[fieldimg] cloud radius %.2f in a square of side %.1f: %d of %d arrows outside it point inward\n", radius,
                sl.hi[0] - sl.lo[0], inward, outside);
    ASSERT_GE(outside, 20) << "the square should reach well beyond the digits";
    EXPECT_EQ(inward, outside) << "an arrow outside the cloud points away from it";
    // x_t's own arrow against the oracle in double: the projection of E[x₀ | x_t] − x_t.
    const auto x0 = ref::empirical_denoise(d.pixels, d.labels, 784, sl.origin, sl.alpha_bar, 3);
    auto want = slice::project(x0, sl.origin, sl.u, sl.v);
    EXPECT_NEAR(raw[2], want[0], 1e-3 * (1 + std::abs(want[0])));
    EXPECT_NEAR(raw[3], want[1], 1e-3 * (1 + std::abs(want[1])));
}

// `diffuscope render --mode fieldimg`: accepted; the frame has the slice (arrows in viridis colours, x_t's
// orange arrow) beside the grid, and the run is validation-clean.
TEST(RenderCommand, FieldImgDrawsTheSliceWithArrowsAndIsValidationClean) {
    std::string why;
    std::optional<diffuscope::data::Mnist> train;
    try {
        train = load_training_digits(diffuscope::data::default_data_dir(), why);
    } catch (const std::exception& e) {
        why = e.what();
    }
    if (!train) GTEST_SKIP() << "no MNIST data (" << why << "): the oracle needs it";
    const auto out = std::filesystem::temp_directory_path() / ("diffuscope_fieldimg_" + std::to_string(::getpid()) + ".png");
    auto r = test::run_diffuscope("--validate render --mode fieldimg --oracle --chains 4 --steps 20 --frames 12 "
                                  "--slice-grid 9 --out " + out.string());
    ASSERT_EQ(r.rc, 0) << r.out;
    EXPECT_NE(r.out.find("validation: 0 errors, 0 warnings"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("slice through chain 0"), std::string::npos) << r.out;
    int w = 0, h = 0, n = 0;
    unsigned char* px = stbi_load(out.c_str(), &w, &h, &n, 4);
    ASSERT_NE(px, nullptr);
    ASSERT_EQ(w, 1280);
    ASSERT_EQ(h, 800);
    // The slice is the right-hand square of the canvas (x ≥ 840 at this size). Its text is grey, the path blue
    // (g < b), x_t and its arrow orange; the grid's arrows are viridis: teal, green or yellow (g > 120, g ≥ b).
    size_t arrows = 0, orange = 0, area = 0;
    for (int y = 60; y < 520; ++y)
        for (int x = 840; x < 1275; ++x, ++area) {
            const unsigned char* p = px + (size_t(y) * w + x) * 4;
            const bool is_orange = p[0] > 200 && p[1] > 100 && p[1] < 180 && p[2] < 100;
            orange += is_orange;
            arrows += !is_orange && p[1] > 120 && p[1] + 5 >= p[2] && std::max({p[0], p[1], p[2]}) - std::min({p[0], p[1], p[2]}) > 50;
        }
    stbi_image_free(px);
    std::filesystem::remove(out);
    std::printf("[fieldimg render] %zu arrow, %zu orange of %zu pixels in the slice\n", arrows, orange, area);
    EXPECT_GT(arrows, area / 200) << "no arrows in the slice";
    EXPECT_GT(orange, 50u) << "no x_t marker or arrow";
}
