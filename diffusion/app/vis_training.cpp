#include "diffusion/app/vis_training.hpp"

#include <chrono>

namespace diffuscope::app {

static double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

VisTraining::VisTraining(engine::Context& ctx, const data::Mnist& train, const TrainingSettings& s)
    : ctx_(&ctx), settings_(s) {
    train::TrainConfig cfg;
    cfg.model.base = uint32_t(s.base);
    cfg.model.prediction = nn::Prediction::v;  // as the bundled model (assets/MODEL.md: ε-prediction drew blobs)
    cfg.batch = uint32_t(s.batch);
    cfg.lr = s.lr;
    cfg.seed = s.seed;
    cfg.warmup = 50;
    cfg.ema_decay = 0.995f;  // short runs: an EMA that follows within ~200 steps
    trainer_ = std::make_unique<train::Trainer>(ctx, cfg, train);
    trainer_->init();
}

VisTraining::~VisTraining() = default;

Slice VisTraining::record(engine::CommandBuffer& c, uint32_t slot, bool running, double budget_ms, OpTimer* timer) {
    Slice out;
    if (slot >= slot_raw_ms_.size()) slot_raw_ms_.resize(slot + 1, 0.0);
    if (awaiting_slot_ >= 0 || stopped_on_nan()) return out;
    if (!in_step_) {
        if (!running) return out;
        trainer_->begin_step();  // safe: the previous step finished (its slot's fence) before its result was read
        in_step_ = true;
        pos_ = 0;
    }
    c.barrier();  // RAW/WAR: this step's earlier slices, in earlier frames
    if (replay_within_budget(c, trainer_->step_ops(), pos_, budget_ms, out, &costs_, timer)) awaiting_slot_ = int(slot);
    slot_raw_ms_[slot] = out.raw_ms;
    return out;
}

void VisTraining::slot_finished(uint32_t slot, double train_pass_ms, const OpTimer* timer) {
    if (timer) timer->harvest(costs_);
    if (slot < slot_raw_ms_.size() && slot_raw_ms_[slot] > 0 && train_pass_ms > 0)
        costs_.calibrate(slot_raw_ms_[slot], train_pass_ms);
    if (slot < slot_raw_ms_.size()) slot_raw_ms_[slot] = 0;
    if (awaiting_slot_ != int(slot)) return;
    awaiting_slot_ = -1;
    in_step_ = false;
    const train::StepResult r = trainer_->finish_step();
    if (r.skipped) {
        ++skipped_;
        ++consecutive_skips_;
    } else {
        consecutive_skips_ = 0;
        losses_.push_back(r.loss);
    }
    const double t = now_s();
    if (last_finish_s_ > 0) {
        const double rate = settings_.batch / std::max(t - last_finish_s_, 1e-6);
        images_per_second_ = images_per_second_ > 0 ? 0.8 * images_per_second_ + 0.2 * rate : rate;
    }
    last_finish_s_ = t;
}

double VisTraining::step_ms_estimate() const {
    const auto& ops = trainer_->step_ops();
    double ms = 0;
    for (size_t i = 0; i < ops.size(); ++i)
        if (uint64_t sig = ops.signature(i)) ms += costs_.predict(sig);
    return costs_.known() ? ms : 0.0;
}

nn::Weights VisTraining::ema_weights() const { return nn::Weights{trainer_->config().model, trainer_->ema_weights()}; }

}  // namespace diffuscope::app
