// TEMPORARY — see vis_standin.hpp.
#include "diffusion/app/vis_standin.hpp"

#include <algorithm>
#include <cmath>

namespace diffuscope::app {

static constexpr uint32_t k_variants = 8;
static constexpr VkDeviceSize k_history_bytes = 128ull << 20;  // the trajectory kept for the scrubber

HostSchedule make_schedule(const ScheduleSettings& s) {
    HostSchedule h;
    const int T = std::clamp(s.timesteps, 2, 4000);
    h.beta.resize(T);
    h.alpha_bar.resize(T);
    for (int t = 0; t < T; ++t) {
        double tau = T > 1 ? double(t) / (T - 1) : 0;  // τ' = t/(T−1)
        double b = 0;
        switch (s.preset) {
            case Preset::linear:  // Ho et al. 2020: 1e-4 → 0.02 at T = 1000, scaled by 1000/T
                b = (1e-4 + (0.02 - 1e-4) * tau) * 1000.0 / T;
                break;
            case Preset::cosine: {  // Nichol & Dhariwal 2021, ᾱ(τ) = f(τ)/f(0), β ≤ 0.999
                auto f = [](double u) { double c = std::cos((u + 0.008) / 1.008 * M_PI / 2); return c * c; };
                b = 1 - f(double(t + 1) / T) / f(double(t) / T);
                break;
            }
            case Preset::curve: {  // piecewise-linear log10 β through 5 points at τ' = 0, ¼, ½, ¾, 1
                double x = tau * 4;
                int i = std::min(int(x), 3);
                double l = s.curve_log10_beta[i] + (s.curve_log10_beta[i + 1] - s.curve_log10_beta[i]) * (x - i);
                b = std::pow(10.0, l) * 1000.0 / T;
                break;
            }
        }
        b = std::clamp(b, 1e-8, 0.999);
        h.beta[t] = b;
        h.alpha_bar[t] = (t ? h.alpha_bar[t - 1] : 1.0) * (1 - b);
    }
    const int S = std::clamp(s.steps, 1, T);
    for (int i = 0; i < S; ++i) {  // t_i = round((T−1)(1 − i/S)): T−1 first, descending
        int t = int(std::lround((T - 1) * (1.0 - double(i) / S)));
        h.step_alpha_bar.push_back(h.alpha_bar[t]);
    }
    return h;
}

StandInChain::StandInChain(engine::Context& ctx)
    : ctx_(&ctx), pipe_(ctx, {"render/standin_oracle.comp", 5, sizeof(Push)}),
      x_(ctx, max_chains * pixels * 4), x0_(ctx, max_chains * pixels * 4), pred_(ctx, max_chains * pixels * 4),
      glyphs_(ctx, 10 * k_variants * pixels * 4), glyphs_t_(ctx, 10 * k_variants * pixels * 4),
      history_(ctx, k_history_bytes) {
    set_ = pipe_.bind({x_, x0_, pred_, glyphs_, glyphs_t_});
    engine::one_shot(ctx, [&](engine::CommandBuffer& c) {
        c.fill(x_, 0);
        c.fill(x0_, 0);
        c.fill(pred_, 0);
        c.barrier();  // WAW: the fills → the glyph pass (which binds these buffers too)
        dispatch(c, 3, 10 * k_variants, 0, 0);
    });
}

void StandInChain::dispatch(engine::CommandBuffer& c, uint32_t mode, uint32_t groups, double ab, double ab_next,
                            uint32_t offset) {
    Push p{mode, k_variants, uint32_t(std::clamp(settings_.label, 0, 9)), uint32_t(settings_.label_mode),
           float(ab), float(ab_next), settings_.eta, settings_.guidance, {settings_.seed, 0x5eedu},
           uint32_t(steps_done_), uint32_t(settings_.view), offset};
    c.dispatch(pipe_, set_, p, groups);
}

void StandInChain::restart(engine::CommandBuffer& c, const ChainSettings& s, const HostSchedule& h) {
    settings_ = s;
    settings_.chains = std::clamp(s.chains, 1u, max_chains);
    schedule_ = h;
    steps_done_ = 0;
    progress_ = 0;
    schedule_pending_ = false;
    next_ = 1;
    alpha_bar_ = h.step_alpha_bar.front();
    history_capacity_ = uint32_t(k_history_bytes / (VkDeviceSize(settings_.chains) * pixels * 4));
    history_count_ = 0;
    dispatch(c, 0, settings_.chains, alpha_bar_, alpha_bar_);
    c.barrier();  // RAW: x_T → the history copy
    c.copy(x_, history_, VkDeviceSize(settings_.chains) * pixels * 4, 0, 0);
    history_count_ = 1;
}

void StandInChain::set_schedule(const HostSchedule& h) {
    if (progress_ > 0) {  // some chains already took this step: swap when it is complete
        pending_ = h;
        schedule_pending_ = true;
        return;
    }
    schedule_ = h;
    schedule_pending_ = false;
    // Continue from the current noise level: the next target is the first level less noisy than now.
    next_ = 0;
    while (next_ < int(h.step_alpha_bar.size()) && h.step_alpha_bar[next_] <= alpha_bar_ * (1 + 1e-9)) ++next_;
}

double StandInChain::alpha_bar_next() const {
    return next_ < int(schedule_.step_alpha_bar.size()) ? schedule_.step_alpha_bar[next_] : 1.0;
}

bool StandInChain::record_step(engine::CommandBuffer& c) {
    bool any = false;
    while (uint32_t n = record_part(c, settings_.chains)) {
        any = true;
        if (progress_ == 0) break;  // one whole step
        (void)n;
    }
    return any;
}

uint32_t StandInChain::record_part(engine::CommandBuffer& c, uint32_t max_chains) {
    if (done() || max_chains == 0) return 0;
    double ab = alpha_bar_, ab_next = alpha_bar_next();
    uint32_t n = std::min(max_chains, settings_.chains - progress_);
    c.barrier();  // RAW/WAR: earlier passes over x (last step, tiles, history copy) → this step
    dispatch(c, 1, n, ab, ab_next, progress_);
    progress_ += n;
    if (progress_ < settings_.chains) return n;
    // The step is complete for every chain.
    progress_ = 0;
    last_sigma_ = float(settings_.eta * std::sqrt((1 - ab_next) / std::max(1 - ab, 1e-12)) *
                        std::sqrt(std::max(1 - ab / ab_next, 0.0)));
    alpha_bar_ = ab_next;
    ++next_;
    ++steps_done_;
    if (history_count_ < history_capacity_) {
        c.barrier();  // RAW: the step's x → the copy into the trajectory
        VkDeviceSize bytes = VkDeviceSize(settings_.chains) * pixels * 4;
        c.copy(x_, history_, bytes, 0, history_count_ * bytes);
        ++history_count_;
    }
    if (schedule_pending_) set_schedule(pending_);
    return n;
}

void StandInChain::record_forward(engine::CommandBuffer& c, double ab) {
    c.barrier();  // WAR/WAW against earlier passes over the chain buffers
    dispatch(c, 2, settings_.chains, ab, ab);
}

}  // namespace diffuscope::app
