// diffusion/vis/step_slicer.hpp — "never stutter": GPU work far larger than a frame (a UNet sampler step, a training
// step) is captured once into an engine::CommandList and replayed a few operations per frame, as many as the
// per-operation costs measured in earlier frames predict will fit the frame's GPU-time budget.
#pragma once
#include "engine/command_list.hpp"
#include "engine/timestamps.hpp"

#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace diffuscope::vis {

// GPU milliseconds per captured operation (by CommandList::signature): the relative cost of each operation from
// per-operation timestamps, times a scale calibrated against the timestamps around the whole slice. Per-operation
// timestamps alone cannot be trusted for the total: on lavapipe the work between a dispatch's timestamps and the
// next one's (flushes, state setup) is most of the time, and their sum fell 5–10× short of the slice's time.
class OpCosts {
public:
    // What the operation is expected to take. Unknown work costs the mean of what is known (1 ms before anything
    // is), so the first frame runs a handful of operations and learns from them.
    double predict(uint64_t signature) const { return raw(signature) * scale_; }
    double raw(uint64_t signature) const;
    void learn(uint64_t signature, double ms);
    // A slice whose operations' raw costs summed to `raw_ms` took `measured_ms` in all.
    void calibrate(double raw_ms, double measured_ms);
    size_t known() const { return ms_.size(); }
    double scale() const { return scale_; }

private:
    std::unordered_map<uint64_t, double> ms_;
    double sum_ = 0, scale_ = 1;
};

// The per-operation timestamps of one frame: which signature each timestamp pair belongs to.
struct OpTimer {
    engine::Timestamps* timestamps = nullptr;
    uint32_t capacity = 0;
    std::vector<uint64_t> signatures;
    void reset(engine::CommandBuffer& c) {
        signatures.clear();
        if (timestamps) timestamps->reset(c);
    }
    // After the frame's fence: feed what was measured into `costs`.
    void harvest(OpCosts& costs) const;
};

// What one budgeted call recorded.
struct Slice {
    uint32_t chains = 0;       // chain-steps completed (whole groups)
    uint32_t operations = 0;   // captured operations replayed (barriers and copies included)
    uint32_t dispatches = 0;   // of which dispatches
    double predicted_ms = 0;   // their predicted GPU time
    double raw_ms = 0;         // the same before the calibrated scale (OpCosts::calibrate)
};

// Replays `list` from `pos` while the predicted cost of the next dispatch still fits `budget_ms` (always at least one
// dispatch per call, counting `out.dispatches` already made), advancing `pos` and adding to `out`. Each timed unit
// is a dispatch and the barriers after it, up to the next dispatch: a driver may return from a dispatch before it
// has run (lavapipe does) and wait at the barrier, so the barrier's time is the dispatch's. A slice stops only in
// front of a dispatch, so every unit is whole. Returns true when the list has been replayed to its end.
bool replay_within_budget(engine::CommandBuffer&, const engine::CommandList& list, size_t& pos, double budget_ms,
                          Slice& out, const OpCosts* costs, OpTimer* timer);

// The GPU milliseconds of the pass named `name` among a frame slot's timestamps (0 when it did not run).
double pass_ms(const std::vector<engine::PassTime>& passes, std::string_view name);

// One kind of step (a training step) captured once and replayed across frames, a budget's worth per frame, with the
// frame-slot bookkeeping that makes it safe: a new step begins only after the slot holding the last slice of the
// previous one has finished (its fence), so the host may write the step's values then and read its result.
// Used by the training panel (the UNet) and the learned 2-D field (the MLP).
// It times its own operations (per-operation timestamps, one set per frame slot).
class StepSlicer {
public:
    explicit StepSlicer(engine::Context& ctx) : ctx_(&ctx) {}
    // This frame's slice, recorded into `c` for frame slot `slot`. Calls `begin()` before the first slice of a new
    // step (only when `running`); records nothing while a finished step's result is still on its way.
    template <class Begin>
    Slice record(engine::CommandBuffer& c, uint32_t slot, bool running, double budget_ms, const engine::CommandList& ops,
                 Begin&& begin) {
        OpTimer& timer = timer_for(c, slot);
        if (!ready(slot, running)) return {};
        if (!in_step_) {
            begin();
            in_step_ = true;
            pos_ = 0;
        }
        return replay(c, slot, budget_ms, ops, timer);
    }
    // Frame slot `slot` has finished: learn the costs it measured (its operations' timestamps, and `pass_ms`, the
    // slot's timestamps around the slice). True when it held the last slice of a step: read that step's result now.
    bool slot_finished(uint32_t slot, double pass_ms);
    bool mid_step() const { return in_step_; }
    double step_ms_estimate(const engine::CommandList& ops) const;  // 0 until costs are known

private:
    OpTimer& timer_for(engine::CommandBuffer&, uint32_t slot);  // the slot's timer, made on first use and reset
    bool ready(uint32_t slot, bool running);
    Slice replay(engine::CommandBuffer&, uint32_t slot, double budget_ms, const engine::CommandList&, OpTimer&);
    engine::Context* ctx_;
    std::vector<std::unique_ptr<engine::Timestamps>> stamps_;  // per frame slot
    std::vector<OpTimer> timers_;
    OpCosts costs_;
    size_t pos_ = 0;
    bool in_step_ = false;
    int awaiting_slot_ = -1;           // the slot holding the finished step's last slice
    std::vector<double> slot_raw_ms_;  // raw predicted cost recorded per slot (calibration)
};

}  // namespace diffuscope::vis
