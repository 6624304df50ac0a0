// diffusion/vis/model_source.hpp — where the visualiser's model comes from: the empirical MNIST oracle (when the data
// are there) or a weights file (a trained UNet: --weights, else the bundled assets/unet.safetensors). One function
// per source, each returning a LoadedModel that owns whatever the Denoiser needs (GPU data, weights) for as long as
// the visualiser uses it; the model panel switches between them.
#pragma once
#include "diffusion/data/mnist.hpp"
#include "diffusion/model/denoiser.hpp"
#include "diffusion/model/weights.hpp"
#include "engine/context.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace diffuscope::vis {

struct LoadedModel {
    virtual ~LoadedModel() = default;
    virtual Denoiser denoiser() = 0;
    std::string description;  // shown in the panel, e.g. "empirical oracle (9900 MNIST training images)"
};

// The empirical optimal denoiser of `train` (kept by reference: it must outlive the model).
std::unique_ptr<LoadedModel> load_oracle_model(engine::Context&, const data::Mnist& train, uint32_t max_batch);

// The MNIST training split for the oracle and the forward view, or nullopt with `why` filled (missing folder,
// bad files): the visualiser then opens on the 2-D field view with that message instead of crashing.
std::optional<data::Mnist> load_training_digits(const std::filesystem::path& dir, std::string& why);

// A UNet from weights in memory (the training panel's snapshot of its EMA weights).
std::unique_ptr<LoadedModel> make_weights_model(engine::Context&, nn::Weights weights, const std::string& name);

// A trained UNet from a weights file (throws naming the file and the tensor on any problem).
std::unique_ptr<LoadedModel> load_weights_model(engine::Context&, const std::filesystem::path& weights, uint32_t max_batch);

}  // namespace diffuscope::vis
