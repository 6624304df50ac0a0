// shaders/nn/opt_state.glsl — the optimiser's small state buffer, shared by grad_norm_finalize, adamw and
// ema (and mirrored by diffuscope::nn::OptState in diffusion/model/optim.hpp). The host writes the first
// ten words before a step (no re-recording: they are read here, not pushed); the GPU writes the rest.
// Reference: diffusion/model/optim.hpp (OptState, its C++ twin); tests: tests/test_nn_optim.cpp
#ifndef DIFFUSCOPE_NN_OPT_STATE_GLSL
#define DIFFUSCOPE_NN_OPT_STATE_GLSL
struct OptState {
    float lr, beta1, beta2, eps, weight_decay;
    float max_grad_norm;  // ≤ 0: no clipping
    float ema_decay;
    uint step;            // t ≥ 1
    float bias_correction1, bias_correction2;  // 1 − β1^t, 1 − β2^t, computed by the host in double:
                                               // in float, 1 − 0.999^t loses ~5 digits to cancellation
    float grad_norm;      // ‖g‖₂                                              (written by grad_norm_finalize)
    float clip_scale;     // min(1, max_grad_norm/(‖g‖₂ + 1e-6))             (written by grad_norm_finalize)
    uint skipped;         // 1 when ‖g‖₂ is not finite: adamw and ema leave everything as it was
    uint pad0_, pad1_, pad2_;
};
#endif
