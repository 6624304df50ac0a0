// `diffuscope sample --weights` and `diffuscope forward` as a user runs them, on a tiny randomly initialised
// UNet saved to a temp safetensors: validated runs exit 0 with zero validation messages; outputs have the
// promised shapes and are finite; the same seed gives the same bytes; forward's output and gradients match the
// double-precision reference UNet; bad files and arguments are refused with a reason.
#include "tests/io_util.hpp"
#include "tests/model_cli.hpp"
#include "tests/reference/unet_ref.hpp"

#include <cmath>

using namespace diffuscope;
using modeltest::run_diffuscope;

TEST(ModelCli, SampleWithWeightsRunsGuidedAndReplaysFromTheSeed) {
    iotest::TempDir dir;
    const auto cfg = modeltest::tiny_config();
    nn::save_weights(dir / "w.safetensors", cfg, modeltest::random_params(cfg, 5));
    // Guidance 2 with labels: the chain doubles the model's batch (label, null) — 6 images per evaluation.
    const std::string common = "sample --weights " + (dir / "w.safetensors").string() +
                               " --label all --count 3 --sampler ddim --steps 4 --guidance 2 ";
    auto r = run_diffuscope("--validate " + common + "--seed 11 --out " + (dir / "a.npy").string() + " --png " + (dir / "a.png").string());
    ASSERT_EQ(r.rc, 0) << r.out;
    EXPECT_NE(r.out.find("validation: 0 errors, 0 warnings"), std::string::npos) << r.out;
    auto a = io::read_npy_f32(dir / "a.npy", std::vector<int64_t>{3, 1, 28, 28});
    double spread = 0;
    for (float v : a.data) {
        ASSERT_TRUE(std::isfinite(v) && v >= 0 && v <= 1) << v;
        spread = std::max(spread, double(std::abs(v - a.data[0])));
    }
    EXPECT_GT(spread, 0.01) << "a random UNet's samples should not be one flat grey";
    r = run_diffuscope(common + "--seed 11 --out " + (dir / "b.npy").string());
    ASSERT_EQ(r.rc, 0) << r.out;
    EXPECT_EQ(modeltest::slurp(dir / "a.npy"), modeltest::slurp(dir / "b.npy"));
    r = run_diffuscope(common + "--seed 12 --out " + (dir / "c.npy").string());
    ASSERT_EQ(r.rc, 0) << r.out;
    EXPECT_NE(modeltest::slurp(dir / "a.npy"), modeltest::slurp(dir / "c.npy"));
}

TEST(ModelCli, SampleNeedsExactlyOneModel) {
    iotest::TempDir dir;
    const auto cfg = modeltest::tiny_config();
    nn::save_weights(dir / "w.safetensors", cfg, modeltest::random_params(cfg, 5));
    const std::string out = " --out " + (dir / "x.npy").string();
    auto r = run_diffuscope("sample" + out);
    EXPECT_NE(r.rc, 0);
    EXPECT_NE(r.out.find("--weights"), std::string::npos) << r.out;
    r = run_diffuscope("sample --oracle --weights " + (dir / "w.safetensors").string() + out);
    EXPECT_NE(r.rc, 0);
    EXPECT_NE(r.out.find("not both"), std::string::npos) << r.out;
    io::write_npy_f32(dir / "bad.safetensors", std::vector<int64_t>{1}, std::vector<float>{0});
    r = run_diffuscope("sample --weights " + (dir / "bad.safetensors").string() + out);
    EXPECT_NE(r.rc, 0);
    EXPECT_NE(r.out.find("bad.safetensors"), std::string::npos) << r.out;
}

