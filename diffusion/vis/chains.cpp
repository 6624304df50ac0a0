#include "diffusion/vis/chains.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace diffuscope::vis {

static constexpr VkDeviceSize k_history_bytes = 128ull << 20;  // the trajectory kept for the scrubber

ScheduleSpec to_spec(const ScheduleSettings& s) {
    ScheduleSpec spec;
    spec.preset = s.preset;
    spec.timesteps = uint32_t(std::clamp(s.timesteps, int(min_timesteps), int(max_timesteps)));
    if (s.preset == SchedulePreset::curve) {
        spec.space = s.space;
        const auto& v = s.space == CurveSpace::beta ? s.beta_points : s.log_snr_points;
        for (size_t k = 0; k < v.size(); ++k) spec.points.push_back({double(k) / double(v.size() - 1), v[k]});
    }
    return spec;
}

HostSchedule make_schedule(const ScheduleSettings& s) {
    HostSchedule h;
    h.spec = to_spec(s);
    check_schedule(h.spec);  // throws ScheduleError with the reason
    auto levels = compute_levels(h.spec);
    const uint32_t T = h.spec.timesteps;
    for (uint32_t t = 0; t < T; ++t) {
        h.beta.push_back(levels[t].beta);
        h.alpha_bar.push_back(levels[t].alpha_bar);
    }
    h.timesteps = respace(T, uint32_t(std::clamp(s.steps, 1, int(T))), Spacing::trailing);
    return h;
}

uint32_t VisChain::group_for(const engine::Context& ctx) {
    return ctx.info().type == VK_PHYSICAL_DEVICE_TYPE_CPU ? 4u : max_chains;
}

VisChain::VisChain(engine::Context& ctx, const Denoiser& model, const data::Mnist* train, uint32_t group)
    : ctx_(&ctx), group_(group ? std::min(group, max_chains) : group_for(ctx)), model_(model), train_(train), schedule_(ctx), x_(ctx, max_chains * pixels * 4),
      x0_(ctx, max_chains * pixels * 4), pred_(ctx, max_chains * pixels * 4), history_(ctx, k_history_bytes),
      clean_(ctx, max_chains * pixels * 4), fwd_ts_(ctx, max_chains * 4), fwd_level_(ctx, max_chains * 4), q_sample_(ctx) {
    if (model.dim != pixels)
        throw std::invalid_argument("visualiser: the model \"" + model.name + "\" predicts " + std::to_string(model.dim) +
                                    " values per sample; the visualiser shows 28×28 images (784)");
    engine::one_shot(ctx, [&](engine::CommandBuffer& c) {
        for (engine::Buffer* b : {&x_, &x0_, &pred_, &clean_}) c.fill(*b, 0);
    });
}

bool VisChain::guided() const {
    return settings_.guidance != 1.0f && settings_.label_mode != LabelMode::unconditional;
}

std::vector<int32_t> VisChain::labels_for(uint32_t g) const {
    std::vector<int32_t> l(group_size());
    for (uint32_t i = 0; i < l.size(); ++i) {
        uint32_t k = g * group_size() + i;
        l[i] = settings_.label_mode == LabelMode::unconditional ? null_label
             : settings_.label_mode == LabelMode::per_chain     ? int32_t(k % 10)
                                                                : int32_t(std::clamp(settings_.label, 0, 9));
    }
    return l;
}

SamplerOptions VisChain::options_for(uint32_t g) const {
    SamplerOptions o;
    o.eta = std::clamp(settings_.eta, 0.0f, 1.0f);
    o.guidance = settings_.guidance;
    o.seed = settings_.seed;
    // Chain k uses RNG stream k; after a mid-run re-reset (the Chain's step counter restarts at 0) a fresh
    // block of streams so the remaining steps never reuse noise already drawn.
    o.first_index = g * group_size() + max_chains * uint32_t(steps_done_);
    if (steps_done_ == 0) o.first_index = g * group_size();
    return o;
}

double VisChain::level_alpha_bar(size_t i) const {
    if (i >= run_ts_.size() || levels_.empty()) return 1.0;
    return levels_[run_ts_[i]].alpha_bar;
}

void VisChain::wait_idle() {
    // Chain::reset and the forward view's uploads write buffers that frames in flight may still read.
    vkDeviceWaitIdle(ctx_->device());
}

void VisChain::build_chains() {
    const uint32_t G = group_size();
    if (!chains_.empty() && built_sampler_ == settings_.sampler && built_guided_ == guided() &&
        built_chains_ == settings_.chains)
        return;
    chains_.clear();
    ChainConfig cfg{settings_.sampler, G, pixels, guided(), max_timesteps, 0};
    for (uint32_t g = 0; g < groups(); ++g) chains_.push_back(std::make_unique<Chain>(*ctx_, cfg, schedule_, model_));
    built_sampler_ = settings_.sampler;
    built_guided_ = guided();
    built_chains_ = settings_.chains;
}

