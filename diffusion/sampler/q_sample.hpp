// diffusion/sampler/q_sample.hpp — the forward process q(x_t | x₀) on the GPU (shaders/diffusion/q_sample.comp):
// x_t = √ᾱ_t x₀ + √(1−ᾱ_t) ε with ε from the counter-based RNG, per-sample t. The first picture of every
// diffusion tutorial, and the trainer's input.
#pragma once
#include "diffusion/model/denoiser.hpp"
#include "engine/pipeline.hpp"

namespace diffuscope {

struct QSampleIo {
    const engine::Buffer* levels = nullptr;     // the schedule's level buffer
    const engine::Buffer* timesteps = nullptr;  // [n] uint32, each in [0, T] (T = the clean sentinel: x_t = x₀)
    const engine::Buffer* x0 = nullptr;         // [n, dim] float
    engine::Buffer* xt = nullptr;               // [n, dim] float
    engine::Buffer* eps = nullptr;              // [n, dim] float: the ε that was drawn
    engine::Buffer* level = nullptr;            // [n] float: λ, the model's conditioning
    uint32_t n = 0, dim = 0;
    uint64_t seed = 0;
    uint32_t first_index = 0;  // RNG stream of sample 0
    uint32_t draw = 0;         // RNG step: a new ε per draw (e.g. per training iteration)
};

class QSample {
public:
    explicit QSample(engine::Context&);
    // Records one dispatch; the caller puts barriers around it.
    void record(engine::CommandBuffer&, const QSampleIo&);

private:
    engine::ComputePipeline pipeline_;
};

}  // namespace diffuscope
