#include "diffusion/vis/step_slicer.hpp"

#include <algorithm>

namespace diffuscope::vis {

double OpCosts::raw(uint64_t signature) const {
    auto it = ms_.find(signature);
    if (it != ms_.end()) return it->second;
    return ms_.empty() ? 1.0 : sum_ / double(ms_.size());
}

void OpCosts::learn(uint64_t signature, double ms) {
    if (!(ms >= 0) || ms > 1e4) return;  // a wrapped or missing timestamp
    auto [it, fresh] = ms_.try_emplace(signature, ms);
    const double before = fresh ? 0.0 : it->second;
    if (!fresh) it->second = 0.7 * it->second + 0.3 * ms;  // smoothed: the host is shared, times jitter
    sum_ += it->second - before;
}

void OpCosts::calibrate(double raw_ms, double measured_ms) {
    if (!(raw_ms > 1e-3) || !(measured_ms >= 0) || measured_ms > 1e5) return;
    const double ratio = std::clamp(measured_ms / raw_ms, 1e-3, 1e3);
    scale_ = 0.7 * scale_ + 0.3 * ratio;
}

void OpTimer::harvest(OpCosts& costs) const {
    if (!timestamps || signatures.empty()) return;
    const auto times = timestamps->read();
    for (size_t i = 0; i < times.size() && i < signatures.size(); ++i) costs.learn(signatures[i], times[i].ms);
}

bool replay_within_budget(engine::CommandBuffer& c, const engine::CommandList& list, size_t& pos, double budget_ms,
                          Slice& out, const OpCosts* costs, OpTimer* timer) {
    bool open = false;
    auto close = [&] {
        if (open) timer->timestamps->end(c);
        open = false;
    };
    if (pos == 0 && out.dispatches > 0 && costs) {
        // Do not start a list with its leading barriers only to stop at its first dispatch: a list not begun is
        // cheaper to change (vis/chains: mid_step()).
        size_t first = 0;
        while (first < list.size() && !list.signature(first)) ++first;
        if (first < list.size() && out.predicted_ms + costs->predict(list.signature(first)) > budget_ms) return false;
    }
    for (; pos < list.size(); ++pos) {
        const uint64_t sig = list.signature(pos);
        if (sig) {
            const double cost = costs ? costs->predict(sig) : 0.0, raw = costs ? costs->raw(sig) : 0.0;
            if (out.dispatches > 0 && out.predicted_ms + cost > budget_ms) {
                close();
                return false;
            }
            close();
            if (timer && timer->timestamps && timer->signatures.size() < timer->capacity) {
                timer->timestamps->begin(c, "op");
                timer->signatures.push_back(sig);
                open = true;
            }
            ++out.dispatches;
            out.predicted_ms += cost;
            out.raw_ms += raw;
        }
        list.replay(c, pos, pos + 1);
        ++out.operations;
    }
    close();
    return true;
}

}  // namespace diffuscope::vis

namespace diffuscope::vis {

OpTimer& StepSlicer::timer_for(engine::CommandBuffer& c, uint32_t slot) {
    while (timers_.size() <= slot) {
        constexpr uint32_t k_timed_ops = 256;  // a UNet training step's dispatches; an MLP step has ~40
        stamps_.push_back(std::make_unique<engine::Timestamps>(*ctx_, k_timed_ops));
        timers_.push_back({stamps_.back().get(), k_timed_ops, {}});
    }
    timers_[slot].reset(c);
    return timers_[slot];
}

bool StepSlicer::ready(uint32_t slot, bool running) {
    if (slot >= slot_raw_ms_.size()) slot_raw_ms_.resize(slot + 1, 0.0);
    if (awaiting_slot_ >= 0) return false;
    return in_step_ || running;
}

Slice StepSlicer::replay(engine::CommandBuffer& c, uint32_t slot, double budget_ms, const engine::CommandList& ops,
                         OpTimer& timer) {
    Slice out;
    c.barrier();  // RAW/WAR: this step's earlier slices, in earlier frames
    if (replay_within_budget(c, ops, pos_, budget_ms, out, &costs_, &timer)) awaiting_slot_ = int(slot);
    slot_raw_ms_[slot] = out.raw_ms;
    return out;
}

double pass_ms(const std::vector<engine::PassTime>& passes, std::string_view name) {
    double ms = 0;
    for (const auto& p : passes)
        if (p.name == name) ms = p.ms;
    return ms;
}

bool StepSlicer::slot_finished(uint32_t slot, double pass_ms) {
    if (slot < timers_.size()) {
        timers_[slot].harvest(costs_);
        timers_[slot].signatures.clear();
    }
    if (slot < slot_raw_ms_.size() && slot_raw_ms_[slot] > 0 && pass_ms > 0) costs_.calibrate(slot_raw_ms_[slot], pass_ms);
    if (slot < slot_raw_ms_.size()) slot_raw_ms_[slot] = 0;
    if (awaiting_slot_ != int(slot)) return false;
    awaiting_slot_ = -1;
    in_step_ = false;
    return true;
}

double StepSlicer::step_ms_estimate(const engine::CommandList& ops) const {
    double ms = 0;
    for (size_t i = 0; i < ops.size(); ++i)
        if (uint64_t sig = ops.signature(i)) ms += costs_.predict(sig);
    return costs_.known() ? ms : 0.0;
}

}  // namespace diffuscope::vis
