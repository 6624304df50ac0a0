// diffusion/vis/chains.hpp — the visualiser's chains: the real diffusion core (ScheduleBuffer + Chain + a
// sampler) on any Denoiser (the empirical MNIST oracle, or a UNet through vis/model_source.hpp), cut into groups of
// chains (each group is its own Chain; a group's step reads only its own x, so the parts are exact).
//
// Never stutter: one group's step (on lavapipe a UNet forward of 8 images, 60–90 ms) is far more than a frame's
// GPU budget, so it is captured once into an engine::CommandList and replayed a few operations per frame. How
// many: the per-operation GPU times measured by timestamps in earlier frames (OpCosts), against the budget. The
// model's activations live in its own buffers, so a forward cut between any two operations resumes exactly.
//
// After each group's step its x_t, x̂₀ and the chosen prediction are copied (GPU → GPU) into flat display
// buffers [N, 784] that the tile passes read, and after each complete step x_t is appended to a trajectory kept
// on the GPU for the timeline scrubber. The trajectory is the visualiser's own (not the Chain's) because a
// schedule swap or a label change re-resets the Chains mid-run and the scrubber must keep the whole history.
//
// Schedule swap mid-chain: x_t is at the level ᾱ_cur of the old schedule; the new schedule continues from its
// timestep t' whose ᾱ'_{t'} is nearest ᾱ_cur, then through its own respaced timesteps below t'.
#pragma once
#include "diffusion/data/mnist.hpp"
#include "diffusion/sampler/chain.hpp"
#include "diffusion/sampler/q_sample.hpp"
#include "diffusion/vis/step_slicer.hpp"

#include <memory>
#include <string>
#include <vector>

namespace diffuscope::vis {

enum class PredictionView : uint32_t { x0 = 0, eps = 1, score = 2, v = 3 };  // v = √ᾱ ε − √(1−ᾱ) x₀
enum class LabelMode : uint32_t { fixed = 0, per_chain = 1, unconditional = 2 };

// What the schedule panel edits. `preset` indexes SchedulePreset (curve = 5: the control points below).
struct ScheduleSettings {
    SchedulePreset preset = SchedulePreset::linear;
    int timesteps = 1000;  // T
    int steps = 50;        // sampling steps S ≤ T (trailing spacing: always starts at T−1)
    CurveSpace space = CurveSpace::beta;
    // Control points at τ = 0, ⅙, …, 1: β at T = 1000 (space beta) or λ = log-SNR (space log_snr).
    std::vector<double> beta_points = {1e-4, 2e-3, 5e-3, 8.5e-3, 1.2e-2, 1.6e-2, 2e-2};
    std::vector<double> log_snr_points = {9.0, 5.0, 2.0, -0.5, -3.0, -6.0, -10.0};
};
ScheduleSpec to_spec(const ScheduleSettings&);  // may throw ScheduleError (check with check_schedule)

// β_t, ᾱ_t for t = 0..T−1 (from the double twin of schedule.comp) for the plots, and the S respaced levels.
struct HostSchedule {
    ScheduleSpec spec;
    std::vector<double> beta, alpha_bar;
    std::vector<uint32_t> timesteps;      // respaced, descending (trailing)
    double final_alpha_bar() const { return alpha_bar.back(); }
    double final_snr() const { return alpha_bar.back() / (1 - alpha_bar.back()); }
};
HostSchedule make_schedule(const ScheduleSettings&);  // throws ScheduleError on a schedule the guard refuses

struct ChainSettings {
    uint32_t chains = 16;
    int label = 3;
    LabelMode label_mode = LabelMode::fixed;
    float guidance = 1.0f;
    float eta = 0.0f;
    uint32_t seed = 1;
    SamplerKind sampler = SamplerKind::ddim;
    PredictionView view = PredictionView::eps;
};

class VisChain {
public:
    static constexpr uint32_t pixels = 784, max_chains = 64;
    // Chains per group on this device. A CPU driver takes 4: a group's step is the unit a frame's budget slices,
    // and on lavapipe a UNet forward of 8 images already spans several frames. A GPU takes all 64 in one group: there
    // a forward costs about the same at batch 1 as at 128 (on an H200 1.3 ms vs 1.4 ms at 64), so 16 groups of 4
    // would only multiply a step's time by 16.
    static uint32_t group_for(const engine::Context&);
    // `model`: predicts 784 values per sample and accepts batches of 2·group_for(ctx) (guidance). `train`: real digits for
    // the forward-process view (may be null: the forward view then shows noise only).
    // `group`: chains per group (0: group_for(ctx); tests pass 4 to cut a step into groups on any device).
    VisChain(engine::Context&, const Denoiser& model, const data::Mnist* train, uint32_t group = 0);