void VisChain::copy_out(engine::CommandBuffer& c, uint32_t g) {
    const Chain& ch = *chains_[g];
    const VkDeviceSize bytes = VkDeviceSize(group_size()) * pixels * 4, off = g * bytes;
    c.copy(ch.x(), x_, bytes, 0, off);
    c.copy(ch.x0_hat(), x0_, bytes, 0, off);
    const engine::Buffer& p = settings_.view == PredictionView::x0    ? ch.x0_hat()
                            : settings_.view == PredictionView::score ? ch.score()
                            : settings_.view == PredictionView::v     ? ch.v_hat()
                                                                      : ch.eps_hat();
    c.copy(p, pred_, bytes, 0, off);
}

void VisChain::restart(engine::CommandBuffer& c, const ChainSettings& s, const HostSchedule& h) {
    wait_idle();
    settings_ = s;
    settings_.chains = std::clamp(s.chains, 1u, max_chains);
    if (settings_.chains > group_ && settings_.chains % group_) settings_.chains -= settings_.chains % group_;
    host_ = h;
    schedule_.set(h.spec);
    levels_ = compute_levels(h.spec);
    run_ts_ = h.timesteps;
    sub_ = 0;
    steps_done_ = 0;
    progress_ = 0;
    step_ops_.clear();  // a group cut short: its remaining operations are dropped with the old run
    op_pos_ = 0;
    schedule_pending_ = settings_pending_ = false;
    build_chains();
    c.barrier();  // WAR/WAW: earlier passes over the chains' and the display buffers
    for (uint32_t g = 0; g < groups(); ++g) {
        chains_[g]->reset(run_ts_, labels_for(g), options_for(g));
        chains_[g]->record_init(c);  // ends with a barrier (RAW: x_T → the copies)
        copy_out(c, g);
    }
    history_capacity_ = uint32_t(k_history_bytes / (VkDeviceSize(settings_.chains) * pixels * 4));
    c.barrier();  // RAW: x_T in the display buffer → the history copy
    c.copy(x_, history_, VkDeviceSize(settings_.chains) * pixels * 4, 0, 0);
    history_count_ = 1;
}

void VisChain::continue_from_here() {
    // The remaining run as a fresh reset of every group: step counters restart at 0 over run_ts_[sub_…].
    wait_idle();
    std::vector<uint32_t> rest(run_ts_.begin() + long(sub_), run_ts_.end());
    run_ts_ = rest;
    sub_ = 0;
    if (run_ts_.empty()) return;
    for (uint32_t g = 0; g < groups(); ++g) chains_[g]->reset(run_ts_, labels_for(g), options_for(g));
}

void VisChain::set_schedule(const HostSchedule& h) {
    if (op_pos_ == 0) step_ops_.clear();  // captured but not started: capture again under the new schedule
    if (mid_step()) {  // some groups already took (or are taking) this step: swap when it is complete
        pending_ = h;
        schedule_pending_ = true;
        return;
    }
    schedule_pending_ = false;
    const double ab = alpha_bar();
    const bool finished = done();
    wait_idle();
    host_ = h;
    schedule_.set(h.spec);
    levels_ = compute_levels(h.spec);
    if (finished) {
        run_ts_.clear();
        sub_ = 0;
        return;
    }
    // t': the new schedule's timestep whose ᾱ is nearest the chains' current ᾱ (ᾱ decreases with t).
    const uint32_t T = h.spec.timesteps;
    uint32_t best = T - 1;
    for (uint32_t t = 0; t < T; ++t)
        if (std::abs(levels_[t].alpha_bar - ab) < std::abs(levels_[best].alpha_bar - ab)) best = t;
    run_ts_ = {best};
    for (uint32_t t : h.timesteps)
        if (t < best) run_ts_.push_back(t);
    sub_ = 0;
    for (uint32_t g = 0; g < groups(); ++g) chains_[g]->reset(run_ts_, labels_for(g), options_for(g));
}

void VisChain::set_settings(const ChainSettings& s) {
    ChainSettings n = s;
    n.chains = settings_.chains;  // a new N needs a restart
    const bool relabel = n.label != settings_.label || n.label_mode != settings_.label_mode;
    const bool rebuild = n.sampler != settings_.sampler ||
                         (n.guidance != 1.0f && n.label_mode != LabelMode::unconditional) != guided();
    const bool view = n.view != settings_.view;
    if (op_pos_ == 0) step_ops_.clear();  // captured but not started: capture again with the new settings
    // Finish the step in progress first: even η and w live in a mapped buffer its remaining slices read.
    if (mid_step()) {
        settings_pending_ = true;
        pending_settings_hold_ = n;
        return;
    }
    settings_ = n;
    if (rebuild) {
        // New Chains (sampler or guidance batch): carry x over from the display buffer, continue from here.
        wait_idle();
        build_chains();
        engine::one_shot(*ctx_, [&](engine::CommandBuffer& c) {
            const VkDeviceSize bytes = VkDeviceSize(group_size()) * pixels * 4;
            // The Chain owns x and offers it read-only; this is the one place that writes it from outside.
            for (uint32_t g = 0; g < groups(); ++g)
                c.copy(x_, const_cast<engine::Buffer&>(chains_[g]->x()), bytes, g * bytes, 0);
        });
        continue_from_here();
    } else if (relabel) {
        continue_from_here();
    } else {
        wait_idle();  // the host writes the parameters the last frames' slices read (mapped memory)
        for (uint32_t g = 0; g < chains_.size(); ++g) chains_[g]->set_options(options_for(g));
    }
    (void)view;  // the next copy_out picks the new prediction buffer
}