TEST(ModelCli, ForwardAndGradientsMatchTheReference) {
    iotest::TempDir dir;
    const auto cfg = modeltest::tiny_config();
    const auto params = modeltest::random_params(cfg, 17);
    nn::save_weights(dir / "w.safetensors", cfg, params);
    const int n = 3;
    const auto f = modeltest::write_forward_inputs(dir.path, n, 23);
    auto r = run_diffuscope("--validate forward --weights " + (dir / "w.safetensors").string() + " --x " + f.x.string() +
                        " --level " + f.level.string() + " --label " + f.label.string() + " --out " +
                        (dir / "out.npy").string() + " --dout " + f.dout.string() + " --grads " +
                        (dir / "g.safetensors").string() + " --dx " + (dir / "dx.npy").string());
    ASSERT_EQ(r.rc, 0) << r.out;
    EXPECT_NE(r.out.find("validation: 0 errors, 0 warnings"), std::string::npos) << r.out;

    ref::UNetRef net(cfg);
    net.params = nncheck::to_double(params);
    auto x = io::read_npy_f32(f.x), level = io::read_npy_f32(f.level), dout = io::read_npy_f32(f.dout);
    auto label = io::read_npy_i32(f.label);
    auto ref_out = net.forward(n, nncheck::to_double(x.data), nncheck::to_double(level.data), label.data);
    std::vector<double> ref_grads, ref_dx;
    net.backward(nncheck::to_double(dout.data), ref_grads, ref_dx);

    // max|Δ|/max|ref| per tensor, the measure python/check_forward.py uses (the element-wise accuracy of the
    // GPU UNet is tests/test_unet.cpp's business; this checks the files: names, shapes, order, dx, config).
    const std::vector<int64_t> img = {n, 1, 28, 28};
    EXPECT_LT(modeltest::scaled_err(io::read_npy_f32(dir / "out.npy", img).data, ref_out), 1e-3);
    EXPECT_LT(modeltest::scaled_err(io::read_npy_f32(dir / "dx.npy", img).data, ref_dx), 1e-3);
    auto g = io::read_safetensors(dir / "g.safetensors");
    EXPECT_EQ(nn::UNetConfig::from_metadata(g.metadata, "g").base, cfg.base);
    const auto grads = nn::take_weights(g, net.table);  // every name, every shape
    for (const auto& p : net.table.all())
        EXPECT_LT(modeltest::scaled_err(std::span(grads).subspan(p.offset, p.count),
                                        std::span<const double>(ref_grads).subspan(p.offset, p.count)),
                  1e-3)
            << p.name;
}

TEST(ModelCli, ForwardRefusesBadInputsWithAReason) {
    iotest::TempDir dir;
    const auto cfg = modeltest::tiny_config();
    nn::save_weights(dir / "w.safetensors", cfg, modeltest::random_params(cfg, 5));
    const auto f = modeltest::write_forward_inputs(dir.path, 2, 1);
    io::write_npy_f32(dir / "flat.npy", std::vector<int64_t>{2, 784}, std::vector<float>(2 * 784));
    io::write_npy_f32(dir / "level3.npy", std::vector<int64_t>{3}, std::vector<float>(3));
    io::write_npy_f32(dir / "flabel.npy", std::vector<int64_t>{2}, std::vector<float>(2));
    io::write_npy_i32(dir / "label11.npy", std::vector<int64_t>{2}, std::vector<int32_t>{3, 11});
    const std::string w = "forward --weights " + (dir / "w.safetensors").string() + " --out " + (dir / "o.npy").string();
    const std::string good = " --x " + f.x.string() + " --level " + f.level.string() + " --label " + f.label.string();
    struct Case {
        std::string args, must_say;
    };
    for (const auto& c :
         {Case{" --x " + (dir / "flat.npy").string() + " --level " + f.level.string() + " --label " + f.label.string(),
               "flat.npy"},
          Case{" --x " + f.x.string() + " --level " + (dir / "level3.npy").string() + " --label " + f.label.string(),
               "level3.npy"},
          Case{" --x " + f.x.string() + " --level " + f.level.string() + " --label " + (dir / "flabel.npy").string(),
               "int32"},
          Case{" --x " + f.x.string() + " --level " + f.level.string() + " --label " + (dir / "label11.npy").string(),
               "= 11"},
          Case{good + " --grads " + (dir / "g.safetensors").string(), "--dout"},
          Case{good + " --dout " + f.dout.string(), "--grads"}}) {
        auto r = run_diffuscope(w + c.args);
        EXPECT_NE(r.rc, 0) << c.args;
        EXPECT_NE(r.out.find(c.must_say), std::string::npos) << c.args << "\n" << r.out;
    }
}
