// diffusion/app/vis_field2d.hpp — the 2-D field view: a toy data set (a Gaussian mixture, diffusion/data/toy2d),
// its exact denoiser (GmmOracle) evaluated on a K×K grid at the current noise level and drawn as arrows (the
// denoise direction x̂₀ − x_t, or the score), and particles flowing along the reverse process (a real Chain on the
// same oracle) with their trails. The particles' trajectory stays on the GPU; the timeline replays it, and the
// field follows the level of the step shown, so scrubbing t shows the field sharpen as the noise falls.
#pragma once
#include "diffusion/oracle/gmm_oracle.hpp"
#include "diffusion/sampler/chain.hpp"
#include "engine/renderer.hpp"

#include <memory>
#include <string>

namespace diffuscope::app {

struct Field2dSettings {
    int dataset = 0;          // index into data::toy2d_names(): gmm8, rings, moons, digits
    bool score = false;       // arrows: the score ∇log p_t (true) or the denoise direction x̂₀ − x_t (false)
    bool trails = true;
    int particles = 256;
    int steps = 100;          // sampling steps of the particles (DDIM, η = 0: the probability-flow path)
    int grid = 25;            // K: arrows on a K×K grid
    int scrub = -1;           // trajectory slot shown; −1 = live
};

class Field2d {
public:
    static constexpr float lo = -1.6f, hi = 1.6f;  // the domain shown (data live within ±1.3)
    Field2d(engine::Context&, VkRenderPass);

    // New particles x_T ~ N(0, I) under `schedule` (the visualiser's schedule spec) and `s`.
    void restart(const ScheduleSpec& schedule, const Field2dSettings& s, uint64_t seed);
    // Records `advance` reverse steps of the particles (0 when paused) and the items to draw at trajectory
    // slot `scrub` (−1 = the newest).
    void record(engine::CommandBuffer&, int advance, int scrub);
    void draw(VkCommandBuffer, VkExtent2D target, engine::Rect, const VkRect2D* clip);

    int step() const { return int(done_); }                 // steps taken
    int steps() const { return int(timesteps_.size()); }
    int shown_slot() const { return shown_; }
    double shown_alpha_bar() const;                          // the level of the field shown
    const std::string& dataset() const { return gmm_name_; }
    const engine::Buffer& arrow_items() const { return arrows_; }
    const engine::Buffer& particle_items() const { return dots_; }
    const engine::Buffer& grid_x() const { return grid_x_; }
    uint32_t grid_side() const { return k_; }

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
    engine::Buffer grid_x_, grid_level_, grid_label_, grid_out_, arrows_, dots_, trails_;
    engine::ComputePipeline pipe_;
    VkDescriptorSet arrows_set_ = VK_NULL_HANDLE, dots_set_ = VK_NULL_HANDLE, trails_set_ = VK_NULL_HANDLE;
};

}  // namespace diffuscope::app
