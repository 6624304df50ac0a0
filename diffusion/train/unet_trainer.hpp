// diffusion/train/unet_trainer.hpp — training the UNet on the GPU: batches drawn and noised on the device from a data
// set uploaded once (shaders/train/batch.comp), forward, MSE, backward, gradient norm, AdamW, EMA — one
// command buffer recorded once and replayed every step; the host writes the step number and reads back the
// loss and the optimiser's verdict (a non-finite gradient skips the step on the GPU).
#pragma once
#include "diffusion/data/mnist.hpp"
#include "diffusion/model/optim.hpp"
#include "diffusion/model/unet.hpp"
#include "engine/timestamps.hpp"

#include <filesystem>
#include <map>
#include <memory>
#include <string>

namespace diffuscope::train {

struct TrainConfig {
    nn::UNetConfig model;
    uint32_t batch = 64;
    float lr = 2e-3f;
    uint32_t warmup = 200;        // linear LR warm-up, in steps
    float weight_decay = 0.0f;
    float max_grad_norm = 1.0f;
    float ema_decay = 0.999f;
    float p_uncond = 0.1f;        // fraction of null labels (classifier-free guidance)
    float level_min = -15.0f, level_max = 15.0f;  // log-SNR range drawn in training
    uint64_t seed = 1;
    std::map<std::string, std::string> to_metadata() const;
    void from_metadata(const std::map<std::string, std::string>&, const std::string& file);
};

struct StepResult {
    float loss = 0, grad_norm = 0;
    bool skipped = false;  // the gradient was not finite: weights, moments and EMA were left as they were
};

class Trainer {
public:
    Trainer(engine::Context&, const TrainConfig&, const data::Mnist& train);
    ~Trainer();

    // Fresh weights from the config's seed.
    void init();
    // Everything from a checkpoint written by save(): weights, EMA, Adam moments, step, config. Throws a
    // clear error when the file is not a checkpoint or its model differs from this trainer's.
    void load(const std::filesystem::path&);
    // Atomically (temp file, fsync, rename): weights, "ema/…", "adam_m/…", "adam_v/…", step, config.
    void save(const std::filesystem::path&) const;
    // Only the EMA weights under the plain names: what `sample` and the visualiser load.
    void export_ema(const std::filesystem::path&) const;

    StepResult step();
    // The same step for a caller that replays it in slices across frames (the visualiser's training panel):
    // begin_step() writes the step's host values (no slice of the previous step may still be running),
    // step_ops() is the step's work, captured once, and finish_step() reads the result after the last slice's
    // submission has finished.
    void begin_step();
    const engine::CommandList& step_ops() const { return ops_; }
    StepResult finish_step();
    uint64_t steps_done() const { return step_; }
    const TrainConfig& config() const { return cfg_; }
    nn::UNet& unet() { return *unet_; }
    double last_step_gpu_ms() const { return gpu_ms_; }
    std::vector<float> ema_weights() const;

private:
    float lr_at(uint64_t step) const;
    void record();
    void record_body(engine::CommandBuffer&);

    engine::Context* ctx_;
    TrainConfig cfg_;
    uint32_t data_count_;
    std::unique_ptr<nn::UNet> unet_;
    nn::Optimizer opt_;
    nn::MseLoss mse_;
    nn::Kernel batch_;
    engine::Buffer pixels_, labels_, step_buf_, xt_, level_, label_, target_, out_, dout_, loss_, loss_scratch_,
        m_, v_, ema_, norm_scratch_, state_;
    engine::CommandBuffer cmd_;
    engine::CommandList ops_;
    std::unique_ptr<engine::Timestamps> ts_;
    uint64_t step_ = 0;
    double gpu_ms_ = 0;
};

}  // namespace diffuscope::train
