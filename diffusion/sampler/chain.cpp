#include "diffusion/sampler/chain.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace diffuscope {

using engine::Buffer;
using engine::CommandBuffer;
using engine::groups_for;

SamplerKind sampler_from_name(const std::string& n) {
    if (n == "ddpm") return SamplerKind::ddpm;
    if (n == "ddim") return SamplerKind::ddim;
    if (n == "euler") return SamplerKind::euler;
    if (n == "heun") return SamplerKind::heun;
    if (n == "sde") return SamplerKind::sde;
    if (n == "dpmpp2m" || n == "dpm++2m") return SamplerKind::dpmpp2m;
    throw std::invalid_argument("unknown sampler \"" + n + "\"; use ddpm, ddim, euler, heun, sde or dpmpp2m");
}

std::string sampler_name(SamplerKind k) {
    const char* names[] = {"ddpm", "ddim", "euler", "heun", "sde", "dpmpp2m"};
    return names[uint32_t(k)];
}

static std::string step_shader(SamplerKind k) { return "diffusion/" + sampler_name(k) + "_step.comp"; }

static size_t floats(uint64_t n) { return std::max<uint64_t>(n, 1) * sizeof(float); }

Chain::Chain(engine::Context& ctx, const ChainConfig& cfg, const ScheduleBuffer& schedule, const Denoiser& model)
    : ctx_(&ctx),
      cfg_(cfg),
      schedule_(&schedule),
      model_(model),
      model_batch_(cfg.guided ? 2 * cfg.batch : cfg.batch),
      prepare_(ctx, {"diffusion/prepare_model_input.comp", 8, 16}),
      denoise_(ctx, {"diffusion/denoise.comp", 10, 20}),
      step_(ctx, {step_shader(cfg.sampler), 10, 16}),
      advance_(ctx, {"diffusion/chain_advance.comp", 1, 0}),
      init_(ctx, {"diffusion/chain_init.comp", 8, 8}) {
    if (cfg.batch == 0 || cfg.dim == 0) throw std::invalid_argument("Chain: batch and dim must be positive");
    if (model.dim != cfg.dim)
        throw std::invalid_argument("Chain: the model \"" + model.name + "\" predicts " + std::to_string(model.dim) +
                                    " values per sample, the chain holds " + std::to_string(cfg.dim));
    if (model.max_batch && model_batch_ > model.max_batch)
        throw std::invalid_argument("Chain: " + std::to_string(model_batch_) + " samples per evaluation" +
                                    (cfg.guided ? " (doubled for guidance)" : "") + " exceed the model's limit of " +
                                    std::to_string(model.max_batch));
    if (cfg.max_steps == 0 || cfg.max_steps > max_timesteps)
        throw std::invalid_argument("Chain: max_steps must be in [1, 4000]");
    const uint64_t nd = uint64_t(cfg.batch) * cfg.dim, bd = uint64_t(model_batch_) * cfg.dim;
    x_ = Buffer(ctx, floats(nd));
    x0_hat_ = Buffer(ctx, floats(nd));
    eps_hat_ = Buffer(ctx, floats(nd));
    score_ = Buffer(ctx, floats(nd));
    v_hat_ = Buffer(ctx, floats(nd));
    traj_ = Buffer(ctx, floats(nd * std::max(cfg.trajectory_slots, 1u)));
    const bool heun = cfg.sampler == SamplerKind::heun, dpm = cfg.sampler == SamplerKind::dpmpp2m;
    aux1_ = Buffer(ctx, floats(heun || dpm ? nd : 1));
    aux2_ = Buffer(ctx, floats(heun ? nd : 1));
    x0_tmp_ = Buffer(ctx, floats(heun ? nd : 1));
    score_tmp_ = Buffer(ctx, floats(heun ? nd : 1));
    v_tmp_ = Buffer(ctx, floats(heun ? nd : 1));
    model_x_ = Buffer(ctx, floats(bd));
    model_level_ = Buffer(ctx, model_batch_ * sizeof(float));
    model_label_ = Buffer(ctx, model_batch_ * sizeof(int32_t));
    model_out_ = Buffer(ctx, floats(bd));
    labels_ = Buffer(ctx, cfg.batch * sizeof(int32_t));
    timesteps_ = Buffer(ctx, (cfg.max_steps + 1) * sizeof(uint32_t));
    state_ = Buffer(ctx, sizeof(ChainState));
    params_ = Buffer(ctx, sizeof(SamplerParams), engine::Memory::Upload);

    const Buffer& levels = schedule.levels();
    prepare_set_[0] = prepare_.bind({levels, timesteps_, state_, x_, labels_, model_x_, model_level_, model_label_});
    prepare_set_[1] = prepare_.bind({levels, timesteps_, state_, aux1_, labels_, model_x_, model_level_, model_label_});
    denoise_set_[0] = denoise_.bind({levels, timesteps_, state_, params_, model_out_, x_, x0_hat_, eps_hat_, score_, v_hat_});
    denoise_set_[1] = denoise_.bind({levels, timesteps_, state_, params_, model_out_, aux1_, x0_tmp_, aux2_, score_tmp_, v_tmp_});
    step_set_ = step_.bind({levels, timesteps_, state_, params_, x_, x0_hat_, eps_hat_, traj_, aux1_, aux2_});
    advance_set_ = advance_.bind({state_});
    init_set_ = init_.bind({params_, state_, x_, traj_, x0_hat_, eps_hat_, score_, v_hat_});
    model_forward_ = model_.bind(DenoiserIo{&model_x_, &model_level_, &model_label_, &model_out_, model_batch_});
    set_options({});
}

