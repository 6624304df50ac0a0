// shaders/diffusion/q_sample.glsl — the forward process and the training targets, written once for
// diffusion/q_sample.comp (levels from the schedule) and train/batch.comp, train/batch2d.comp (continuous levels).
// Ho et al. 2020, eq. 4, with a = √ᾱ and b = √(1 − ᾱ):
//   q(x_t | x₀) = N(a x₀, b² I)   ⇒   x_t = a x₀ + b ε,   ε ~ N(0, I)
// Targets: ε (eps-prediction), or v = a ε − b x₀ (v-prediction, Salimans & Ho 2022).
// From a log-SNR λ = log(ᾱ/(1 − ᾱ)): a = √sigmoid(λ), b = √sigmoid(−λ) (denoiser_io.glsl's ᾱ and 1 − ᾱ).
//
// The training noise level (train/batch.comp, train/batch2d.comp), from two uniforms t, pick ∈ [0, 1):
//   pick < 0.9:  λ = clamp(cosine_log_snr(t), λmin, λmax)   most samples where sampling needs the model (|λ| ≲ 5)
//   otherwise:   λ = λmin + t·(λmax − λmin)                 uniform, so the ends are learned too
// cosine_log_snr(t) = −2 ln tan(π t/2) is the cosine schedule's log-SNR in continuous time: with offset s = 0,
// ᾱ(t) = cos²(π t/2), so λ = log(cos²/sin²). It equals the level λ of schedule.comp / schedule.cpp's cosine preset
// with cosine_s = 0 at τ = t; tests/test_q_sample_include.cpp checks that agreement. (The preset's default
// s = 0.008 differs near t = 0; that needs no match: the model is conditioned on λ itself, not on t.)
// Reference: the double closed forms in its tests (no tests/reference twin); tests: tests/test_q_sample_include.cpp,
//   tests/test_samplers.cpp (ForwardProcessMatchesItsClosedForm), tests/test_trainer.cpp (BatchMatchesItsCpuTwin)
#ifndef DIFFUSCOPE_Q_SAMPLE_GLSL
#define DIFFUSCOPE_Q_SAMPLE_GLSL

#include "diffusion/denoiser_io.glsl"

// x_t = a x₀ + b ε
float q_sample(float a, float b, float x0, float eps) { return a * x0 + b * eps; }

// v = a ε − b x₀
float v_target(float a, float b, float x0, float eps) { return a * eps - b * x0; }

// (a, b) = (√ᾱ, √(1 − ᾱ)) of the log-SNR λ
vec2 signal_noise_of(float log_snr) { return vec2(sqrt(alpha_bar_of(log_snr)), sqrt(one_minus_alpha_bar_of(log_snr))); }

// λ(t) = −2 ln tan(π t/2): the cosine schedule's log-SNR (s = 0) at continuous time t ∈ (0, 1)
float cosine_log_snr(float t) { return -2.0 * log(tan(1.57079632679 * t)); }

// The level a training sample is noised to (see the header): t and pick are uniforms on [0, 1).
float draw_training_log_snr(float t, float pick, float lmin, float lmax) {
    return pick < 0.9 ? clamp(cosine_log_snr(t), lmin, lmax) : mix(lmin, lmax, t);
}

#endif
