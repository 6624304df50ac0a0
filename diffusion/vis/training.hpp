// diffusion/vis/training.hpp — the training panel's engine: a train::Trainer on the MNIST training split whose
// steps are replayed a slice per frame (vis/step_slicer.hpp), so the window keeps its frame rate while the model trains;
// the loss of every finished step for the live curve; the current EMA weights as a model to sample from.
//
// A step's life: begin (the host writes the step's learning rate and number) → slices over as many frames as the
// budget needs → the frame holding the last slice finishes (its fence) → the loss is read and the next step may
// begin. Nothing of a step is in flight when the host writes the next one's values.
#pragma once
#include "diffusion/vis/step_slicer.hpp"
#include "diffusion/model/weights.hpp"
#include "diffusion/train/unet_trainer.hpp"

#include <memory>
#include <string>
#include <vector>

namespace diffuscope::vis {

struct TrainingSettings {
    int batch = 16;      // small: on a CPU device a step of 64 takes seconds
    float lr = 2e-3f;
    int base = 16;       // UNet width (the bundled model's)
    uint64_t seed = 1;
};

class VisTraining {
public:
    // Throws (a clear message) when the trainer cannot be built.
    VisTraining(engine::Context&, const data::Mnist& train, const TrainingSettings&);
    ~VisTraining();

    // This frame's slice of training (`slot`: the frame slot it is recorded into). Starts a step when none is in
    // progress and `running`; nothing while the previous step's result is still on its way.
    Slice record(engine::CommandBuffer&, uint32_t slot, bool running, double budget_ms);
    // Frame slot `slot` has finished (fence waited): read the result of a step whose last slice ran in it, and
    // calibrate the cost model against the slot's measured "train" pass.
    void slot_finished(uint32_t slot, double train_pass_ms);

    const TrainingSettings& settings() const { return settings_; }
    const train::TrainConfig& config() const { return trainer_->config(); }
    uint64_t steps() const { return trainer_->steps_done(); }
    const std::vector<float>& losses() const { return losses_; }
    uint32_t skipped() const { return skipped_; }
    bool stopped_on_nan() const { return consecutive_skips_ >= max_consecutive_skips; }
    bool mid_step() const { return slicer_.mid_step(); }
    double step_ms_estimate() const;   // one step's predicted GPU time
    double images_per_second() const { return images_per_second_; }
    nn::Weights ema_weights() const;    // call with the device idle
    void export_ema(const std::filesystem::path& p) const { trainer_->export_ema(p); }

    static constexpr uint32_t max_consecutive_skips = 20;  // as `diffuscope train`: then stop, weights intact

private:
    engine::Context* ctx_;
    TrainingSettings settings_;
    std::unique_ptr<train::Trainer> trainer_;
    StepSlicer slicer_;
    std::vector<float> losses_;
    uint32_t skipped_ = 0, consecutive_skips_ = 0;
    double images_per_second_ = 0, last_finish_s_ = -1;
};

}  // namespace diffuscope::vis
