// train::ClassifierTrainer (diffusion/train/classifier_trainer.hpp).
#include "diffusion/train/classifier_trainer.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace diffuscope::train {

namespace {

// Image i shifted by (dx, dy) with zeros coming in, as floats in [0, 1].
void put_shifted(const data::Mnist& d, size_t i, int dx, int dy, float* out) {
    auto img = d.image(i);
    for (int y = 0; y < 28; ++y)
        for (int x = 0; x < 28; ++x) {
            const int sx = x - dx, sy = y - dy;
            out[y * 28 + x] = (sx >= 0 && sx < 28 && sy >= 0 && sy < 28) ? img[size_t(sy) * 28 + sx] / 255.0f : 0.0f;
        }
}

const data::Mnist& checked(const ClassifierTrainConfig& cfg, const data::Mnist& train) {
    if (cfg.epochs == 0 || cfg.batch == 0)
        throw std::invalid_argument("train-classifier: --epochs and --batch must be positive");
    if (cfg.shift < 0 || cfg.shift > 4)
        throw std::invalid_argument("train-classifier: --shift " + std::to_string(cfg.shift) + " is outside [0, 4]");
    if (train.rows != 28 || train.cols != 28)
        throw std::invalid_argument("train-classifier: the images are " + std::to_string(train.rows) + "×" +
                                    std::to_string(train.cols) + ", not 28×28");
    if (train.count < cfg.batch)
        throw std::invalid_argument("train-classifier: " + std::to_string(train.count) +
                                    " training images, fewer than one batch of " + std::to_string(cfg.batch));
    return train;
}

}  // namespace

ClassifierTrainer::ClassifierTrainer(engine::Context& ctx, const ClassifierTrainConfig& cfg, const data::Mnist& train)
    : ctx_(&ctx), cfg_(cfg), train_(&checked(cfg, train)), P_(uint32_t(nn::Classifier::params().total())),
      steps_per_epoch_(train.count / cfg.batch), total_(steps_per_epoch_ * cfg.epochs),
      warmup_(std::min(100u, total_ / 10)), net_(ctx, cfg.batch, true), opt_(ctx),
      m_(ctx, uint64_t(P_) * 4), v_(ctx, uint64_t(P_) * 4),
      scratch_(ctx, std::max<uint64_t>(1, nn::Optimizer::scratch_count(P_)) * 4),
      state_(ctx, sizeof(nn::OptState), engine::Memory::Upload),
      x_(ctx, uint64_t(cfg.batch) * 784 * 4, engine::Memory::Upload),
      labels_(ctx, uint64_t(cfg.batch) * 4, engine::Memory::Upload),
      loss_(ctx, uint64_t(cfg.batch) * 4, engine::Memory::Readback), cmd_(ctx), gen_(cfg.seed),
      shift_(-cfg.shift, cfg.shift), order_(train.count), xb_(size_t(cfg.batch) * 784), lb_(cfg.batch) {
    net_.param_buffer().upload(nn::Classifier::init(cfg.seed));
    engine::one_shot(ctx, [&](engine::CommandBuffer& c) {
        c.fill(m_, 0);
        c.fill(v_, 0);
    });
    std::iota(order_.begin(), order_.end(), 0u);
    record();
}

void ClassifierTrainer::record() {
    const uint32_t B = cfg_.batch;
    cmd_.begin();
    cmd_.barrier_from_host();  // the batch, its labels and the optimiser state
    net_.record_forward(cmd_, x_);
    net_.record_loss_and_backward(cmd_, labels_);
    cmd_.barrier();  // RAW: the optimiser reads every gradient
    opt_.grad_norm(cmd_, P_, net_.grad_buffer(), scratch_, state_);
    cmd_.barrier();
    opt_.adamw(cmd_, P_, net_.param_buffer(), net_.grad_buffer(), m_, v_, state_);
    cmd_.copy(net_.activations(), loss_, uint64_t(B) * 4, uint64_t(net_.loss().offset) * 4, 0);
    cmd_.barrier_to_host();
    cmd_.end();
}

void ClassifierTrainer::fill_batch(uint32_t first) {
    for (uint32_t i = 0; i < cfg_.batch; ++i) {
        const uint32_t idx = order_[first + i];
        const int dx = shift_(gen_), dy = shift_(gen_);
        put_shifted(*train_, idx, dx, dy, &xb_[size_t(i) * 784]);
        lb_[i] = train_->labels[idx];
    }
}

nn::OptState ClassifierTrainer::opt_state() const {
    nn::OptState st;  // warm-up, then cosine decay to 5 % of lr
    const double progress = double(step_) / double(std::max(1u, total_ - 1));
    st.lr = step_ < warmup_ ? cfg_.lr * float(step_ + 1) / float(warmup_)
                            : float(cfg_.lr * (0.05 + 0.95 * 0.5 * (1 + std::cos(M_PI * progress))));
    st.weight_decay = 1e-4f;
    st.max_grad_norm = 5.0f;
    st.set_step(step_ + 1);
    return st;
}

double ClassifierTrainer::epoch() {
    const uint32_t B = cfg_.batch;
    std::shuffle(order_.begin(), order_.end(), gen_);
    double epoch_loss = 0;
    for (uint32_t s = 0; s < steps_per_epoch_; ++s, ++step_) {
        fill_batch(s * B);
        x_.upload(xb_);
        labels_.upload(lb_);
        const nn::OptState st = opt_state();
        state_.upload(&st, sizeof st);
        cmd_.submit_and_wait();
        double mean = 0;
        for (float l : loss_.download_as<float>(B)) mean += l;
        mean /= B;
        if (!std::isfinite(mean))
            throw std::runtime_error("train-classifier: the loss is not finite at step " + std::to_string(step_));
        epoch_loss += mean;
    }
    return epoch_loss / steps_per_epoch_;
}

std::vector<float> ClassifierTrainer::weights() { return net_.param_buffer().download_as<float>(P_); }

}  // namespace diffuscope::train
