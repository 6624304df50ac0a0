// diffusion/model/unet_denoiser.hpp — the trained UNet as a sampler's Denoiser (diffusion/model/denoiser.hpp).
//
// The chain feeds exactly what the UNet was trained on (shaders/train/batch.comp): x_t = α x₀ + σ ε with
// x₀ ∈ [−1, 1], the per-sample log-SNR λ (the UNet clamps it to [−20, 20] before its embedding, so the
// chain's clean level is safe) and the label, 10 = null for classifier-free guidance. It predicts ε̂ or
// v̂ = α ε − σ x₀, as the weights' config says.
//
// The UNet is built for one exact batch: bind() makes a UNet (inference only, no gradients) for io.batch,
// uploads the parameters once, and returns a recorder that owns it and records its forward on io's buffers.
#pragma once
#include "diffusion/model/denoiser.hpp"
#include "diffusion/model/weights.hpp"

namespace diffuscope::nn {

inline diffuscope::Prediction denoiser_prediction(Prediction p) {
    return p == Prediction::v ? diffuscope::Prediction::v : diffuscope::Prediction::eps;
}

// `name` shows in timings and errors (e.g. the weights file). The context must outlive the denoiser and
// every recorder it binds. The weights are probed first (probe_forward): weights whose forward overflows are
// refused here, once, for every command and view that samples with them.
Denoiser unet_denoiser(engine::Context&, const Weights&, std::string name = "unet");

// One forward of a batch of two fixed inputs (a smooth pattern in [−0.9, 0.9], λ = 0 and 4, labels 0 and
// null); a non-finite output means the weights overflow (finite but far too large, e.g. 3e38) and would give
// all-NaN samples, so it throws naming `name` (the file), the value and where it appeared.
void probe_forward(engine::Context&, const Weights&, const std::string& name);

}  // namespace diffuscope::nn
