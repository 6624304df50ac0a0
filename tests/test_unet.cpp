// The whole UNet: its parameter table is the PyTorch twin's; the GPU forward and every gradient match the
// double-precision reference UNet; the reference's own gradient matches central finite differences on a
// few hundred random parameters (so a wrong derivation cannot hide behind a matching shader).
#include "diffusion/model/unet.hpp"
#include "tests/gpu.hpp"
#include "tests/nn_check.hpp"
#include "tests/reference/unet_ref.hpp"

using namespace diffuscope::nn;

namespace {
UNetConfig small_config() {
    UNetConfig c;
    c.base = 8;
    c.groups = 4;
    c.emb_dim = 16;
    c.cond_dim = 24;
    return c;
}

struct Inputs {
    std::vector<double> x, level, dout;
    std::vector<int32_t> label;
};
Inputs make_inputs(int n, uint64_t seed) {
    Inputs in;
    in.x = nncheck::randn(size_t(n) * 784, seed);
    in.dout = nncheck::randn(size_t(n) * 784, seed + 1);
    auto l = nncheck::randn(n, seed + 2, 6.0);
    in.level = l;
    for (int i = 0; i < n; ++i) in.label.push_back(int32_t((seed + 3 * i) % 11));  // 10 = the null label
    return in;
}

// Parameters: the real initialisation, plus noise on the zero-initialised and unit ones so every path
// carries signal (a zero conv_out would make every upstream gradient vanish and the test vacuous).
std::vector<double> make_params(const UNetConfig& c, const ParamTable& t, uint64_t seed) {
    auto p = unet_init(c, t, seed);
    auto noise = nncheck::randn(p.size(), seed + 9, 0.2);
    std::vector<double> out(p.size());
    for (size_t i = 0; i < p.size(); ++i) out[i] = p[i] + noise[i];
    return out;
}
}  // namespace

TEST(UNet, ParameterTableMatchesThePyTorchTwin) {
    UNetConfig c;  // base 16: python/diffuscope_ref.py prints 268561 parameters
    auto t = unet_params(c);
    uint64_t total = 0;
    for (const auto& p : t.all()) total += p.count;
    EXPECT_EQ(total, 268561u);
    EXPECT_EQ(t["up1.skip.weight"].shape, (std::vector<int64_t>{32, 96, 1, 1}));
    EXPECT_FALSE(t.contains("down0.skip.weight"));
    for (const auto& p : t.all()) EXPECT_EQ(p.offset % 4, 0u) << p.name;
    EXPECT_NEAR(unet_flops_per_image(c) / 1e6, 58.0, 3.0);
}

TEST(UNetRef, GradientMatchesFiniteDifferences) {
    auto cfg = small_config();
    ref::UNetRef net(cfg);
    net.params = make_params(cfg, net.table, 11);
    const int n = 1;  // one image keeps 400+ reference forwards within seconds
    auto in = make_inputs(n, 5);
    net.forward(n, in.x, in.level, in.label);
    std::vector<double> grads, dx;
    net.backward(in.dout, grads, dx);
    auto loss = [&] { return nncheck::dot(net.forward(n, in.x, in.level, in.label), in.dout); };
    // Parameters: 200 random indices over the whole flat buffer (padding excluded by sampling tensors).
    std::vector<double> sub_grad;
    std::vector<size_t> idx;
    std::mt19937_64 gen(3);
    const auto& all = net.table.all();
    for (int k = 0; k < 200; ++k) {
        const auto& p = all[gen() % all.size()];
        idx.push_back(p.offset + gen() % p.count);
    }
    double worst = 0;
    for (size_t i : idx) {
        double keep = net.params[i], h = 1e-5;
        net.params[i] = keep + h;
        double lp = loss();
        net.params[i] = keep - h;
        double lm = loss();
        net.params[i] = keep;
        double fd = (lp - lm) / (2 * h);
        double err = std::abs(fd - grads[i]) / std::max({std::abs(fd), std::abs(grads[i]), 1e-6});
        worst = std::max(worst, err);
        EXPECT_LT(err, 1e-4) << "param index " << i << ": fd " << fd << " vs backward " << grads[i];
    }
    // The input.
    double werr_x = nncheck::fd_max_rel_err(in.x, dx, loss, 1e-5, 16);
    EXPECT_LT(werr_x, 1e-4);
    std::printf("reference UNet vs finite differences: worst relative error %.2e (params), %.2e (x)\n", worst, werr_x);
}

class UNetGpu : public test::GpuTest {};

TEST_F(UNetGpu, ForwardAndGradientsMatchTheReference) {
    auto cfg = small_config();
    const uint32_t n = 3;
    ref::UNetRef refnet(cfg);
    refnet.params = make_params(cfg, refnet.table, 21);
    auto in = make_inputs(n, 8);
    in.level[1] = 1e9;   // clamps to +20
    in.level[2] = -1e9;  // clamps to −20
    auto ref_out = refnet.forward(n, in.x, in.level, in.label);
    std::vector<double> ref_grads, ref_dx;
    refnet.backward(in.dout, ref_grads, ref_dx);

    UNet net(ctx, cfg, n, /*training=*/true);
    net.param_buffer().upload(nncheck::to_float(refnet.params));
    engine::Buffer x(ctx, n * 784 * 4), level(ctx, n * 4), label(ctx, n * 4), out(ctx, n * 784 * 4),
        dout(ctx, n * 784 * 4), dx(ctx, n * 784 * 4);
    x.upload(nncheck::to_float(in.x));
    level.upload(nncheck::to_float(in.level));
    label.upload(in.label);
    dout.upload(nncheck::to_float(in.dout));
    test::poison(out);
    test::poison(dx);
    test::poison(net.grad_buffer());
    engine::one_shot(ctx, [&](engine::CommandBuffer& cmd) {
        net.record_forward(cmd, x, level, label, out);
        cmd.barrier();  // RAW: the backward reads the forward's activations
        net.record_backward(cmd, dout, dx);
    });
    auto got_out = out.download_as<float>();
    double e_out = nncheck::max_rel_err(got_out, ref_out);
    // float32 through ~60 layers against double: errors of a few 1e-3 relative to the largest entry are
    // rounding; a wrong index or a missed barrier gives O(1).
    EXPECT_LT(e_out, 5e-3) << "forward";
    auto got_grads = net.grad_buffer().download_as<float>();
    double worst = 0;
    for (const auto& p : net.params().all()) {
        std::span<const float> gg(got_grads.data() + p.offset, p.count);
        std::span<const double> rg(ref_grads.data() + p.offset, p.count);
        double e = nncheck::max_rel_err(gg, rg);
        worst = std::max(worst, e);
        EXPECT_LT(e, 2e-2) << "gradient of " << p.name;
    }
    double e_dx = nncheck::max_rel_err(dx.download_as<float>(), ref_dx);
    EXPECT_LT(e_dx, 2e-2) << "gradient of x";
    std::printf("GPU UNet vs reference: forward %.2e, worst parameter gradient %.2e, dx %.2e\n", e_out, worst, e_dx);
}
