// diffusion/train/mlp2d_trainer.hpp — training the 2-D toys' small denoiser (nn::Mlp2d) on the GPU, for the
// field view's learned field: the same loss, optimiser and EMA as the UNet's trainer, at 2-D scale.
#pragma once
#include "diffusion/model/kernel.hpp"
#include "diffusion/model/layers.hpp"
#include "diffusion/model/mlp2d.hpp"
#include "diffusion/model/optim.hpp"
#include "engine/command_list.hpp"

#include <cstdint>
#include <vector>

namespace diffuscope::train {

struct Mlp2dTrainConfig {
    nn::Mlp2dConfig model;
    uint32_t batch = 256;
    float lr = 5e-3f;  // field error after 600 steps (gmm8): 0.19 at 2e-3, 0.07 at 5e-3, 0.06 at 1e-2
    float ema_decay = 0.99f;  // short: the field view shows the EMA while it learns
    float max_grad_norm = 1.0f;
    uint64_t seed = 1;
};

// Trains the net on points of a 2-D data set uploaded once: each step draws a batch on the GPU
// (shaders/train/batch2d.comp: a point, λ ~ U(lo, hi), ε, target v), runs forward, MSE, backward, gradient
// norm, AdamW (clipped at norm 1) and EMA — one command buffer recorded once and replayed. A non-finite
// gradient skips the step on the GPU and leaves the weights as they were.
class Mlp2dTrainer {
public:
    // `points` [M,2] (x, y interleaved); throws on an empty set or an odd count of floats.
    Mlp2dTrainer(engine::Context&, const Mlp2dTrainConfig&, const std::vector<float>& points);
    struct Result {
        float loss = 0;
        bool skipped = false;
    };
    Result step();  // submits and waits
    // The same step replayed in slices across frames (the visualiser, as train::Trainer's): begin_step() writes
    // the step's host values (no slice of the previous step may still be running), step_ops() is the step's work,
    // captured once, and finish_step() reads the result once the last slice's submission has finished.
    void begin_step();
    const engine::CommandList& step_ops() const { return ops_; }
    Result finish_step();
    uint64_t steps_done() const { return step_; }
    const engine::Buffer& weights() const { return params_; }
    const engine::Buffer& ema() const { return ema_; }
    const Mlp2dTrainConfig& config() const { return cfg_; }
    nn::Mlp2d& net() { return net_; }

private:
    void record();
    void record_body(engine::CommandBuffer&);
    engine::Context* ctx_;
    Mlp2dTrainConfig cfg_;
    uint32_t count_;
    nn::Mlp2d net_;
    nn::MseLoss mse_;
    nn::Optimizer opt_;
    nn::Kernel batch_;
    engine::Buffer points_, step_buf_, xt_, level_, target_, out_, dout_, loss_, loss_scratch_, params_, m_, v_, ema_,
        norm_scratch_, state_;
    engine::CommandBuffer cmd_;
    engine::CommandList ops_;
    uint64_t step_ = 0;
};

}  // namespace diffuscope::train
