// shaders/nn/opt_state.glsl — the optimiser's small state buffer, shared by grad_norm_finalize, adamw and
// ema (and mirrored by diffuscope::nn::OptState in diffusion/model/optim.hpp). The host writes the first
// eight words before a step (no re-recording: they are read here, not pushed); the GPU writes the rest.
#ifndef DIFFUSCOPE_NN_OPT_STATE_GLSL
#define DIFFUSCOPE_NN_OPT_STATE_GLSL
struct OptState {
    float lr, beta1, beta2, eps, weight_decay;
    float max_grad_norm;  // ≤ 0: no clipping
    float ema_decay;
    uint step;            // t ≥ 1, for Adam's bias corrections
    float grad_norm;      // ‖g‖₂                                              (written by grad_norm_finalize)
    float clip_scale;     // min(1, max_grad_norm/(‖g‖₂ + 1e-6))             (written by grad_norm_finalize)
    uint skipped;         // 1 when ‖g‖₂ is not finite: adamw and ema leave everything as it was
    uint pad_;
};
#endif