void VisChain::capture_group() {
    step_ops_.clear();
    op_pos_ = 0;
    engine::CommandBuffer cap(*ctx_, step_ops_);
    cap.barrier();  // RAW/WAR: earlier passes (last step, tiles, copies) over this group's buffers
    chains_[progress_]->record_step(cap, sub_ + 1 == run_ts_.size());
    cap.barrier();  // RAW: the step's x, x̂₀, ε̂ → the display copies
    copy_out(cap, progress_);
}

void VisChain::finish_group(engine::CommandBuffer& c, const OpCosts* costs) {
    last_group_ops_ = step_ops_.size();
    if (costs) {
        last_group_ms_ = 0;
        for (size_t i = 0; i < step_ops_.size(); ++i)
            if (uint64_t sig = step_ops_.signature(i)) last_group_ms_ += costs->predict(sig);
    }
    step_ops_.clear();
    op_pos_ = 0;
    if (++progress_ < groups()) return;
    // The step is complete for every chain.
    progress_ = 0;
    ++sub_;
    ++steps_done_;
    if (history_count_ < history_capacity_) {
        c.barrier();  // RAW: the display x → the copy into the trajectory
        const VkDeviceSize bytes = VkDeviceSize(settings_.chains) * pixels * 4;
        c.copy(x_, history_, bytes, 0, history_count_ * bytes);
        ++history_count_;
    }
    // A settings or schedule change asked for mid-step is applied at the start of the next call (apply_pending):
    // not here, where this frame's command buffer already holds the step's last slice, unsubmitted.
}

void VisChain::apply_pending() {
    if (mid_step()) return;
    if (settings_pending_) {
        settings_pending_ = false;
        set_settings(pending_settings_hold_);
    }
    if (schedule_pending_) set_schedule(pending_);
}

Slice VisChain::record_budgeted(engine::CommandBuffer& c, double budget_ms, uint32_t new_chains, const OpCosts* costs,
                                OpTimer* timer) {
    Slice out;
    if (chains_.empty()) return out;
    apply_pending();  // nothing of the chains is in `c` yet; what was submitted, wait_idle covers
    while (!done()) {
        if (step_ops_.empty()) {  // between groups: start the next one if the playback allows
            if (new_chains < group_size()) break;
            if (progress_ == 0 && (settings_pending_ || schedule_pending_) && out.operations > 0)
                break;  // a step just ended with a change waiting: it applies at the next call
            new_chains -= group_size();
            capture_group();
        }
        if (!replay_within_budget(c, step_ops_, op_pos_, budget_ms, out, costs, timer)) break;  // the rest: next frame
        finish_group(c, costs);
        out.chains += group_size();
    }
    return out;
}

uint32_t VisChain::record_part(engine::CommandBuffer& c, uint32_t max_chains_now) {
    if (done() || max_chains_now == 0) return 0;
    return record_budgeted(c, 1e300, std::max(max_chains_now, group_size()), nullptr, nullptr).chains;
}

bool VisChain::record_step(engine::CommandBuffer& c) {
    if (done()) return false;
    const int before = steps_done_;
    while (steps_done_ == before && !done()) record_budgeted(c, 1e300, chains_pending(), nullptr, nullptr);
    return true;
}

void VisChain::record_forward(engine::CommandBuffer& c, uint32_t t) {
    const uint32_t n = settings_.chains;
    if (train_ && forward_label_key_ != labels_key()) {
        // One real digit per chain, of the chain's label (the first few of the class, by a seeded pick).
        wait_idle();
        std::vector<float> x0(size_t(n) * pixels, -1.0f);
        std::mt19937 rng(settings_.seed);
        for (uint32_t k = 0; k < n; ++k) {
            int32_t want = labels_for(k / group_size())[k % group_size()];
            std::vector<uint32_t> idx;
            for (uint32_t i = 0; i < train_->count && idx.size() < 64; ++i)
                if (want == null_label || train_->labels[i] == want) idx.push_back(i);
            if (idx.empty()) continue;
            uint32_t pick = idx[rng() % idx.size()];
            for (uint32_t p = 0; p < pixels; ++p) x0[size_t(k) * pixels + p] = train_->pixels[size_t(pick) * pixels + p] / 127.5f - 1;
        }
        clean_.upload(x0);
        forward_label_key_ = labels_key();
    }
    c.barrier();  // WAR/WAW against earlier passes over the display buffers and the timestep buffer
    c.fill(fwd_ts_, std::min(t, schedule_.timesteps()));
    c.copy(clean_, x0_, VkDeviceSize(n) * pixels * 4);
    c.barrier();  // RAW: the timesteps → q_sample
    QSampleIo io{&schedule_.levels(), &fwd_ts_, &clean_, &x_, &pred_, &fwd_level_, n, pixels, settings_.seed, 0, 0};
    q_sample_.record(c, io);
}

}  // namespace diffuscope::vis
