// The classifier of diffusion/model/classifier.hpp: its GPU forward and every parameter gradient against a
// double-precision reference chained from the layer references (tests/reference), on a NaN-poisoned net at
// an odd batch; its weights file round trip and errors; and the Fréchet distance against closed forms.
#include "diffusion/eval/frechet.hpp"
#include "diffusion/io/safetensors.hpp"
#include "diffusion/model/classifier.hpp"
#include "tests/gpu.hpp"
#include "tests/nn_check.hpp"
#include "tests/reference/nn_ref.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <unistd.h>

namespace nn = diffuscope::nn;
namespace ev = diffuscope::eval;

namespace {

// The classifier in double: forward to the logits, then the backward of mean cross-entropy.
struct RefClassifier {
    const nn::ParamTable table = nn::Classifier::params();
    std::vector<double> w;
    std::span<const double> p(const char* n) const { return std::span(w).subspan(table[n].offset, table[n].count); }

    std::vector<double> grads(int n, const std::vector<double>& x, const std::vector<int32_t>& labels,
                              std::vector<double>& logits) const {
        const ref::Conv c1{n, 1, 28, 28, 16, 3, 1}, c2{n, 16, 28, 28, 32, 3, 2}, c3{n, 32, 14, 14, 64, 3, 2};
        std::vector<double> h1(size_t(n) * 16 * 784), a1(h1.size()), h2(size_t(n) * 32 * 196), a2(h2.size()),
            h3(size_t(n) * 3136), a3(h3.size()), f(size_t(n) * 128), af(f.size());
        logits.assign(size_t(n) * 10, 0.0);
        ref::conv2d_forward(c1, x, p("conv1.weight"), p("conv1.bias"), h1);
        ref::silu_forward(h1, a1);
        ref::conv2d_forward(c2, a1, p("conv2.weight"), p("conv2.bias"), h2);
        ref::silu_forward(h2, a2);
        ref::conv2d_forward(c3, a2, p("conv3.weight"), p("conv3.bias"), h3);
        ref::silu_forward(h3, a3);
        ref::linear_forward(n, 3136, 128, a3, p("fc1.weight"), p("fc1.bias"), f);
        ref::silu_forward(f, af);
        ref::linear_forward(n, 128, 10, af, p("fc2.weight"), p("fc2.bias"), logits);
        std::vector<double> prob(logits.size()), dz(logits.size());
        ref::softmax_xent_forward(n, 10, logits, labels, prob);
        ref::softmax_xent_backward(n, 10, prob, labels, dz);
        std::vector<double> g(w.size(), 0.0);
        auto gs = [&](const char* name) { return std::span(g).subspan(table[name].offset, table[name].count); };
        std::vector<double> daf(af.size()), df(f.size()), da3(a3.size()), dh3(h3.size()), da2(a2.size()),
            dh2(h2.size()), da1(a1.size()), dh1(h1.size()), dx(x.size());
        ref::linear_backward(n, 128, 10, af, p("fc2.weight"), dz, daf, gs("fc2.weight"), gs("fc2.bias"));
        ref::silu_backward(f, daf, df);
        ref::linear_backward(n, 3136, 128, a3, p("fc1.weight"), df, da3, gs("fc1.weight"), gs("fc1.bias"));
        ref::silu_backward(h3, da3, dh3);
        ref::conv2d_backward(c3, a2, p("conv3.weight"), dh3, da2, gs("conv3.weight"), gs("conv3.bias"));
        ref::silu_backward(h2, da2, dh2);
        ref::conv2d_backward(c2, a1, p("conv2.weight"), dh2, da1, gs("conv2.weight"), gs("conv2.bias"));
        ref::silu_backward(h1, da1, dh1);
        ref::conv2d_backward(c1, x, p("conv1.weight"), dh1, dx, gs("conv1.weight"), gs("conv1.bias"));
        return g;
    }
};

class ClassifierTest : public test::GpuTest {};

TEST_F(ClassifierTest, ForwardAndEveryGradientMatchTheDoubleReference) {
    const uint32_t n = 3;
    const auto init = nn::Classifier::init(11);
    RefClassifier r;
    r.w.assign(init.begin(), init.end());
    std::mt19937_64 gen(5);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::vector<double> x(size_t(n) * 784);
    for (auto& v : x) v = double(float(u(gen)));
    const std::vector<int32_t> labels = {3, 0, 9};
    std::vector<double> logits;
    const auto g_ref = r.grads(int(n), x, labels, logits);

    nn::ClassifierNet net(ctx, n, true);
    net.param_buffer().upload(init);
    engine::Buffer xb(ctx, n * 784 * 4), lb(ctx, n * 4);
    xb.upload(nncheck::to_float(x));
    lb.upload(labels);
    test::poison(net.grad_buffer());
    engine::one_shot(ctx, [&](engine::CommandBuffer& cmd) {
        net.record_forward(cmd, xb);
        net.record_loss_and_backward(cmd, lb);
    });
    auto act = net.activations().download_as<float>(net.logits().offset + n * 10);
    std::vector<float> got_logits(act.begin() + net.logits().offset, act.begin() + net.logits().offset + n * 10);
    EXPECT_LE(nncheck::max_rel_err(got_logits, logits), 2e-4) << "logits";
    auto g = net.grad_buffer().download_as<float>(r.table.total());
    for (const auto& p : r.table.all()) {
        std::span<const float> got(g.data() + p.offset, p.count);
        std::span<const double> want(g_ref.data() + p.offset, p.count);
        const double err = nncheck::max_rel_err(got, want);
        std::printf("[classifier] d%-14s max rel err %.2e\n", p.name.c_str(), err);
        EXPECT_LE(err, 1e-3) << p.name;
    }
}

TEST_F(ClassifierTest, ClassifiesInBatchesAsInOne) {
    const auto w = nn::Classifier::init(3);
    std::mt19937_64 gen(9);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    std::vector<float> images(7 * 784);
    for (auto& v : images) v = u(gen);
    auto one = nn::classify(ctx, w, images, 7), three = nn::classify(ctx, w, images, 3);
    ASSERT_EQ(one.predicted.size(), 7u);
    EXPECT_EQ(one.predicted, three.predicted);
    for (size_t i = 0; i < one.features.size(); ++i) ASSERT_NEAR(one.features[i], three.features[i], 1e-5);
    for (size_t i = 0; i < 7; ++i) {
        double s = 0;
        for (int k = 0; k < 10; ++k) s += one.probs[i * 10 + k];
        EXPECT_NEAR(s, 1.0, 1e-5);
    }
}

TEST(ClassifierFile, RoundTripsAndRejectsOtherFiles) {
    const auto dir = std::filesystem::temp_directory_path() / ("diffuscope_cls_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto w = nn::Classifier::init(4);
    nn::save_classifier(dir / "c.safetensors", w, {{"heldout_accuracy", "0.5"}});
    EXPECT_EQ(nn::load_classifier(dir / "c.safetensors"), w);
    diffuscope::io::SafeTensors other;
    other.metadata = {{"format", "diffuscope-unet"}};
    diffuscope::io::write_safetensors(dir / "u.safetensors", other);
    try {
        nn::load_classifier(dir / "u.safetensors");
        ADD_FAILURE() << "a UNet file loaded as a classifier";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("not a diffuscope classifier"), std::string::npos) << e.what();
    }
    EXPECT_THROW(nn::load_classifier(dir / "missing.safetensors"), std::runtime_error);
    std::filesystem::remove_all(dir);
}

TEST(Frechet, ClosedFormForDiagonalGaussians) {
    // d² = ‖μa − μb‖² + Σ_i (σa_i − σb_i)² when both covariances are diagonal.
    ev::Gaussian a{3, {0, 0, 1}, {1, 0, 0, 0, 4, 0, 0, 0, 0.25}}, b{3, {1, 2, 1}, {4, 0, 0, 0, 9, 0, 0, 0, 1}};
    const double want = 1 + 4 + 0 + 1 + 1 + 0.25;
    EXPECT_NEAR(ev::frechet_distance(a, b), want, 1e-9);
    EXPECT_NEAR(ev::frechet_distance(b, a), want, 1e-9);
    EXPECT_NEAR(ev::frechet_distance(a, a), 0.0, 1e-9);
}

TEST(Frechet, RotationInvariantAndFitsSamples) {
    // Rotating both Gaussians by the same orthogonal matrix leaves the distance unchanged.
    const double c = std::cos(0.7), s = std::sin(0.7);
    auto rotate = [&](const ev::Gaussian& g) {
        const double R[4] = {c, -s, s, c};
        ev::Gaussian r{2, {R[0] * g.mean[0] + R[1] * g.mean[1], R[2] * g.mean[0] + R[3] * g.mean[1]}, std::vector<double>(4)};
        for (int i = 0; i < 2; ++i)
            for (int j = 0; j < 2; ++j) {
                double v = 0;
                for (int k = 0; k < 2; ++k)
                    for (int l = 0; l < 2; ++l) v += R[i * 2 + k] * g.cov[k * 2 + l] * R[j * 2 + l];
                r.cov[i * 2 + j] = v;
            }
        return r;
    };
    ev::Gaussian a{2, {0.5, -1}, {2, 0.3, 0.3, 1}}, b{2, {0, 1}, {1, -0.2, -0.2, 3}};
    EXPECT_NEAR(ev::frechet_distance(rotate(a), rotate(b)), ev::frechet_distance(a, b), 1e-9);
    // Samples of N(μ, Σ): the fitted Gaussian approaches it.
    std::mt19937_64 gen(2);
    std::normal_distribution<double> z;
    std::vector<float> rows;
    for (int i = 0; i < 200000; ++i) {
        const double u = z(gen), v = z(gen);
        rows.push_back(float(1 + 2 * u));            // σ = 2
        rows.push_back(float(-1 + 0.5 * u + v));     // correlated: cov = 1, var = 1.25
    }
    auto g = ev::fit_gaussian(rows, 2);
    EXPECT_NEAR(g.mean[0], 1, 0.02);
    EXPECT_NEAR(g.mean[1], -1, 0.02);
    EXPECT_NEAR(g.cov[0], 4, 0.05);
    EXPECT_NEAR(g.cov[1], 1, 0.03);
    EXPECT_NEAR(g.cov[3], 1.25, 0.03);
}

TEST(Frechet, EigenDecompositionReconstructs) {
    const size_t n = 9;
    std::mt19937_64 gen(4);
    std::normal_distribution<double> z;
    std::vector<double> m(n * n), a(n * n, 0.0);
    for (auto& v : m) v = z(gen);
    for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < n; ++j)
            for (size_t k = 0; k < n; ++k) a[i * n + j] += m[i * n + k] * m[j * n + k];
    std::vector<double> lam, vec;
    ev::symmetric_eigen(a, n, lam, vec);
    for (size_t i = 1; i < n; ++i) EXPECT_LE(lam[i - 1], lam[i]);
    for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < n; ++j) {
            double r = 0;
            for (size_t k = 0; k < n; ++k) r += vec[i * n + k] * lam[k] * vec[j * n + k];
            EXPECT_NEAR(r, a[i * n + j], 1e-9);
        }
}

}  // namespace
