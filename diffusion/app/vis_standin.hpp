// diffusion/app/vis_standin.hpp — TEMPORARY. A stand-in for the diffusion branch's Chain, schedule and MNIST
// oracle so the visualiser runs before that branch is merged: N chains of DDIM steps driven by the exact
// denoiser of a small procedural digit set (shaders/render/standin_oracle.comp). Its schedule is a host-side
// β(t) (linear, cosine, or a 5-point log-β curve). Replace with diffusion/ chain + sampler + oracle on merge;
// the visualiser only uses the interface below (buffers of x_t, x̂₀ and the prediction; step; restart).
#pragma once
#include "engine/commands.hpp"
#include "engine/pipeline.hpp"

#include <array>
#include <string>
#include <vector>

namespace diffuscope::app {

enum class Preset : int { linear = 0, cosine = 1, curve = 2 };
enum class PredictionView : uint32_t { x0 = 0, eps = 1, v = 2, score = 3 };
enum class LabelMode : uint32_t { fixed = 0, per_chain = 1, unconditional = 2 };

struct ScheduleSettings {
    Preset preset = Preset::linear;
    int timesteps = 1000;                                        // T
    int steps = 50;                                              // sampling steps S ≤ T
    std::array<float, 5> curve_log10_beta = {-4.0f, -3.2f, -2.5f, -2.0f, -1.7f};  // at τ = 0, ¼, ½, ¾, 1
};

// β_t for t = 0..T−1 and ᾱ_t = Π_{s≤t}(1 − β_s).
struct HostSchedule {
    std::vector<double> beta, alpha_bar;
    std::vector<double> step_alpha_bar;  // ᾱ at the S sampling steps, noisiest first (uniformly respaced)
    double final_alpha_bar() const { return alpha_bar.back(); }
    double final_snr() const { return alpha_bar.back() / (1 - alpha_bar.back()); }
};
HostSchedule make_schedule(const ScheduleSettings&);

struct ChainSettings {
    uint32_t chains = 16;
    int label = 3;
    LabelMode label_mode = LabelMode::fixed;
    float guidance = 1.0f;
    float eta = 0.0f;
    uint32_t seed = 1;
    PredictionView view = PredictionView::eps;
};

class StandInChain {
public:
    static constexpr uint32_t pixels = 784, max_chains = 64;
    explicit StandInChain(engine::Context&);

    // Records x_T = z for every chain and rewinds (history cleared). Call with the settings and schedule to use.
    void restart(engine::CommandBuffer&, const ChainSettings&, const HostSchedule&);
    // Swaps the schedule under running chains: they continue from their current noise level ᾱ.
    void set_schedule(const HostSchedule&);
    void set_settings(const ChainSettings& s) { settings_ = s; }  // label, guidance, η, view: from the next step
    // Records one whole reverse step ᾱ → ᾱ' for every chain (and its copy into the history). False when done.
    bool record_step(engine::CommandBuffer&);
    // Records at most `max_chains` chains' share of the current step (a step split across frames: each chain's
    // update reads only its own x, so the parts are exact). Returns how many chains it stepped (0: done).
    uint32_t record_part(engine::CommandBuffer&, uint32_t max_chains);
    uint32_t chains_pending() const { return done() ? 0 : settings_.chains - progress_; }  // in this step
    // Records q_sample of each chain's clean glyph at ᾱ (the forward process view).
    void record_forward(engine::CommandBuffer&, double alpha_bar);

    bool done() const { return alpha_bar_ >= 1.0; }
    double alpha_bar() const { return alpha_bar_; }        // the level x_t is at
    double alpha_bar_next() const;
    int step_index() const { return steps_done_; }
    int total_steps() const { return int(schedule_.step_alpha_bar.size()); }
    const ChainSettings& settings() const { return settings_; }
    float last_sigma() const { return last_sigma_; }       // σ of the last step (η > 0)

    const engine::Buffer& x_t() const { return x_; }
    const engine::Buffer& x0_hat() const { return x0_; }
    const engine::Buffer& prediction() const { return pred_; }
    // The trajectory: x after step k (k = 0: x_T) at float offset history_offset(k) of history().
    const engine::Buffer& history() const { return history_; }
    uint32_t history_frames() const { return history_count_; }
    uint32_t history_offset(uint32_t k) const { return k * settings_.chains * pixels; }

private:
    struct Push {
        uint32_t mode, variants, label, label_mode;
        float alpha_bar, alpha_bar_next, eta, guidance;
        uint32_t seed[2];
        uint32_t step, view, chain_offset;
    };
    void dispatch(engine::CommandBuffer&, uint32_t mode, uint32_t groups, double ab, double ab_next, uint32_t offset = 0);

    engine::Context* ctx_;
    engine::ComputePipeline pipe_;
    engine::Buffer x_, x0_, pred_, glyphs_, glyphs_t_, history_;
    VkDescriptorSet set_;
    ChainSettings settings_;
    HostSchedule schedule_;
    double alpha_bar_ = 0;
    int next_ = 0, steps_done_ = 0;
    uint32_t history_count_ = 0, history_capacity_ = 0;
    uint32_t progress_ = 0;          // chains already stepped in the current step
    bool schedule_pending_ = false;  // a new schedule waits for the step in progress to finish
    HostSchedule pending_;
    float last_sigma_ = 0;
};

}  // namespace diffuscope::app