void Chain::set_options(const SamplerOptions& o) {
    if (!(o.eta >= 0 && o.eta <= 1)) throw std::invalid_argument("DDIM η = " + std::to_string(o.eta) + " must be in [0, 1]");
    if (!std::isfinite(o.guidance)) throw std::invalid_argument("guidance w must be a finite number");
    if (!(o.percentile > 0 && o.percentile <= 1))
        throw std::invalid_argument("dynamic-thresholding percentile must be in (0, 1]");
    SamplerParams p{o.eta, o.guidance, uint32_t(o.clip), o.percentile, uint32_t(o.ddpm_sigma), uint32_t(o.seed),
                    uint32_t(o.seed >> 32), o.first_index};
    std::memcpy(params_.map().data(), &p, sizeof p);
}

void Chain::reset(std::span<const uint32_t> timesteps, std::span<const int32_t> labels, const SamplerOptions& o) {
    const uint32_t T = schedule_->timesteps(), S = uint32_t(timesteps.size());
    if (S == 0 || S > cfg_.max_steps)
        throw std::invalid_argument("Chain: " + std::to_string(S) + " steps; this chain takes 1 to " +
                                    std::to_string(cfg_.max_steps));
    for (uint32_t i = 0; i < S; ++i) {
        if (timesteps[i] >= T || (i && timesteps[i] >= timesteps[i - 1]))
            throw std::invalid_argument("Chain: timesteps must strictly decrease and stay below T = " +
                                        std::to_string(T) + "; entry " + std::to_string(i) + " is " +
                                        std::to_string(timesteps[i]));
    }
    if (labels.size() != cfg_.batch)
        throw std::invalid_argument("Chain: " + std::to_string(labels.size()) + " labels for " +
                                    std::to_string(cfg_.batch) + " chains");
    for (int32_t l : labels)
        if (l < 0 || l > null_label)
            throw std::invalid_argument("Chain: label " + std::to_string(l) + " is not 0–9 or 10 (no label)");
    set_options(o);
    std::vector<uint32_t> ts(timesteps.begin(), timesteps.end());
    ts.push_back(T);  // the clean sentinel
    timesteps_.upload(ts);
    labels_.upload(labels.data(), labels.size_bytes());
    n_steps_ = S;
    const uint32_t slots = cfg_.trajectory_slots;
    traj_stride_ = slots <= 1 ? S + 1 : std::max<uint32_t>(1, (S + slots - 2) / (slots - 1));  // ⌈S/(slots−1)⌉
    ChainState st{0, S, traj_stride_, slots};
    state_.upload(&st, sizeof st);
}

