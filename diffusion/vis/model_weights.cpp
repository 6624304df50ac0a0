// The "weights file" model source: a trained UNet (diffusion/model/unet_denoiser.*) from a safetensors file
// written by `diffuscope train` (the EMA weights of a checkpoint, or an --export file).
#include "diffusion/vis/model_source.hpp"
#include "diffusion/model/unet_denoiser.hpp"

#include <stdexcept>

namespace diffuscope::vis {

namespace {
struct WeightsModel : LoadedModel {
    engine::Context* ctx;
    nn::Weights weights;
    std::string name;
    WeightsModel(engine::Context& c, nn::Weights w, std::string n) : ctx(&c), weights(std::move(w)), name(std::move(n)) {}
    Denoiser denoiser() override { return nn::unet_denoiser(*ctx, weights, name); }
};
}  // namespace

std::unique_ptr<LoadedModel> make_weights_model(engine::Context& ctx, nn::Weights weights, const std::string& name) {
    auto m = std::make_unique<WeightsModel>(ctx, std::move(weights), name);
    m->description = "UNet base " + std::to_string(m->weights.config.base) + " (" + name + ")";
    return m;
}

std::unique_ptr<LoadedModel> load_weights_model(engine::Context& ctx, const std::filesystem::path& path, uint32_t) {
    auto w = nn::load_weights(path);  // a clear error naming the file and the tensor on any problem
    auto m = std::make_unique<WeightsModel>(ctx, std::move(w), path.filename().string());
    m->description = "UNet base " + std::to_string(m->weights.config.base) + " (" + path.filename().string() + ")";
    return m;
}

}  // namespace diffuscope::vis
