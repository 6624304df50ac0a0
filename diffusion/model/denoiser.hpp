// diffusion/model/denoiser.hpp — what any "model" is to a sampler: something that records, into a command
// buffer, a batched prediction from x_t, the per-sample noise level and the per-sample label. The oracles
// (diffusion/oracle/) implement it; the UNet will. A plain struct with a recorder function: no hierarchy.
//
// Contract:
//   inputs   x      [batch, dim] float32   x_t (images flattened: dim = 1·28·28; 2-D toys: dim = 2)
//            level  [batch] float32         λ = log(ᾱ/(1−ᾱ)), the log-SNR of each sample's x_t (docs/model.md);
//                                           ᾱ = σ(λ) and 1 − ᾱ = σ(−λ) if a model needs them
//            label  [batch] int32           0–9, or null_label (10) = unconditional
//   output   out    [batch, dim] float32   ε̂, x̂₀ or v = √ᾱ ε − √(1−ᾱ) x₀, as `prediction` declares
// Two phases: `bind(io)` allocates what the model needs for these buffers and this batch (descriptor sets,
// scratch activations) and returns a recorder; the recorder records the forward and may be called any number of
// times (every replayed sampler step) while the buffers live. The caller puts a barrier before the recorder (its
// writes of the inputs) and after it (its reads of `out`); the recorder puts barriers between its own passes.
// A model must return finite values for any finite input, including the clean level (ᾱ = 1,
// λ = log_snr_clean) that a Heun step may feed it on its last step.
#pragma once
#include "engine/commands.hpp"

#include <cstdint>
#include <functional>
#include <string>

namespace diffuscope {

enum class Prediction : uint32_t { eps = 0, x0 = 1, v = 2 };
inline const char* prediction_name(Prediction p) { return p == Prediction::eps ? "eps" : p == Prediction::x0 ? "x0" : "v"; }

inline constexpr int32_t null_label = 10;

struct DenoiserIo {
    const engine::Buffer* x = nullptr;
    const engine::Buffer* level = nullptr;
    const engine::Buffer* label = nullptr;
    engine::Buffer* out = nullptr;
    uint32_t batch = 0;
};

struct Denoiser {
    std::string name;
    Prediction prediction = Prediction::eps;
    uint32_t dim = 0;        // elements per sample
    uint32_t max_batch = 0;  // largest batch the recorder accepts (0 = any)
    using Recorder = std::function<void(engine::CommandBuffer&)>;
    std::function<Recorder(const DenoiserIo&)> bind;
};

}  // namespace diffuscope