uint32_t Chain::trajectory_slots_used() const {
    if (cfg_.trajectory_slots == 0) return 0;
    return std::min(cfg_.trajectory_slots, (n_steps_ + traj_stride_ - 1) / traj_stride_ + 1);
}

uint32_t Chain::trajectory_step(uint32_t slot) const { return std::min(slot * traj_stride_, n_steps_); }

ChainState Chain::state() const { return state_.download_as<ChainState>(1)[0]; }

void Chain::record_init(CommandBuffer& cmd) {
    cmd.barrier_from_host();  // RAW: the parameters the host wrote
    cmd.barrier();            // WAR/WAW: an earlier run still reading or writing x, the trajectory
    struct { uint32_t n, dim; } push{cfg_.batch, cfg_.dim};
    cmd.dispatch(init_, init_set_, push, groups_for(uint64_t(cfg_.batch) * cfg_.dim, 64));
    cmd.barrier();            // RAW: the first step reads x
}

void Chain::record_denoise(CommandBuffer& cmd, At at) {
    const uint32_t off = at == At::predictor ? 1 : 0;
    struct { uint32_t n, dim, batch, level_offset; } pp{cfg_.batch, cfg_.dim, model_batch_, off};
    if (profiler_) profiler_->begin(cmd, "sampler");
    cmd.dispatch(prepare_, prepare_set_[off], pp, groups_for(uint64_t(model_batch_) * cfg_.dim, 64));
    cmd.barrier();  // RAW: the model reads its batch, levels, labels
    if (profiler_) profiler_->end(cmd), profiler_->begin(cmd, "model");
    model_forward_(cmd);
    cmd.barrier();  // RAW: denoise reads the model's output
    if (profiler_) profiler_->end(cmd), profiler_->begin(cmd, "sampler");
    struct { uint32_t n, dim, prediction, guided, level_offset; } dp{cfg_.batch, cfg_.dim, uint32_t(model_.prediction),
                                                                      cfg_.guided ? 1u : 0u, off};
    cmd.dispatch(denoise_, denoise_set_[off], dp, groups_for(cfg_.batch, 64));
    cmd.barrier();  // RAW: the update reads ε̂, x̂₀
    if (profiler_) profiler_->end(cmd);
}

void Chain::record_update(CommandBuffer& cmd, uint32_t stage) {
    struct { uint32_t n, dim, stage, pad; } push{cfg_.batch, cfg_.dim, stage, 0};
    if (profiler_) profiler_->begin(cmd, "sampler");
    cmd.dispatch(step_, step_set_, push, groups_for(uint64_t(cfg_.batch) * cfg_.dim, 256));
    cmd.barrier();  // RAW/WAR: the next pass reads x (or x̃), and advance overwrites the step every pass read
    if (profiler_) profiler_->end(cmd);
}

void Chain::record_advance(CommandBuffer& cmd) {
    if (profiler_) profiler_->begin(cmd, "sampler");
    cmd.dispatch(advance_, advance_set_, static_cast<const void*>(nullptr), 0u, 1u);
    cmd.barrier();  // RAW: the next step reads the new step index
    if (profiler_) profiler_->end(cmd);
}

void Chain::run(const std::function<void(uint32_t, uint32_t)>& progress, uint32_t per_submit) {
    if (n_steps_ == 0) throw std::logic_error("Chain::run before reset");
    if (per_submit == 0) per_submit = n_steps_;
    ChainState st{0, n_steps_, traj_stride_, cfg_.trajectory_slots};
    state_.upload(&st, sizeof st);  // rewind
    CommandBuffer cmd(*ctx_);
    cmd.begin(true);
    record_init(cmd);
    cmd.end();
    cmd.submit_and_wait();
    for (uint32_t done = 0; done < n_steps_;) {
        uint32_t k = std::min(per_submit, n_steps_ - done);
        cmd.begin(true);
        cmd.barrier_from_host();  // RAW: live parameters the host may have changed
        for (uint32_t j = 0; j < k; ++j) record_step(cmd, done + j + 1 == n_steps_);
        cmd.barrier_to_host();
        cmd.end();
        cmd.submit_and_wait();
        done += k;
        if (progress) progress(done, n_steps_);
    }
}

}  // namespace diffuscope
