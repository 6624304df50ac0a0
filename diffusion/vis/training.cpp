#include "diffusion/vis/training.hpp"

#include <chrono>

namespace diffuscope::vis {

static double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

VisTraining::VisTraining(engine::Context& ctx, const data::Mnist& train, const TrainingSettings& s)
    : ctx_(&ctx), settings_(s), slicer_(ctx) {
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

Slice VisTraining::record(engine::CommandBuffer& c, uint32_t slot, bool running, double budget_ms) {
    if (stopped_on_nan()) return {};
    // begin_step() is safe there: the previous step finished (its slot's fence) before its result was read.
    return slicer_.record(c, slot, running, budget_ms, trainer_->step_ops(), [&] { trainer_->begin_step(); });
}

void VisTraining::slot_finished(uint32_t slot, double train_pass_ms) {
    if (!slicer_.slot_finished(slot, train_pass_ms)) return;
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

double VisTraining::step_ms_estimate() const { return slicer_.step_ms_estimate(trainer_->step_ops()); }

nn::Weights VisTraining::ema_weights() const { return nn::Weights{trainer_->config().model, trainer_->ema_weights()}; }

}  // namespace diffuscope::vis
