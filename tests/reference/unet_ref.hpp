// tests/reference/unet_ref.hpp — the UNet of docs/model.md in double precision, built from the layer
// references in nn_ref.hpp over the same parameter table as the GPU model: the thing the GPU UNet's forward
// and gradients are judged against, and whose own gradient is judged by finite differences.
// Mirrors the UNet's shaders as a whole (diffusion/model/unet.cpp): shaders/nn/noise_level.comp (the level clamp in
// forward()) and, through nn_ref.hpp, every layer shader listed there; tests: tests/test_unet.cpp,
// tests/test_unet_denoiser.cpp.
#pragma once
#include "diffusion/model/unet.hpp"
#include "tests/reference/nn_ref.hpp"

#include <map>
#include <string>
#include <vector>

namespace ref {

struct UNetRef {
    diffuscope::nn::UNetConfig cfg;
    diffuscope::nn::ParamTable table;
    std::vector<double> params;  // flat, the GPU layout
    explicit UNetRef(const diffuscope::nn::UNetConfig& c) : cfg(c), table(diffuscope::nn::unet_params(c)) {}

    // out [N,1,28,28]; keeps what the backward needs.
    std::vector<double> forward(int n, const std::vector<double>& x, const std::vector<double>& level,
                                const std::vector<int32_t>& label);
    // Gradients of Σ out·dout after forward(): flat (GPU layout) and with respect to x.
    void backward(const std::vector<double>& dout, std::vector<double>& grads, std::vector<double>& dx);

    std::map<std::string, std::vector<double>> cache;  // saved activations by name
    int n = 0;
    std::vector<int32_t> label;
};

}  // namespace ref
