// diffusion/model/weights.hpp — UNet weights to and from safetensors, by the names of docs/model.md.
#pragma once
#include "diffusion/io/safetensors.hpp"
#include "diffusion/model/unet.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace diffuscope::nn {

struct Weights {
    UNetConfig config;
    std::vector<float> flat;  // the GPU layout of unet_params(config)
};

// Flat parameters under their names (prefix + name), plus the config in the metadata.
void put_weights(io::SafeTensors&, const ParamTable&, const std::vector<float>& flat, const std::string& prefix = "");
// Reads every tensor of the table from `prefix + name`; a missing tensor or a wrong shape is an error naming
// the tensor, the shape found and the shape expected.
std::vector<float> take_weights(const io::SafeTensors&, const ParamTable&, const std::string& prefix = "");

// A weights file for inference: the EMA weights ("ema/…") when the file is a training checkpoint, else the
// plain names. The error says what the file is missing.
Weights load_weights(const std::filesystem::path&);
void save_weights(const std::filesystem::path&, const UNetConfig&, const std::vector<float>& flat,
                  std::map<std::string, std::string> extra_metadata = {});

}  // namespace diffuscope::nn
