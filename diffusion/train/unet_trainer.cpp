#include "diffusion/train/unet_trainer.hpp"

#include "diffusion/io/safetensors.hpp"
#include "diffusion/model/weights.hpp"
#include "engine/timestamps.hpp"

#include <cmath>
#include <cstring>
#include <stdexcept>

namespace diffuscope::train {

using engine::Buffer;
using engine::Memory;

std::map<std::string, std::string> TrainConfig::to_metadata() const {
    auto m = model.to_metadata();
    m["batch"] = std::to_string(batch);
    m["lr"] = std::to_string(lr);
    m["warmup"] = std::to_string(warmup);
    m["weight_decay"] = std::to_string(weight_decay);
    m["max_grad_norm"] = std::to_string(max_grad_norm);
    m["ema_decay"] = std::to_string(ema_decay);
    m["p_uncond"] = std::to_string(p_uncond);
    m["level_min"] = std::to_string(level_min);
    m["level_max"] = std::to_string(level_max);
    m["seed"] = std::to_string(seed);
    return m;
}

void TrainConfig::from_metadata(const std::map<std::string, std::string>& m, const std::string& file) {
    model = nn::UNetConfig::from_metadata(m, file);
    auto get = [&](const char* key, auto& out) {
        auto it = m.find(key);
        if (it == m.end()) throw std::runtime_error(file + ": checkpoint metadata has no \"" + key + "\"");
        try {
            if constexpr (std::is_same_v<std::decay_t<decltype(out)>, float>) out = std::stof(it->second);
            else out = std::decay_t<decltype(out)>(std::stoull(it->second));
        } catch (const std::exception&) {
            throw std::runtime_error(file + ": checkpoint metadata \"" + key + "\" = \"" + it->second + "\" is not a number");
        }
    };
    get("batch", batch);
    get("lr", lr);
    get("warmup", warmup);
    get("weight_decay", weight_decay);
    get("max_grad_norm", max_grad_norm);
    get("ema_decay", ema_decay);
    get("p_uncond", p_uncond);
    get("level_min", level_min);
    get("level_max", level_max);
    get("seed", seed);
}

// Pack bytes 4 to a word (the shader unpacks little-endian).
static std::vector<uint32_t> pack_bytes(const std::vector<uint8_t>& b) {
    std::vector<uint32_t> w((b.size() + 3) / 4, 0);
    std::memcpy(w.data(), b.data(), b.size());
    return w;
}

Trainer::Trainer(engine::Context& ctx, const TrainConfig& cfg, const data::Mnist& train)
    : ctx_(&ctx), cfg_(cfg), data_count_(train.count), unet_(std::make_unique<nn::UNet>(ctx, cfg.model, cfg.batch, true)),
      opt_(ctx), mse_(ctx), batch_(ctx, {"train/batch.comp", 7, 32}), cmd_(ctx) {
    if (train.count == 0) throw std::invalid_argument("train: the training set is empty");
    if (train.rows != 28 || train.cols != 28)
        throw std::invalid_argument("train: images are " + std::to_string(train.rows) + "×" + std::to_string(train.cols) +
                                    ", the model takes 28×28");
    const uint64_t B = cfg.batch, P = unet_->params().total();
    auto px = pack_bytes(train.pixels), lb = pack_bytes(train.labels);
    pixels_ = Buffer(ctx, px.size() * 4);
    pixels_.upload(px);
    labels_ = Buffer(ctx, lb.size() * 4);
    labels_.upload(lb);
    step_buf_ = Buffer(ctx, 16, Memory::Upload);
    xt_ = Buffer(ctx, B * 784 * 4);
    level_ = Buffer(ctx, B * 4);
    label_ = Buffer(ctx, B * 4);
    target_ = Buffer(ctx, B * 784 * 4);
    out_ = Buffer(ctx, B * 784 * 4);
    dout_ = Buffer(ctx, B * 784 * 4);
    loss_ = Buffer(ctx, 16, Memory::Readback);
    loss_scratch_ = Buffer(ctx, std::max<uint64_t>(1, nn::MseLoss::scratch_count(B * 784)) * 4);
    m_ = Buffer(ctx, P * 4);
    v_ = Buffer(ctx, P * 4);
    ema_ = Buffer(ctx, P * 4);
    norm_scratch_ = Buffer(ctx, std::max<uint64_t>(1, nn::Optimizer::scratch_count(P)) * 4);
    state_ = Buffer(ctx, sizeof(nn::OptState), Memory::Upload);
    ts_ = std::make_unique<engine::Timestamps>(ctx, 8);
    record();
}

Trainer::~Trainer() = default;

void Trainer::record() {
    cmd_.begin();
    ts_->reset(cmd_);
    ts_->begin(cmd_, "step");
    record_body(cmd_);
    ts_->end(cmd_);
    cmd_.barrier_to_host();  // the host reads the loss and the optimiser state
    cmd_.end();
    ops_.clear();
    engine::CommandBuffer capture(*ctx_, ops_);
    record_body(capture);
    capture.barrier_to_host();
}

void Trainer::record_body(engine::CommandBuffer& cmd) {
    const uint32_t B = cfg_.batch, P = unet_->params().total();
    cmd.barrier_from_host();  // the host wrote the step number and the optimiser state
    cmd.barrier();            // WAR/WAW against the previous replay of this same work
    struct {
        uint32_t B, M, seed_lo, seed_hi;
        float p_uncond, lmin, lmax;
        uint32_t v_pred;
    } push{B, data_count_, uint32_t(cfg_.seed), uint32_t(cfg_.seed >> 32), cfg_.p_uncond, cfg_.level_min,
           cfg_.level_max, cfg_.model.prediction == nn::Prediction::v ? 1u : 0u};
    batch_.dispatch(cmd, {&pixels_, &labels_, &step_buf_, &xt_, &level_, &label_, &target_}, push,
                    engine::groups_for(uint64_t(B) * 784, 64));
    cmd.barrier();  // RAW: the UNet reads the batch
    unet_->record_forward(cmd, xt_, level_, label_, out_);
    cmd.barrier();  // RAW: the loss reads the prediction
    mse_.forward(cmd, uint64_t(B) * 784, out_, target_, loss_scratch_, loss_);
    cmd.barrier();
    mse_.backward(cmd, uint64_t(B) * 784, out_, target_, dout_);
    cmd.barrier();  // RAW: the backward reads dL/dout
    unet_->record_backward(cmd, dout_);
    cmd.barrier();  // RAW: the optimiser reads every gradient
    opt_.step(cmd, P, unet_->param_buffer(), unet_->grad_buffer(), m_, v_, ema_, norm_scratch_, state_);
}

void Trainer::init() {
    auto p = nn::unet_init(cfg_.model, unet_->params(), cfg_.seed);
    unet_->param_buffer().upload(p);
    ema_.upload(p);
    std::vector<float> zeros(p.size(), 0.0f);
    m_.upload(zeros);
    v_.upload(zeros);
    step_ = 0;
}

float Trainer::lr_at(uint64_t step) const {
    if (cfg_.warmup == 0 || step >= cfg_.warmup) return cfg_.lr;
    return cfg_.lr * float(step + 1) / float(cfg_.warmup);
}

void Trainer::begin_step() {
    nn::OptState st;
    st.lr = lr_at(step_);
    st.weight_decay = cfg_.weight_decay;
    st.max_grad_norm = cfg_.max_grad_norm;
    // EMA warm-up (as in Keras/timm): the decay grows from 0 so early weights do not dominate.
    st.ema_decay = std::min(cfg_.ema_decay, float(1.0 + step_) / float(10.0 + step_));
    st.set_step(uint32_t(step_ + 1));
    state_.upload(&st, sizeof st);
    uint32_t s = uint32_t(step_);
    step_buf_.upload(&s, 4);
}

StepResult Trainer::finish_step() {
    float loss = 0;
    loss_.download(&loss, 4);
    nn::OptState out;
    state_.download(&out, sizeof out);
    StepResult r{loss, out.grad_norm, out.skipped != 0 || !std::isfinite(loss)};
    ++step_;  // a skipped step still consumes its batch: the run stays a function of (seed, step)
    return r;
}

StepResult Trainer::step() {
    begin_step();
    cmd_.submit_and_wait();
    auto t = ts_->read();
    gpu_ms_ = t.empty() ? 0.0 : t[0].ms;
    return finish_step();
}

std::vector<float> Trainer::ema_weights() const { return ema_.download_as<float>(unet_->params().total()); }

void Trainer::save(const std::filesystem::path& path) const {
    const auto& table = unet_->params();
    io::SafeTensors st;
    st.metadata = cfg_.to_metadata();
    st.metadata["format"] = "diffuscope-checkpoint";
    st.metadata["step"] = std::to_string(step_);
    auto& self = const_cast<Trainer&>(*this);
    nn::put_weights(st, table, self.unet_->param_buffer().download_as<float>(table.total()));
    nn::put_weights(st, table, ema_.download_as<float>(table.total()), "ema/");
    nn::put_weights(st, table, m_.download_as<float>(table.total()), "adam_m/");
    nn::put_weights(st, table, v_.download_as<float>(table.total()), "adam_v/");
    io::write_safetensors(path, st);
}

void Trainer::export_ema(const std::filesystem::path& path) const {
    nn::save_weights(path, cfg_.model, ema_weights(),
                     {{"trained_steps", std::to_string(step_)}, {"seed", std::to_string(cfg_.seed)}});
}

namespace {

// The checkpoint's "step": decimal digits only, within uint64 (std::stoull would take "-5" as 2⁶⁴ − 5).
uint64_t parse_step(const std::map<std::string, std::string>& m, const std::string& file) {
    auto it = m.find("step");
    if (it == m.end()) throw std::runtime_error(file + ": checkpoint metadata has no \"step\"");
    const std::string& v = it->second;
    const bool digits = !v.empty() && v.size() <= 20 && v.find_first_not_of("0123456789") == std::string::npos;
    uint64_t step = 0;
    bool in_range = digits;
    for (char c : digits ? v : std::string()) {
        const uint64_t d = uint64_t(c - '0');
        if (step > (UINT64_MAX - d) / 10) in_range = false;
        step = step * 10 + d;
    }
    if (!in_range)
        throw std::runtime_error(file + ": checkpoint metadata \"step\" = \"" + v +
                                 "\" is not a step count (decimal digits, 0 to 18446744073709551615)");
    return step;
}

// Adam's second moment is a running mean of squares: a negative entry (or NaN/Inf, which take_weights already
// refuses) would make the next update NaN. Names the tensor and the first bad index.
void require_second_moment(const std::vector<float>& v, const nn::ParamTable& table, const std::string& file) {
    for (const auto& p : table.all())
        for (uint32_t i = 0; i < p.count; ++i)
            if (!(v[p.offset + i] >= 0.0f) || !std::isfinite(v[p.offset + i]))
                throw std::runtime_error(file + ": tensor \"adam_v/" + p.name + "\" holds " +
                                         std::to_string(v[p.offset + i]) + " at index " + std::to_string(i) +
                                         "; Adam's second moment must be finite and ≥ 0 — the checkpoint is corrupt");
}

}  // namespace

void Trainer::load(const std::filesystem::path& path) {
    auto st = io::read_safetensors(path);
    const std::string file = path.string();
    if (st.metadata["format"] != "diffuscope-checkpoint")
        throw std::runtime_error(file + ": not a training checkpoint (metadata format = \"" + st.metadata["format"] +
                                 "\"); --resume takes a file written by `diffuscope train --out`");
    TrainConfig saved;
    saved.from_metadata(st.metadata, file);
    const uint64_t step = parse_step(st.metadata, file);
    auto differs = [&](const char* what, auto a, auto b) {
        if (a != b)
            throw std::runtime_error(file + ": checkpoint has " + what + " = " + std::to_string(a) + ", this run " +
                                     std::to_string(b) + " — resume with the same settings");
    };
    differs("base", saved.model.base, cfg_.model.base);
    differs("emb_dim", saved.model.emb_dim, cfg_.model.emb_dim);
    differs("cond_dim", saved.model.cond_dim, cfg_.model.cond_dim);
    differs("batch", saved.batch, cfg_.batch);
    differs("seed", saved.seed, cfg_.seed);
    const auto& table = unet_->params();
    auto p = nn::take_weights(st, table), e = nn::take_weights(st, table, "ema/"),
         m = nn::take_weights(st, table, "adam_m/"), v = nn::take_weights(st, table, "adam_v/");
    require_second_moment(v, table, file);  // take_weights refused any non-finite value, naming the tensor
    unet_->param_buffer().upload(p);
    ema_.upload(e);
    m_.upload(m);
    v_.upload(v);
    step_ = step;
}

}  // namespace diffuscope::train
