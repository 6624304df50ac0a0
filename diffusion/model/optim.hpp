// diffusion/model/optim.hpp — the optimiser on one flat parameter buffer: global gradient norm (two-level
// reduction), AdamW with clipping by that norm, EMA of the weights. One dispatch each (+ the norm's second
// level); nothing goes back to the host: the clip scale and the "skip this step" flag travel in OptState.
//
// OptState mirrors shaders/nn/opt_state.glsl. Keep it in its own small host-visible buffer: the host writes
// the hyperparameters and the step number before a submit (a recorded step replays with new values), the
// GPU writes grad_norm, clip_scale and skipped. A non-finite gradient norm sets `skipped`, and then AdamW
// and EMA leave the weights, moments and EMA exactly as they were.
#pragma once
#include "diffusion/model/kernel.hpp"

namespace diffuscope::nn {

struct OptState {
    float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, weight_decay = 0.0f;
    float max_grad_norm = 1.0f;  // ≤ 0: no clipping
    float ema_decay = 0.999f;
    uint32_t step = 1;           // t ≥ 1; set with set_step
    float bias_correction1 = 0.1f, bias_correction2 = 0.001f;  // 1 − β^t, from set_step (in double)
    float grad_norm = 0;         // written by the GPU
    float clip_scale = 1;        // written by the GPU
    uint32_t skipped = 0;        // written by the GPU
    uint32_t pad_[3] = {0, 0, 0};

    // Step t and Adam's bias corrections 1 − β^t, computed in double (float loses them to cancellation).
    void set_step(uint32_t t);
};
static_assert(sizeof(OptState) == 64);

class Optimizer {
public:
    explicit Optimizer(engine::Context&);
    // Floats of scratch grad_norm needs for `count` gradients (its per-workgroup partial sums).
    static uint32_t scratch_count(uint64_t count);
    // state.grad_norm = ‖g‖₂, state.clip_scale, state.skipped: two dispatches with a barrier between.
    void grad_norm(engine::CommandBuffer&, uint64_t count, View grads, View scratch, const engine::Buffer& state);
    // p, m, v updated in place (reads clip_scale, skipped and the hyperparameters from state).
    void adamw(engine::CommandBuffer&, uint64_t count, View params, View grads, View m, View v,
               const engine::Buffer& state);
    // ema ← d·ema + (1 − d)·p
    void ema(engine::CommandBuffer&, uint64_t count, View params, View ema, const engine::Buffer& state);
    // grad_norm → adamw → ema with the barriers between them.
    void step(engine::CommandBuffer&, uint64_t count, View params, View grads, View m, View v, View ema_params,
              View scratch, const engine::Buffer& state);

private:
    Kernel partial_, finalize_, adamw_, ema_;
};

}  // namespace diffuscope::nn
