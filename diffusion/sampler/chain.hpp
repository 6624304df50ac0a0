// diffusion/sampler/chain.hpp — N sampling chains on the GPU: x_t, and after every step x̂₀, ε̂ and the score
// s = −ε̂/√(1−ᾱ) (what the visualiser draws), plus a trajectory of past x_t for the timeline scrubber.
//
// A step is recorded once and replayed: the step index lives in a GPU state buffer (advanced by the step
// itself), the timesteps and the schedule's levels in buffers, and η, w, clipping and the seed in a mapped
// parameter block. So changing the schedule (same T) or the live parameters re-records nothing.
//
//   one step = prepare (x → the model's batch, doubled for guidance) → model → denoise (guidance, ε/x₀/v →
//              ε̂ and x̂₀, clipping, score) → the sampler's update → advance (step += 1)
// Heun evaluates the model twice per step. Samplers, in diffusion/sampler/samplers.cpp, and their shaders in
// shaders/diffusion/*_step.comp; each takes the chain from timesteps[i] to timesteps[i+1], the last step to
// the clean level (returns x̂₀).
#pragma once
#include "diffusion/model/denoiser.hpp"
#include "diffusion/schedule/schedule_gpu.hpp"
#include "engine/pipeline.hpp"
#include "engine/timestamps.hpp"

#include <memory>
#include <optional>
#include <span>
#include <string>

namespace diffuscope {

enum class SamplerKind : uint32_t { ddpm, ddim, euler, heun, sde, dpmpp2m };
SamplerKind sampler_from_name(const std::string&);
std::string sampler_name(SamplerKind);
// Model evaluations per step (Heun: 2).
inline uint32_t evaluations_per_step(SamplerKind k) { return k == SamplerKind::heun ? 2 : 1; }

enum class ClipMode : uint32_t { none = 0, clip = 1, dynamic = 2 };
enum class DdpmSigma : uint32_t { posterior = 0, beta = 1 };  // σ² = β̃ or β

// std430 twins of ChainState / SamplerParams in shaders/diffusion/chain.glsl.
struct ChainState {
    uint32_t step, n_steps, traj_stride, traj_slots;
};
struct SamplerParams {
    float eta, guidance;
    uint32_t clip;
    float percentile;
    uint32_t ddpm_sigma, seed_lo, seed_hi, first_index;
};
static_assert(sizeof(SamplerParams) == 32);

// What a user sets; all of it may change between steps.
struct SamplerOptions {
    float eta = 0.0f;              // DDIM only
    float guidance = 1.0f;         // w (used when the chain is guided)
    ClipMode clip = ClipMode::none;
    float percentile = 0.995f;     // dynamic thresholding
    DdpmSigma ddpm_sigma = DdpmSigma::posterior;
    uint64_t seed = 0;
    uint32_t first_index = 0;      // sample n uses RNG stream first_index + n
};

struct ChainConfig {
    SamplerKind sampler = SamplerKind::ddim;
    uint32_t batch = 1;             // N chains
    uint32_t dim = 0;               // elements per sample (the model's dim)
    bool guided = false;            // classifier-free guidance: the model sees 2N samples per evaluation
    uint32_t max_steps = 1000;      // largest S a reset may ask for
    uint32_t trajectory_slots = 0;  // x_t kept after steps 0, k, 2k, …, S (k chosen to fit); 0 = none
};

class Chain {
public:
    Chain(engine::Context&, const ChainConfig&, const ScheduleBuffer&, const Denoiser&);
    Chain(const Chain&) = delete;
    Chain& operator=(const Chain&) = delete;

    // Host side, before recording/submitting a run: the descending timesteps (each < T; the clean sentinel
    // is appended), one label per chain (0–9 or null_label), the options. Sets the step counter to 0.
    void reset(std::span<const uint32_t> timesteps, std::span<const int32_t> labels, const SamplerOptions&);
    // Live: rewrites the mapped parameter block (takes effect at the next submitted step).
    void set_options(const SamplerOptions&);

    void record_init(engine::CommandBuffer&);  // x_T ~ N(0, I); trajectory slot 0
    // One step. `final_step` only lets Heun skip its second model evaluation on the last step (the result is
    // the same either way); a replayed command buffer may pass false for every step.
    void record_step(engine::CommandBuffer&, bool final_step = false);

    // Records init + all S steps in chunks, submits and waits; `progress(done, S)` after each chunk.
    void run(const std::function<void(uint32_t, uint32_t)>& progress = {}, uint32_t steps_per_submit = 0);

    const ChainConfig& config() const { return cfg_; }
    uint32_t steps() const { return n_steps_; }
    uint32_t trajectory_stride() const { return traj_stride_; }
    uint32_t trajectory_slots_used() const;           // slots a full run fills
    uint32_t trajectory_step(uint32_t slot) const;    // steps done when that slot was written
    ChainState state() const;                          // downloads the state (step counter)
    // With a profiler, recorded steps wrap their passes in timestamps named "model" and "sampler" (prepare,
    // denoise, update, advance); the caller resets and reads it around each submit.
    void set_profiler(engine::Timestamps* ts) { profiler_ = ts; }

    const engine::Buffer& x() const { return x_; }
    const engine::Buffer& x0_hat() const { return x0_hat_; }
    const engine::Buffer& eps_hat() const { return eps_hat_; }
    const engine::Buffer& score() const { return score_; }
    const engine::Buffer& v_hat() const { return v_hat_; }  // a ε̂ − b x̂₀: the v-prediction view
    const engine::Buffer& trajectory() const { return traj_; }  // [slots, N, dim]
    const engine::Buffer& labels() const { return labels_; }

    // For the sampler recipes (samplers.cpp).
    enum class At { current, predictor };  // the model sees x at timesteps[i], or Heun's x̃ at timesteps[i+1]
    void record_denoise(engine::CommandBuffer&, At);
    void record_update(engine::CommandBuffer&, uint32_t stage = 0);
    void record_advance(engine::CommandBuffer&);

private:
    engine::Context* ctx_;
    ChainConfig cfg_;
    const ScheduleBuffer* schedule_;
    Denoiser model_;
    Denoiser::Recorder model_forward_;
    uint32_t model_batch_, n_steps_ = 0, traj_stride_ = 1;
    engine::Buffer x_, x0_hat_, eps_hat_, score_, v_hat_, traj_, aux1_, aux2_, x0_tmp_, score_tmp_, v_tmp_;
    engine::Buffer model_x_, model_level_, model_label_, model_out_;
    engine::Buffer labels_, timesteps_, state_, params_;
    engine::ComputePipeline prepare_, denoise_, step_, advance_, init_;
    engine::Timestamps* profiler_ = nullptr;
    VkDescriptorSet prepare_set_[2], denoise_set_[2], step_set_, advance_set_, init_set_;
};

}  // namespace diffuscope
