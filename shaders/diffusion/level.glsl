// shaders/diffusion/level.glsl — the per-timestep level (std430, 64 bytes), twin of `struct Level` in
// diffusion/schedule/schedule.hpp; field order is the ABI. Index T of a level buffer is the clean sentinel (ᾱ = 1).
// Also: log1p/expm1 that stay accurate in float near 0 (GLSL has neither), used wherever 1 − ᾱ ≈ β is small.
// Reference: diffusion/schedule/schedule.cpp (compute_levels, LevelD: the double twin); tests:
//   tests/test_schedule.cpp (ScheduleGpu.*)
#ifndef DIFFUSCOPE_LEVEL_GLSL
#define DIFFUSCOPE_LEVEL_GLSL

#include "common/fmath.glsl"

struct Level {
    float beta;                      // β_t
    float alpha;                     // α_t = 1 − β_t
    float alpha_bar;                 // ᾱ_t
    float sqrt_alpha_bar;            // √ᾱ_t
    float sqrt_one_minus_alpha_bar;  // √(1 − ᾱ_t)
    float one_minus_alpha_bar;       // 1 − ᾱ_t (= −expm1(log ᾱ_t))
    float log_alpha_bar;             // log ᾱ_t
    float log_snr;                   // λ_t = log(ᾱ/(1 − ᾱ))
    float sigma;                     // √((1 − ᾱ)/ᾱ) = e^{−λ/2}
    float posterior_variance;        // β̃_t = β_t (1 − ᾱ_{t−1})/(1 − ᾱ_t)
    float posterior_log_variance;    // log β̃_t (t = 0 uses β̃_1)
    float posterior_mean_coef_x0;    // √ᾱ_{t−1} β_t/(1 − ᾱ_t)
    float posterior_mean_coef_xt;    // √α_t (1 − ᾱ_{t−1})/(1 − ᾱ_t)
    float tau;                       // (t+1)/T, 0 for the clean sentinel
    float snr;                       // ᾱ/(1 − ᾱ)
    uint flags;                      // 1 β clamped high, 2 β raised to beta_min, 4 not finite, 8 clean sentinel,
                                     // 16 log ᾱ held at LOG_ALPHA_BAR_MIN
};

const uint LEVEL_BETA_CLAMPED_HIGH = 1u, LEVEL_BETA_CLAMPED_LOW = 2u, LEVEL_NOT_FINITE = 4u, LEVEL_CLEAN = 8u,
           LEVEL_ALPHA_BAR_FLOOR = 16u;
// log ᾱ never goes below this (λ ≥ −50, σ ≤ e²⁵): far past any useful noise level, and float-safe.
const float LOG_ALPHA_BAR_MIN = -50.0;

// log(1 + x): Taylor series to x⁷ for |x| < 0.1 (truncation < x⁸/8 relative), log_acc elsewhere.
float log1p_(float x) {
    if (abs(x) < 0.1) {
        return x * (1.0 - x * (0.5 - x * (1.0 / 3.0 - x * (0.25 - x * (0.2 - x * (1.0 / 6.0 - x / 7.0))))));
    }
    return log_acc(1.0 + x);
}

// exp(x) − 1: Taylor series to x⁷/7! for |x| < 0.1, the plain exp elsewhere.
float expm1_(float x) {
    if (abs(x) < 0.1)
        return x * (1.0 + x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (1.0 / 120.0 + x * (1.0 / 720.0 + x / 5040.0))))));
    return exp(x) - 1.0;
}

#endif
