// train::Mlp2dTrainer (diffusion/train/mlp2d_trainer.hpp): the 2-D denoiser's training step, recorded once, replayed.
#include "diffusion/train/mlp2d_trainer.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace diffuscope::train {

using engine::Buffer;
using engine::Memory;
using nn::MseLoss;
using nn::Optimizer;
using nn::OptState;

Mlp2dTrainer::Mlp2dTrainer(engine::Context& ctx, const Mlp2dTrainConfig& cfg, const std::vector<float>& points)
    : ctx_(&ctx), cfg_(cfg), count_(uint32_t(points.size() / 2)), net_(ctx, cfg.model, cfg.batch, true), mse_(ctx),
      opt_(ctx), batch_(ctx, {"train/batch2d.comp", 5, 24}), cmd_(ctx) {
    if (points.empty() || points.size() % 2)
        throw std::invalid_argument("mlp2d train: need a non-empty list of (x, y) points, got " +
                                    std::to_string(points.size()) + " floats");
    const uint64_t B = cfg.batch, P = net_.params().total();
    points_ = Buffer(ctx, points.size() * 4);
    points_.upload(points);
    step_buf_ = Buffer(ctx, 16, Memory::Upload);
    xt_ = Buffer(ctx, B * 2 * 4);
    level_ = Buffer(ctx, B * 4);
    target_ = Buffer(ctx, B * 2 * 4);
    out_ = Buffer(ctx, B * 2 * 4);
    dout_ = Buffer(ctx, B * 2 * 4);
    loss_ = Buffer(ctx, 16, Memory::Readback);
    loss_scratch_ = Buffer(ctx, std::max<uint64_t>(1, MseLoss::scratch_count(B * 2)) * 4);
    params_ = Buffer(ctx, P * 4);
    m_ = Buffer(ctx, P * 4);
    v_ = Buffer(ctx, P * 4);
    ema_ = Buffer(ctx, P * 4);
    norm_scratch_ = Buffer(ctx, std::max<uint64_t>(1, Optimizer::scratch_count(P)) * 4);
    state_ = Buffer(ctx, sizeof(OptState), Memory::Upload);
    const auto w = mlp2d_init(cfg.model, cfg.seed);
    params_.upload(w);
    ema_.upload(w);
    const std::vector<float> zeros(P, 0.0f);
    m_.upload(zeros);
    v_.upload(zeros);
    record();
}

void Mlp2dTrainer::record() {
    cmd_.begin();
    record_body(cmd_);
    cmd_.end();
    ops_.clear();
    engine::CommandBuffer capture(*ctx_, ops_);
    record_body(capture);
}

void Mlp2dTrainer::record_body(engine::CommandBuffer& cmd) {
    const uint32_t B = cfg_.batch, P = net_.params().total();
    cmd.barrier_from_host();  // the host wrote the step number and the optimiser state
    cmd.barrier();            // WAR/WAW against the previous step, and against frames that read the weights
    struct { uint32_t B, M, seed_lo, seed_hi; float lmin, lmax; } push{
        B, count_, uint32_t(cfg_.seed), uint32_t(cfg_.seed >> 32), cfg_.model.level_lo, cfg_.model.level_hi};
    batch_.dispatch(cmd, {&points_, &step_buf_, &xt_, &level_, &target_}, push, engine::groups_for(B, 64));
    cmd.barrier();  // RAW: the net reads the batch
    net_.record_forward(cmd, params_, xt_, level_, out_);
    cmd.barrier();  // RAW: the loss reads the prediction
    mse_.forward(cmd, uint64_t(B) * 2, out_, target_, loss_scratch_, loss_);
    mse_.backward(cmd, uint64_t(B) * 2, out_, target_, dout_);
    cmd.barrier();  // RAW: the backward reads dL/dv̂
    net_.record_backward(cmd, params_, dout_);
    cmd.barrier();  // RAW: the optimiser reads every gradient
    opt_.step(cmd, P, params_, net_.grad_buffer(), m_, v_, ema_, norm_scratch_, state_);
    cmd.barrier_to_host();  // the host reads the loss and the optimiser's verdict
}

Mlp2dTrainer::Result Mlp2dTrainer::step() {
    begin_step();
    cmd_.submit_and_wait();
    return finish_step();
}

void Mlp2dTrainer::begin_step() {
    OptState st;
    st.lr = cfg_.lr;
    st.max_grad_norm = cfg_.max_grad_norm;
    st.ema_decay = std::min(cfg_.ema_decay, float(1.0 + step_) / float(10.0 + step_));  // EMA warm-up
    st.set_step(uint32_t(step_ + 1));
    state_.upload(&st, sizeof st);
    const uint32_t s = uint32_t(step_);
    step_buf_.upload(&s, 4);
}

Mlp2dTrainer::Result Mlp2dTrainer::finish_step() {
    float loss = 0;
    loss_.download(&loss, 4);
    OptState out;
    state_.download(&out, sizeof out);
    ++step_;  // a skipped step still consumes its batch
    return {loss, out.skipped != 0 || !std::isfinite(loss)};
}

}  // namespace diffuscope::train
