#include "diffusion/model/optim.hpp"

#include <cmath>
#include <stdexcept>

namespace diffuscope::nn {

using engine::CommandBuffer;
using engine::groups_for;

static constexpr uint32_t k_wg = 256, k_items = 16;

void OptState::set_step(uint32_t t) {
    step = t;
    // 1 − β^t = −expm1(t·log β), log β = log1p(β − 1): no cancellation for β near 1
    bias_correction1 = float(-std::expm1(double(t) * std::log1p(double(beta1) - 1.0)));
    bias_correction2 = float(-std::expm1(double(t) * std::log1p(double(beta2) - 1.0)));
}

Optimizer::Optimizer(engine::Context& ctx)
    : partial_(ctx, {"nn/grad_norm.comp", 2, 3 * 4, {k_wg, k_items}}),
      finalize_(ctx, {"nn/grad_norm_finalize.comp", 2, 2 * 4, {k_wg}}), adamw_(ctx, {"nn/adamw.comp", 5, 5 * 4}),
      ema_(ctx, {"nn/ema.comp", 3, 3 * 4}) {}

uint32_t Optimizer::scratch_count(uint64_t count) { return groups_for(count, k_wg * k_items); }

static uint32_t checked_count(const char* what, uint64_t count) {
    check_dim(what, "count", count);
    if (count > 0xffffffffull) throw std::invalid_argument(std::string(what) + ": more than 2³² parameters");
    return uint32_t(count);
}

static void check_state(const char* what, const engine::Buffer& state) {
    if (!state || state.size() < sizeof(OptState))
        throw std::invalid_argument(std::string(what) + ": the state buffer must hold one OptState (64 bytes)");
}

void Optimizer::grad_norm(CommandBuffer& cmd, uint64_t count, View grads, View scratch, const engine::Buffer& state) {
    const uint32_t n = checked_count("optimizer.grad_norm", count);
    check_view("optimizer.grad_norm: grads", grads, n);
    const uint32_t groups = scratch_count(n);
    check_view("optimizer.grad_norm: scratch", scratch, groups);
    check_state("optimizer.grad_norm", state);
    struct { uint32_t count, g_off, partial_off; } p1{n, grads.offset, scratch.offset};
    partial_.dispatch(cmd, {grads.buffer, scratch.buffer}, p1, groups);
    cmd.barrier();  // RAW: the finalize pass reads the partial sums
    struct { uint32_t groups, partial_off; } p2{groups, scratch.offset};
    finalize_.dispatch(cmd, {scratch.buffer, &state}, p2, 1);
}

void Optimizer::adamw(CommandBuffer& cmd, uint64_t count, View params, View grads, View m, View v,
                      const engine::Buffer& state) {
    const uint32_t n = checked_count("optimizer.adamw", count);
    check_view("optimizer.adamw: params", params, n);
    check_view("optimizer.adamw: grads", grads, n);
    check_view("optimizer.adamw: m", m, n);
    check_view("optimizer.adamw: v", v, n);
    check_state("optimizer.adamw", state);
    struct { uint32_t count, p_off, g_off, m_off, v_off; } push{n, params.offset, grads.offset, m.offset, v.offset};
    adamw_.dispatch(cmd, {params.buffer, grads.buffer, m.buffer, v.buffer, &state}, push, groups_for(n, 256));
}

void Optimizer::ema(CommandBuffer& cmd, uint64_t count, View params, View ema, const engine::Buffer& state) {
    const uint32_t n = checked_count("optimizer.ema", count);
    check_view("optimizer.ema: params", params, n);
    check_view("optimizer.ema: ema", ema, n);
    check_state("optimizer.ema", state);
    struct { uint32_t count, p_off, e_off; } push{n, params.offset, ema.offset};
    ema_.dispatch(cmd, {params.buffer, ema.buffer, &state}, push, groups_for(n, 256));
}

void Optimizer::step(CommandBuffer& cmd, uint64_t count, View params, View grads, View m, View v, View ema_params,
                     View scratch, const engine::Buffer& state) {
    grad_norm(cmd, count, grads, scratch, state);
    cmd.barrier();  // RAW: AdamW reads clip_scale and skipped
    adamw(cmd, count, params, grads, m, v, state);
    cmd.barrier();  // RAW: the EMA reads the updated weights
    ema(cmd, count, params, ema_params, state);
}

}  // namespace diffuscope::nn
