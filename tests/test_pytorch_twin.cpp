// The PyTorch twin (python/diffuscope_ref.py) against `diffuscope forward`: the same random weights and
// inputs through both, output and every gradient compared by python/check_forward.py (float64 autograd;
// max|Δ|/max|ref| ≤ 1e-3 per tensor). Skipped, with a message, when /usr/bin/python3 cannot import torch
// and numpy (Debian: python3-torch, python3-numpy): check_forward.py then exits 77.
#include "tests/io_util.hpp"
#include "tests/model_cli.hpp"

using namespace diffuscope;

namespace {
// Random weights of `cfg` and random inputs through `diffuscope forward` and then python/check_forward.py.
// `corrupt`: one gradient tensor is scaled by 1.01 in between, and the check must fail naming it.
void check_twin(const nn::UNetConfig& cfg, uint64_t seed, bool corrupt = false) {
    const std::string python = "/usr/bin/python3";
    if (!std::filesystem::exists(python)) GTEST_SKIP() << python << " is not installed";
    iotest::TempDir dir;
    const auto w = dir / "w.safetensors";
    nn::save_weights(w, cfg, modeltest::random_params(cfg, seed));
    const auto f = modeltest::write_forward_inputs(dir.path, 3, seed + 1);  // λ beyond both clamp ends, null labels
    const std::string files = " --weights " + w.string() + " --x " + f.x.string() + " --level " + f.level.string() +
                              " --label " + f.label.string() + " --out " + (dir / "out.npy").string() + " --dout " +
                              f.dout.string() + " --grads " + (dir / "g.safetensors").string() + " --dx " +
                              (dir / "dx.npy").string();
    auto r = modeltest::run_diffuscope("forward" + files);
    ASSERT_EQ(r.rc, 0) << r.out;
    if (corrupt) {
        auto g = io::read_safetensors(dir / "g.safetensors");
        for (float& v : g.tensors.at("mid0.conv2.weight").data) v *= 1.01f;
        io::write_safetensors(dir / "g.safetensors", g);
    }
    r = modeltest::run(python + " " + DIFFUSCOPE_SOURCE_DIR + "/python/check_forward.py --tol 1e-3" + files);
    if (r.rc == 77) GTEST_SKIP() << r.out;  // torch or numpy missing (one import, not two: torch takes seconds)
    if (corrupt) {
        EXPECT_EQ(r.rc, 1) << r.out;
        EXPECT_NE(r.out.find("FAIL grad mid0.conv2.weight"), std::string::npos) << r.out;
        EXPECT_NE(r.out.find("FAILED (1 of 85 tensors)"), std::string::npos) << r.out;  // the rest agree
        return;
    }
    EXPECT_EQ(r.rc, 0) << r.out;
    std::printf("%s", r.out.c_str());
}
}  // namespace

// The default config (base 16, E 64, D 128, 8 groups): what `diffuscope train` makes.
TEST(PyTorchTwin, DefaultUNetMatchesDiffuscopeForward) { check_twin(nn::UNetConfig{}, 102); }

// The tiny config, v-prediction (the same network; only the metadata differs), with one gradient tensor 1 %
// off: that tensor, and only it, fails — so the check can fail, and the other 84 tensors of a non-default
// config (groups 4, E 16, D 32) agree.
TEST(PyTorchTwin, TinyUNetAgreesExceptAWrongGradient) {
    check_twin(modeltest::tiny_config(nn::Prediction::v), 103, /*corrupt=*/true);
}
