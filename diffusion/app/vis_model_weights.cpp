// The "weights file" model source — a placeholder the UNet denoiser replaces: delete this file and define
// weights_model_available / load_weights_model (vis_model.hpp) next to diffusion/model/unet_denoiser.*.
#include "diffusion/app/vis_model.hpp"

#include <stdexcept>

namespace diffuscope::app {

bool weights_model_available(std::string* why) {
    if (why) *why = "no UNet denoiser in this build yet: the oracle is the only model (train one with `diffuscope train`)";
    return false;
}

std::unique_ptr<LoadedModel> load_weights_model(engine::Context&, const std::filesystem::path& weights, uint32_t) {
    throw std::runtime_error("cannot load " + weights.string() + ": this build has no UNet denoiser yet; use the oracle");
}

}  // namespace diffuscope::app