    // x_T = z for every chain; history cleared. Rebuilds the Chains when the sampler, N or guidance changed.
    void restart(engine::CommandBuffer&, const ChainSettings&, const HostSchedule&);
    // Swaps the schedule under running chains: they continue from their current noise level.
    void set_schedule(const HostSchedule&);
    // η, w (live); label, sampler or guidance on/off: the chains continue from where they are with the new setup.
    void set_settings(const ChainSettings&);
    // The next slice of sampling work: operations of the group in progress (captured when it starts) while their
    // predicted GPU time fits `budget_ms` (always at least one), starting at most `new_chains` chains' worth of
    // new groups. `costs` null: no limit (every operation fits); `timer`: time each dispatch for the cost model.
    Slice record_budgeted(engine::CommandBuffer&, double budget_ms, uint32_t new_chains, const OpCosts* costs,
                          OpTimer* timer);
    // At most `max_chains` chains' share of the current step (whole groups; at least one). Returns chains stepped.
    uint32_t record_part(engine::CommandBuffer&, uint32_t max_chains);
    bool record_step(engine::CommandBuffer&);  // one whole step for every chain; false when done
    // Chains whose share of the current step has not started (the group in progress excluded).
    uint32_t chains_pending() const {
        return done() ? 0 : settings_.chains - progress_ * group_size() - (step_ops_.empty() ? 0 : group_size());
    }
    bool mid_step() const { return progress_ > 0 || op_pos_ > 0; }
    bool change_pending() const { return settings_pending_ || schedule_pending_; }
    // The whole step's predicted GPU time (every group), from the last group captured; 0 before any.
    double step_ms_estimate() const { return last_group_ms_ * groups(); }
    // Where the step in progress is: group (0-based) and operation within its captured list.
    uint32_t group_in_progress() const { return progress_; }
    uint32_t chains_per_group() const { return group_size(); }
    uint32_t group_count() const { return groups(); }
    size_t operation_in_progress() const { return op_pos_; }
    size_t operations_per_group() const { return last_group_ops_; }
    // q(x_t | x₀) of one real digit per chain at timestep t (t = T: clean).
    void record_forward(engine::CommandBuffer&, uint32_t t);

    bool done() const { return sub_ >= run_ts_.size(); }
    // Unique per VisChain ever made: a new chain (a new model) at a freed one's address is still "new".
    uint64_t serial() const { return serial_; }
    double alpha_bar() const { return level_alpha_bar(sub_); }       // the level x_t is at
    double alpha_bar_next() const { return level_alpha_bar(sub_ + 1); }
    int step_index() const { return steps_done_; }
    int total_steps() const { return steps_done_ + int(run_ts_.size() - std::min<size_t>(sub_, run_ts_.size())); }
    const ChainSettings& settings() const { return settings_; }
    const std::string& model_name() const { return model_.name; }

    const engine::Buffer& x_t() const { return x_; }
    const engine::Buffer& x0_hat() const { return x0_; }
    const engine::Buffer& prediction() const { return pred_; }
    const engine::Buffer& history() const { return history_; }  // x after step k at history_offset(k)
    uint32_t history_frames() const { return history_count_; }
    uint32_t history_offset(uint32_t k) const { return k * settings_.chains * pixels; }
    const ScheduleBuffer& schedule_buffer() const { return schedule_; }

private:
    uint32_t group_size() const { return std::min(group_, settings_.chains); }
    uint32_t groups() const { return settings_.chains / group_size(); }
    bool guided() const;
    std::vector<int32_t> labels_for(uint32_t g) const;
    SamplerOptions options_for(uint32_t g) const;
    double level_alpha_bar(size_t i) const;
    void build_chains();
    void continue_from_here();  // re-reset every group with the remaining timesteps (x kept)
    void copy_out(engine::CommandBuffer&, uint32_t g);
    void capture_group();            // the current group's step (and its display copies) into step_ops_
    void finish_group(engine::CommandBuffer&, const OpCosts*);
    void apply_pending();            // the settings / schedule change deferred by a step in progress, once it ends
    void wait_idle();

    static uint64_t next_serial() {
        static uint64_t n = 0;
        return ++n;
    }
    const uint64_t serial_ = next_serial();
    engine::Context* ctx_;
    const uint32_t group_;
    Denoiser model_;
    const data::Mnist* train_;
    ScheduleBuffer schedule_;
    std::vector<LevelD> levels_;  // host twin of the current schedule (T + 1)
    std::vector<std::unique_ptr<Chain>> chains_;
    SamplerKind built_sampler_ = SamplerKind::ddim;
    bool built_guided_ = false;
    uint32_t built_chains_ = 0;
    ChainSettings settings_;
    HostSchedule host_;
    std::vector<uint32_t> run_ts_;  // the timesteps of the last reset; the chains are at run_ts_[sub_]
    size_t sub_ = 0;
    int steps_done_ = 0;
    uint32_t progress_ = 0;         // groups already stepped in the current step
    engine::CommandList step_ops_;  // the group in progress, captured; empty between groups
    size_t op_pos_ = 0;             // operations of step_ops_ already replayed
    double last_group_ms_ = 0;
    size_t last_group_ops_ = 0;
    bool schedule_pending_ = false, settings_pending_ = false;
    HostSchedule pending_;
    ChainSettings pending_settings_hold_;
    uint64_t forward_label_key_ = ~0ull;
    uint64_t labels_key() const {
        return uint64_t(settings_.label) | uint64_t(settings_.label_mode) << 8 | uint64_t(settings_.chains) << 16 |
               uint64_t(settings_.seed) << 32;
    }
    engine::Buffer x_, x0_, pred_, history_, clean_, fwd_ts_, fwd_level_;
    uint32_t history_count_ = 0, history_capacity_ = 0;
    QSample q_sample_;
};

}  // namespace diffuscope::vis
