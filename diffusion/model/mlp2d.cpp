#include "diffusion/model/mlp2d.hpp"

#include "diffusion/model/sinusoid.hpp"

#include <cmath>
#include <random>
#include <stdexcept>

namespace diffuscope::nn {

using engine::Buffer;
using engine::CommandBuffer;
using engine::groups_for;

namespace {
constexpr uint32_t k_in = 2;  // the point
uint32_t align4(uint32_t n) { return (n + 3u) & ~3u; }
}  // namespace

ParamTable mlp2d_params(const Mlp2dConfig& c) {
    ParamTable t;
    const int64_t H = c.hidden, in = k_in + c.emb;
    t.add("fc1.weight", {H, in});
    t.add("fc1.bias", {H});
    t.add("fc2.weight", {H, H});
    t.add("fc2.bias", {H});
    t.add("fc3.weight", {H, H});
    t.add("fc3.bias", {H});
    t.add("fc4.weight", {k_in, H});
    t.add("fc4.bias", {k_in});
    return t;
}

std::vector<float> mlp2d_init(const Mlp2dConfig& c, uint64_t seed) {
    const auto t = mlp2d_params(c);
    std::vector<float> flat(t.total(), 0.0f);
    std::mt19937_64 gen(seed);
    for (const auto& p : t.all()) {
        const double fan_in = p.name.starts_with("fc1") ? double(k_in + c.emb) : double(c.hidden);
        std::uniform_real_distribution<double> u(-1.0 / std::sqrt(fan_in), 1.0 / std::sqrt(fan_in));
        for (uint32_t i = 0; i < p.count; ++i) flat[p.offset + i] = float(u(gen));
    }
    return flat;
}

double mlp2d_flops_per_sample(const Mlp2dConfig& c) {
    const double H = c.hidden;
    return 2.0 * (H * (k_in + c.emb) + 2 * H * H + k_in * H);
}

Mlp2d::Mlp2d(engine::Context& ctx, const Mlp2dConfig& cfg, uint32_t batch, bool training)
    : ctx_(&ctx), cfg_(cfg), table_(mlp2d_params(cfg)), batch_(batch), training_(training), conv_(ctx), silu_(ctx),
      input_(ctx, {"nn/mlp2d_input.comp", 3, 40}), transpose_(ctx, {"nn/transpose.comp", 2, 16}) {
    if (batch == 0) throw std::invalid_argument("mlp2d: batch is 0");
    if (cfg.hidden == 0 || cfg.emb < 4 || cfg.emb % 2 || cfg.emb > 2048)
        throw std::invalid_argument("mlp2d: hidden must be ≥ 1 and emb even and in [4, 2048] (the sinusoidal embedding's range)");
    if (!(cfg.level_lo < cfg.level_hi)) throw std::invalid_argument("mlp2d: level_lo must be below level_hi");
    const uint32_t N = batch, H = cfg.hidden;
    uint32_t at = 0;
    auto take = [&](uint32_t n) {
        const uint32_t o = at;
        at += align4(n);
        return o;
    };
    off_.h = take(N * (k_in + cfg.emb));
    off_.z1 = take(N * H);
    off_.a1 = take(N * H);
    off_.z2 = take(N * H);
    off_.a2 = take(N * H);
    off_.z3 = take(N * H);
    off_.a3 = take(N * H);
    off_.out_t = take(N * k_in);
    off_.total = at;
    act_ = Buffer(ctx, uint64_t(at) * 4);
    if (training) {
        grads_ = Buffer(ctx, uint64_t(table_.total()) * 4);
        // The padding between tensors (fc4.bias has 2 floats, padded to 4) is never written by a layer, yet the
        // gradient norm and AdamW run over the whole flat buffer: it must start zero (as the UNet's), or fresh
        // memory's garbage leaks into the clip scale. Found by VisSlicing.LearnedField…: two trainers with the
        // same seed disagreed from their second step.
        engine::one_shot(ctx, [&](engine::CommandBuffer& c) { c.fill(grads_, 0); });
        // The gradients of the activations (da) and of the pre-activations (dz) live in separate buffers: a
        // layer's weight gradient reads dz while its data gradient writes the next da, and bindings are whole
        // buffers, so one buffer would look like a write-after-read hazard between the two.
        da_ = Buffer(ctx, uint64_t(N) * H * 4);
        dz_ = Buffer(ctx, uint64_t(N) * H * 4);
        dout_t_ = Buffer(ctx, uint64_t(N) * k_in * 4);
    }
}

Buffer& Mlp2d::grad_buffer() {
    if (!training_) throw std::logic_error("mlp2d: built for inference, it has no gradients");
    return grads_;
}

void Mlp2d::record_forward(CommandBuffer& cmd, View params, View x, View level, View out) {
    const uint32_t N = batch_, H = cfg_.hidden, D = cfg_.emb;
    check_view("mlp2d.forward: params", params, table_.total());
    check_view("mlp2d.forward: x", x, uint64_t(N) * k_in);
    check_view("mlp2d.forward: level", level, N);
    check_view("mlp2d.forward: out", out, uint64_t(N) * k_in);
    auto a = [&](uint32_t o) { return View(act_, o); };
    auto p = [&](const char* name) { return params.at(table_[name].offset); };
    const auto step = sinusoid_log2_step(D / 2);
    struct {
        uint32_t n, half_d, x_off, level_off, h_off;
        float scale, lo, hi, step_hi, step_lo;
    } ip{N, D / 2, x.offset, level.offset, off_.h, cfg_.emb_scale, cfg_.level_lo, cfg_.level_hi, step[0], step[1]};
    input_.dispatch(cmd, {x.buffer, level.buffer, &act_}, ip, groups_for(N, 64));
    cmd.barrier();  // RAW: h → fc1
    conv_.forward(cmd, fc(k_in + D, H), a(off_.h), p("fc1.weight"), p("fc1.bias"), a(off_.z1));
    cmd.barrier();
    silu_.forward(cmd, uint64_t(N) * H, a(off_.z1), a(off_.a1));
    cmd.barrier();
    conv_.forward(cmd, fc(H, H), a(off_.a1), p("fc2.weight"), p("fc2.bias"), a(off_.z2));
    cmd.barrier();
    silu_.forward(cmd, uint64_t(N) * H, a(off_.z2), a(off_.a2));
    cmd.barrier();
    conv_.forward(cmd, fc(H, H), a(off_.a2), p("fc3.weight"), p("fc3.bias"), a(off_.z3));
    cmd.barrier();
    silu_.forward(cmd, uint64_t(N) * H, a(off_.z3), a(off_.a3));
    cmd.barrier();  // RAW: a3 → fc4
    conv_.forward(cmd, fc(H, k_in), a(off_.a3), p("fc4.weight"), p("fc4.bias"), a(off_.out_t));
    cmd.barrier();  // RAW: v̂ [2,N] → its transpose
    struct { uint32_t r, c, x_off, y_off; } tp{k_in, N, off_.out_t, out.offset};
    transpose_.dispatch(cmd, {&act_, out.buffer}, tp, groups_for(uint64_t(N) * k_in, 64));
    x_ = x;
}

void Mlp2d::record_backward(CommandBuffer& cmd, View params, View dout) {
    if (!training_) throw std::logic_error("mlp2d: built for inference, it has no backward");
    if (!x_) throw std::logic_error("mlp2d: record_forward must come before record_backward");
    const uint32_t N = batch_, H = cfg_.hidden, D = cfg_.emb;
    check_view("mlp2d.backward: dout", dout, uint64_t(N) * k_in);
    auto a = [&](uint32_t o) { return View(act_, o); };
    const View da(da_), dz(dz_), dout_t(dout_t_);
    auto p = [&](const char* name) { return params.at(table_[name].offset); };
    auto g = [&](const char* name) { return View(grads_, table_[name].offset); };
    struct { uint32_t r, c, x_off, y_off; } tp{N, k_in, dout.offset, 0};
    transpose_.dispatch(cmd, {dout.buffer, &dout_t_}, tp, groups_for(uint64_t(N) * k_in, 64));
    cmd.barrier();  // RAW: dv̂ [2,N] → fc4
    // Each fc: dW = dz·inputᵀ, db = Σ dz, and the input's gradient Wᵀ·dz — independent, so no barrier between.
    conv_.backward_weight(cmd, fc(H, k_in), a(off_.a3), dout_t, g("fc4.weight"), g("fc4.bias"));
    conv_.backward_data(cmd, fc(H, k_in), dout_t, p("fc4.weight"), da);
    cmd.barrier();  // RAW: da3 → SiLU'
    silu_.backward(cmd, uint64_t(N) * H, a(off_.z3), da, dz);
    cmd.barrier();  // RAW: dz3 → fc3
    conv_.backward_weight(cmd, fc(H, H), a(off_.a2), dz, g("fc3.weight"), g("fc3.bias"));
    conv_.backward_data(cmd, fc(H, H), dz, p("fc3.weight"), da);
    cmd.barrier();  // RAW: da2 → SiLU'; WAR: fc3's reads of dz before SiLU' overwrites it
    silu_.backward(cmd, uint64_t(N) * H, a(off_.z2), da, dz);
    cmd.barrier();
    conv_.backward_weight(cmd, fc(H, H), a(off_.a1), dz, g("fc2.weight"), g("fc2.bias"));
    conv_.backward_data(cmd, fc(H, H), dz, p("fc2.weight"), da);
    cmd.barrier();
    silu_.backward(cmd, uint64_t(N) * H, a(off_.z1), da, dz);
    cmd.barrier();  // RAW: dz1 → fc1's weight gradient (the input h needs no gradient: x and λ are data)
    conv_.backward_weight(cmd, fc(k_in + D, H), a(off_.h), dz, g("fc1.weight"), g("fc1.bias"));
}

Denoiser mlp2d_denoiser(engine::Context& ctx, const Mlp2dConfig& cfg, const Buffer& params, std::string name) {
    Denoiser d;
    d.name = std::move(name);
    d.prediction = diffuscope::Prediction::v;
    d.dim = k_in;
    d.bind = [&ctx, cfg, &params](const DenoiserIo& io) -> Denoiser::Recorder {
        auto net = std::make_shared<Mlp2d>(ctx, cfg, io.batch, false);
        return [net, io, &params](CommandBuffer& cmd) {
            net->record_forward(cmd, View(params), View(*io.x), View(*io.level), View(*io.out));
        };
    };
    return d;
}

}  // namespace diffuscope::nn
