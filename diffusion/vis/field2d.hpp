// diffusion/vis/field2d.hpp — the 2-D field view: a toy data set (a Gaussian mixture, diffusion/data/toy2d),
// its exact denoiser (GmmOracle) evaluated on a K×K grid at the current noise level and drawn as arrows (the
// denoise direction x̂₀ − x_t, or the score), and particles flowing along the reverse process (a real Chain on the
// same oracle) with their trails. The particles' trajectory stays on the GPU; the timeline replays it, and the
// field follows the level of the step shown, so scrubbing t shows the field sharpen as the noise falls.
//
// Beside the exact field, a *learned* one: a small MLP (nn::Mlp2d) trains on the same data set on the GPU while
// the view is open, its steps replayed in slices within each frame's GPU budget (StepSlicer), and its field (from the EMA weights, read live) can be shown instead
// of the exact one, side by side with it, or as their difference (learned − exact, the network's error at each
// point). In the learned panels the particles follow the learned model from the same x_T as the exact ones.
#pragma once
#include "diffusion/vis/step_slicer.hpp"
#include "diffusion/model/mlp2d.hpp"
#include "diffusion/train/mlp2d_trainer.hpp"
#include "diffusion/oracle/gmm_oracle.hpp"
#include "diffusion/sampler/chain.hpp"
#include "engine/renderer.hpp"

#include <memory>
#include <string>

namespace diffuscope::vis {

enum class FieldModel : int { exact = 0, learned = 1, side_by_side = 2, difference = 3 };
inline const char* field_model_name(FieldModel m) {
    return m == FieldModel::exact ? "exact" : m == FieldModel::learned ? "learned" : m == FieldModel::side_by_side ? "side-by-side" : "difference";
}

struct Field2dSettings {
    int dataset = 0;          // index into data::toy2d_names(): gmm8, rings, moons, digits
    bool score = false;       // arrows: the score ∇log p_t (true) or the denoise direction x̂₀ − x_t (false)
    bool trails = true;
    int particles = 256;
    int steps = 100;          // sampling steps of the particles (DDIM, η = 0: the probability-flow path)
    int grid = 25;            // K: arrows on a K×K grid
    int scrub = -1;           // trajectory slot shown; −1 = live
    FieldModel model = FieldModel::exact;
    bool learn = true;        // train the learned model while it is shown
};

class Field2d {
public:
    static constexpr float lo = -1.6f, hi = 1.6f;  // the domain shown (data live within ±1.3)
    Field2d(engine::Context&, VkRenderPass);

    // New particles x_T ~ N(0, I) under `schedule` (the visualiser's schedule spec) and `s`.
    void restart(const ScheduleSpec& schedule, const Field2dSettings& s, uint64_t seed);
    // This frame's slice of the learned model's training (when it is shown and `learn` is set): its step, captured
    // once, replayed as far as the costs measured in earlier frames say fits `budget_ms` of GPU time (at least one
    // dispatch), so a step spans as many frames as it needs and no frame waits for one. `slot`: the frame slot.
    Slice record_learning(engine::CommandBuffer&, uint32_t slot, double budget_ms);
    // Frame slot `slot` has finished (its fence was waited on): `pass_ms`, its timestamps around the slice.
    void learning_slot_finished(uint32_t slot, double pass_ms);
    // Records `advance` reverse steps of the particles (0 when paused) and the items to draw at trajectory
    // slot `scrub` (−1 = the newest).
    void record(engine::CommandBuffer&, int advance, int scrub);
    enum class Panel { exact, learned, difference };
    // The panels the settings show, left to right.
    std::vector<Panel> panels() const;
    void draw(VkCommandBuffer, VkExtent2D target, engine::Rect, const VkRect2D* clip, Panel = Panel::exact);

    int step() const { return int(done_); }                 // steps taken
    int steps() const { return int(timesteps_.size()); }
    int shown_slot() const { return shown_; }
    double shown_alpha_bar() const;                          // the level of the field shown
    const std::string& dataset() const { return gmm_name_; }
    const engine::Buffer& arrow_items() const { return arrows_; }
    const engine::Buffer& particle_items() const { return dots_; }
    const engine::Buffer& grid_x() const { return grid_x_; }
    uint32_t grid_side() const { return k_; }
    const engine::Buffer& learned_arrow_items() const { return arrows_learned_; }
    const engine::Buffer& difference_items() const { return arrows_diff_; }
    const engine::Buffer& learned_particle_items() const { return dots_learned_; }
    const engine::Buffer& trail_items() const { return trails_; }
    uint32_t trail_segments() const { return trail_slots_; }  // per particle, in the last record()
    bool learned_shown() const { return s_.model != FieldModel::exact; }
    // The learned model: training steps taken, the loss's running mean, a step's predicted GPU time (0 before
    // it is measured).
    uint64_t learn_steps() const { return learner_ ? learner_->steps_done() : 0; }
    double learn_loss() const { return learn_loss_; }
    double learn_step_ms() const { return learner_ ? slicer_.step_ms_estimate(learner_->step_ops()) : 0.0; }

private:
    engine::Context* ctx_;
    engine::Arrows arrows_pipe_;
    std::unique_ptr<oracle::GmmOracle> oracle_;
    std::unique_ptr<ScheduleBuffer> schedule_;
    std::unique_ptr<Chain> chain_;
    Denoiser grid_model_;
    Denoiser::Recorder grid_forward_;
    std::vector<LevelD> levels_;
    std::vector<uint32_t> timesteps_;
    std::string gmm_name_;
    Field2dSettings s_;
    uint32_t k_ = 25, n_ = 512, done_ = 0, shown_ = 0, trail_slots_ = 0;
    engine::Buffer grid_x_, grid_level_, grid_label_, grid_out_, grid_v_, arrows_, dots_, trails_, arrows_learned_,
        arrows_diff_, dots_learned_, trails_learned_;
    engine::ComputePipeline pipe_;
    VkDescriptorSet arrows_set_ = VK_NULL_HANDLE, dots_set_ = VK_NULL_HANDLE, trails_set_ = VK_NULL_HANDLE,
                    learned_set_ = VK_NULL_HANDLE, diff_set_ = VK_NULL_HANDLE, dots_learned_set_ = VK_NULL_HANDLE,
                    trails_learned_set_ = VK_NULL_HANDLE;
    // The learned model: kept across restarts on the same data set (it goes on learning), made anew on another.
    std::unique_ptr<train::Mlp2dTrainer> learner_;
    std::string learner_dataset_;
    Denoiser learned_model_;
    Denoiser::Recorder learned_grid_forward_;
    std::unique_ptr<Chain> learned_chain_;
    double learn_loss_ = 0;
    StepSlicer slicer_;  // the learner's steps across frames
};

}  // namespace diffuscope::vis
