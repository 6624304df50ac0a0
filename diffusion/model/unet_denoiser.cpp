#include "diffusion/model/unet_denoiser.hpp"

#include <memory>
#include <stdexcept>

namespace diffuscope::nn {

Denoiser unet_denoiser(engine::Context& ctx, const Weights& weights, std::string name) {
    const auto table = unet_params(weights.config);
    if (weights.flat.size() != table.total())
        throw std::invalid_argument("unet_denoiser: " + std::to_string(weights.flat.size()) + " parameters, the config needs " +
                                    std::to_string(table.total()));
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
