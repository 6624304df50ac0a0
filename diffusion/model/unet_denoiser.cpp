#include "diffusion/model/unet_denoiser.hpp"

#include <cmath>
#include <memory>
#include <stdexcept>

namespace diffuscope::nn {

void probe_forward(engine::Context& ctx, const Weights& weights, const std::string& name) {
    constexpr uint32_t n = 2, dim = UNetConfig::image * UNetConfig::image;
    UNet unet(ctx, weights.config, n, /*training=*/false);
    unet.param_buffer().upload(weights.flat);
    std::vector<float> x(n * dim);
    for (size_t i = 0; i < x.size(); ++i) x[i] = 0.9f * std::sin(0.37f * float(i));
    const std::vector<float> level = {0.0f, 4.0f};
    const std::vector<int32_t> label = {0, int32_t(UNetConfig::null_label)};
    engine::Buffer xb(ctx, n * dim * 4), levelb(ctx, n * 4), labelb(ctx, n * 4), outb(ctx, n * dim * 4);
    xb.upload(x);
    levelb.upload(level);
    labelb.upload(label);
    engine::one_shot(ctx, [&](engine::CommandBuffer& cmd) {
        unet.record_forward(cmd, xb, levelb, labelb, outb);
        cmd.barrier_to_host();  // RAW: the host reads the output
    });
    const auto out = outb.download_as<float>(n * dim);
    for (size_t i = 0; i < out.size(); ++i)
        if (!std::isfinite(out[i]))
            throw std::runtime_error(name + ": a forward pass on a fixed test input gives " + std::to_string(out[i]) +
                                     " (image " + std::to_string(i / dim) + ", pixel " + std::to_string(i % dim) +
                                     "): the weights overflow — finite but far too large? — and would only give "
                                     "NaN; refusing them");
}

Denoiser unet_denoiser(engine::Context& ctx, const Weights& weights, std::string name) {
    const auto table = unet_params(weights.config);
    if (weights.flat.size() != table.total())
        throw std::invalid_argument("unet_denoiser: " + std::to_string(weights.flat.size()) + " parameters, the config needs " +
                                    std::to_string(table.total()));
    probe_forward(ctx, weights, name);
    auto w = std::make_shared<const Weights>(weights);  // shared by every bind
    Denoiser d;
    d.name = std::move(name);
    d.prediction = denoiser_prediction(weights.config.prediction);
    d.dim = UNetConfig::image * UNetConfig::image;
    d.max_batch = 0;  // any: each bind builds a UNet for its batch
    d.bind = [&ctx, w](const DenoiserIo& io) -> Denoiser::Recorder {
        if (io.batch == 0) throw std::invalid_argument("unet_denoiser: batch is 0");
        if (!io.x || !io.level || !io.label || !io.out) throw std::invalid_argument("unet_denoiser: a buffer is missing");
        auto unet = std::make_shared<UNet>(ctx, w->config, io.batch, /*training=*/false);
        unet->param_buffer().upload(w->flat);
        const View x(*io.x), level(*io.level), label(*io.label), out(*io.out);
        // The recorder owns the UNet: its parameters and activations live while the chain can replay it.
        return [unet, x, level, label, out](engine::CommandBuffer& cmd) { unet->record_forward(cmd, x, level, label, out); };
    };
    return d;
}

}  // namespace diffuscope::nn
