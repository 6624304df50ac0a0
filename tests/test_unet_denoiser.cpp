// The UNet as a sampler's Denoiser: what its recorder writes equals a direct UNet forward on the same inputs
// (bit for bit: the same kernels on the same data) and the double-precision reference UNet; the prediction
// follows the weights' config; a batch of 0 is refused.
#include "diffusion/model/unet_denoiser.hpp"
#include "tests/gpu.hpp"
#include "tests/model_cli.hpp"
#include "tests/reference/unet_ref.hpp"

using namespace diffuscope;

namespace {
class UNetDenoiserGpu : public test::GpuTest {};
}  // namespace

TEST_F(UNetDenoiserGpu, RecorderEqualsADirectForwardAndTheReference) {
    for (uint32_t n : {1u, 5u}) {
        const auto cfg = modeltest::tiny_config(nn::Prediction::v);
        nn::Weights w{cfg, modeltest::random_params(cfg, 40 + n)};
        const Denoiser d = nn::unet_denoiser(ctx, w, "tiny");
        EXPECT_EQ(d.prediction, Prediction::v);
        EXPECT_EQ(d.dim, 784u);

        auto x_in = nncheck::to_float(nncheck::randn(n * 784, n));
        auto level_in = nncheck::to_float(nncheck::randn(n, n + 1, 8.0));
        level_in[0] = 1e30f;  // far past the clamp, as the chain's clean level may be
        std::vector<int32_t> label_in;
        for (uint32_t i = 0; i < n; ++i) label_in.push_back(int32_t((7 + 4 * i) % 11));
        engine::Buffer x(ctx, n * 784 * 4), level(ctx, n * 4), label(ctx, n * 4), out(ctx, n * 784 * 4),
            direct(ctx, n * 784 * 4);
        x.upload(x_in);
        level.upload(level_in);
        label.upload(label_in);
        test::poison(out);
        test::poison(direct);

        auto record = d.bind(DenoiserIo{&x, &level, &label, &out, n});
        nn::UNet unet(ctx, cfg, n, /*training=*/false);
        unet.param_buffer().upload(w.flat);
        engine::one_shot(ctx, [&](engine::CommandBuffer& cmd) {
            record(cmd);
            cmd.barrier();  // the two forwards only read x, level, label; the barrier keeps them apart for clarity
            unet.record_forward(cmd, x, level, label, direct);
            cmd.barrier_to_host();
        });
        auto got = out.download_as<float>(), want = direct.download_as<float>();
        ASSERT_EQ(got.size(), want.size());
        for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], want[i]) << "n " << n << " index " << i;

        ref::UNetRef refnet(cfg);
        refnet.params = nncheck::to_double(w.flat);
        auto ref_out = refnet.forward(int(n), nncheck::to_double(x_in), nncheck::to_double(level_in), label_in);
        double e = nncheck::max_rel_err(got, ref_out);
        EXPECT_LT(e, 5e-3) << "batch " << n;  // float32 through ~60 layers against double (tests/test_unet.cpp)
        std::printf("UNet denoiser, batch %u: vs reference %.2e\n", n, e);
    }
}

TEST_F(UNetDenoiserGpu, RefusesAnEmptyBatchAndAShortParameterVector) {
    const auto cfg = modeltest::tiny_config();
    nn::Weights w{cfg, modeltest::random_params(cfg, 3)};
    EXPECT_EQ(nn::unet_denoiser(ctx, w).prediction, Prediction::eps);
    engine::Buffer b(ctx, 784 * 4);
    EXPECT_THROW(nn::unet_denoiser(ctx, w).bind(DenoiserIo{&b, &b, &b, &b, 0}), std::invalid_argument);
    w.flat.pop_back();
    EXPECT_THROW(nn::unet_denoiser(ctx, w), std::invalid_argument);
}
