// `diffuscope forward`: one pass of the UNet on arrays from files — the interchange path to other frameworks
// (python/check_forward.py compares it with the PyTorch twin, python/diffuscope_ref.py).
//   inputs   --x      float32 [N,1,28,28]   x_t, x₀ scaled to [−1, 1]
//            --level  float32 [N]           λ = log-SNR (docs/model.md; clamped to [−20, 20] by the model)
//            --label  int32   [N]           0–9, or 10 = null
//   output   --out    float32 [N,1,28,28]   ε̂ or v̂, as the weights' `prediction` says
// With --dout (float32 [N,1,28,28]) it also runs the backward of L = Σ out·dout and writes ∂L/∂θ for every
// parameter (--grads, a safetensors with the weights' names, shapes and config) and/or ∂L/∂x (--dx).
#include "diffusion/cli/cli.hpp"
#include "diffusion/io/npy.hpp"
#include "diffusion/model/unet_denoiser.hpp"
#include "diffusion/model/weights.hpp"

#include <cmath>
#include <cstdio>

namespace diffuscope::cli {

namespace {

struct ForwardArgs {
    std::string weights, x, level, label, out, dout, grads, dx;
};

void require_finite(const std::vector<float>& v, const std::string& file) {
    for (size_t i = 0; i < v.size(); ++i)
        if (!std::isfinite(v[i]))
            throw std::runtime_error("forward: " + file + " holds a non-finite value at flat index " + std::to_string(i));
}

// What the pass computed, before anything is written: a non-finite value fails naming the image and pixel.
// `images`: v is [N,1,28,28] and the message says which image; else (the gradients) a flat index.
void require_finite_output(const std::vector<float>& v, const std::string& what, bool images = true) {
    for (size_t i = 0; i < v.size(); ++i)
        if (!std::isfinite(v[i]))
            throw std::runtime_error("forward: " + what + " is " + std::to_string(v[i]) + " at flat index " +
                                     std::to_string(i) +
                                     (images ? " (image " + std::to_string(i / 784) + ", pixel " + std::to_string(i % 784) + ")"
                                             : std::string()) +
                                     "; nothing written");
}

int run_forward(const GlobalOptions& g, const ForwardArgs& a) {
    const bool backward = !a.dout.empty();
    if (backward && a.grads.empty() && a.dx.empty())
        throw std::invalid_argument("forward: --dout needs --grads FILE.safetensors and/or --dx FILE.npy to write");
    if (!backward && (!a.grads.empty() || !a.dx.empty()))
        throw std::invalid_argument("forward: --grads and --dx are gradients of Σ out·dout; pass --dout FILE.npy too");

    // Everything is read and checked before the GPU starts.
    const nn::Weights w = nn::load_weights(a.weights);
    auto x = io::read_npy_f32(a.x, std::vector<int64_t>{-1, 1, 28, 28});
    const int64_t N = x.shape[0];
    if (N == 0) throw std::invalid_argument("forward: " + a.x + " holds no images (N = 0)");
    auto level = io::read_npy_f32(a.level, std::vector<int64_t>{N});
    auto label = io::read_npy_i32(a.label, std::vector<int64_t>{N});
    require_finite(x.data, a.x);
    require_finite(level.data, a.level);
    for (int64_t i = 0; i < N; ++i)
        if (label.data[i] < 0 || label.data[i] > int32_t(nn::UNetConfig::null_label))
            throw std::invalid_argument("forward: " + a.label + "[" + std::to_string(i) + "] = " +
                                        std::to_string(label.data[i]) + "; labels are 0–9, or 10 for none");
    io::NpyTyped<float> dout;
    if (backward) {
        dout = io::read_npy_f32(a.dout, x.shape);
        require_finite(dout.data, a.dout);
    }

    auto ctx = make_context(g);
    nn::probe_forward(*ctx, w, a.weights);  // weights whose forward overflows are refused, naming the file
    const uint64_t n_pixels = uint64_t(N) * 784;
    nn::UNet unet(*ctx, w.config, uint32_t(N), /*training=*/backward);
    unet.param_buffer().upload(w.flat);
    engine::Buffer xb(*ctx, n_pixels * 4), levelb(*ctx, uint64_t(N) * 4), labelb(*ctx, uint64_t(N) * 4),
        outb(*ctx, n_pixels * 4), doutb(*ctx, backward ? n_pixels * 4 : 4), dxb(*ctx, backward ? n_pixels * 4 : 4);
    xb.upload(x.data);
    levelb.upload(level.data);
    labelb.upload(label.data);
    if (backward) doutb.upload(dout.data);
    engine::one_shot(*ctx, [&](engine::CommandBuffer& cmd) {
        unet.record_forward(cmd, xb, levelb, labelb, outb);
        if (backward) {
            cmd.barrier();  // RAW: the backward reads the activations the forward saved
            unet.record_backward(cmd, doutb, dxb);
        }
        cmd.barrier_to_host();  // RAW: the host reads out, dx and the gradients
    });

    // Everything is downloaded and checked before the first file is written: all of them or none.
    const std::vector<int64_t> image_shape = {N, 1, 28, 28};
    const auto out = outb.download_as<float>(n_pixels);
    require_finite_output(out, "the output (--out)");
    std::vector<float> dx, grads;
    if (!a.dx.empty()) require_finite_output(dx = dxb.download_as<float>(n_pixels), "∂L/∂x (--dx)");
    if (!a.grads.empty())
        require_finite_output(grads = unet.grad_buffer().download_as<float>(unet.params().total()), "∂L/∂θ (--grads)", false);
    io::write_npy_f32(a.out, image_shape, out);
    if (!a.dx.empty()) io::write_npy_f32(a.dx, image_shape, dx);
    if (!a.grads.empty())
        nn::save_weights(a.grads, w.config, grads, {{"content", "gradient of sum(out * dout) for each parameter"}});
    if (!g.quiet) {
        std::fprintf(stderr, "forward: %lld images, %s-prediction; wrote %s", static_cast<long long>(N),
                     w.config.prediction == nn::Prediction::v ? "v" : "eps", a.out.c_str());
        if (!a.grads.empty()) std::fprintf(stderr, ", %s", a.grads.c_str());
        if (!a.dx.empty()) std::fprintf(stderr, ", %s", a.dx.c_str());
        std::fprintf(stderr, "\n");
    }
    return 0;
}

}  // namespace

void register_forward(CLI::App& app, GlobalOptions& g, Command& run) {
    auto a = std::make_shared<ForwardArgs>();
    auto* cmd = app.add_subcommand("forward", "One UNet forward (and optionally backward) pass on .npy arrays");
    cmd->add_option("--weights", a->weights, "UNet weights (.safetensors; a checkpoint's EMA weights are used)")
        ->required();
    cmd->add_option("--x", a->x, "x_t: float32 [N,1,28,28], images scaled to [-1, 1]")->required();
    cmd->add_option("--level", a->level, "Noise level λ = log-SNR log(ᾱ/(1−ᾱ)): float32 [N]")->required();
    cmd->add_option("--label", a->label, "Labels: int32 [N], 0–9 or 10 = none")->required();
    cmd->add_option("--out", a->out, "Network output ε̂ or v̂: float32 [N,1,28,28]")->required();
    cmd->add_option("--dout", a->dout, "Also the backward of sum(out·dout): dout float32 [N,1,28,28]");
    cmd->add_option("--grads", a->grads, "Gradient of every parameter (.safetensors, the weights' names)");
    cmd->add_option("--dx", a->dx, "Gradient with respect to x: float32 [N,1,28,28]");
    cmd->callback([&g, &run, a] { run = [&g, a] { return run_forward(g, *a); }; });
}

}  // namespace diffuscope::cli
