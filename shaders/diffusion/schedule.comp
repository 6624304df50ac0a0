#version 450
// shaders/diffusion/schedule.comp — the noise schedule → the level buffer (T levels + the clean sentinel).
// One workgroup of 256; thread k owns the consecutive timesteps [k·c, (k+1)·c), c = ⌈T/256⌉ ≤ 16.
//
//  1. β_t, from the preset or curve (τ = (t+1)/T, τ' = t/(T−1), β presets scaled by 1000/T):
//       linear         β = s·(β₀ + (β₁−β₀)τ')                 scaled-linear / quadratic: β = s·(√β₀ + (√β₁−√β₀)τ')²
//       sigmoid        β = s·(β₀ + (β₁−β₀)·σ(12τ' − 6))        β curve: β = s·curve(τ')
//       cosine         log ᾱ(τ) = 2 log cos θ(τ) − 2 log cos θ(0), θ = π/2·(τ+s)/(1+s)
//       log-SNR curve  log ᾱ(τ) = −softplus(−λ(τ))
//     for the last two β_t = −expm1(log ᾱ(τ_t) − log ᾱ(τ_{t−1})), with ᾱ_{−1} = 1.
//     Guards: β > β_max → β_max, β < β_min (or NaN) → clamped and flagged, so ᾱ strictly decreases.
//  2. log ᾱ_t = Σ_{s≤t} log(1 − β_s): per-thread sums, then a Hillis–Steele scan of the 256 partials.
//  3. Zero terminal SNR (Lin et al. 2023, Alg. 1): √ᾱ' = (√ᾱ − √ᾱ_{T−1})·√ᾱ₀/(√ᾱ₀ − √ᾱ_{T−1}), then
//     ᾱ'' = f + (1 − f)ᾱ' with f = 2⁻²⁴ (strictly monotone, λ_{T−1} finite), β''_t = 1 − ᾱ''_t/ᾱ''_{t−1},
//     each written as products of accurate differences (1 − √ᾱ = −expm1(½ log ᾱ)) to avoid cancellation.
//  4. Everything a sampler reads, from log ᾱ_t and ᾱ_{t−1}:
//       λ = log ᾱ − log(1 − ᾱ), σ = e^{−λ/2}, β̃_t = β_t(1 − ᾱ_{t−1})/(1 − ᾱ_t),
//       μ̃ = [√ᾱ_{t−1}β_t/(1 − ᾱ_t)]·x̂₀ + [√α_t(1 − ᾱ_{t−1})/(1 − ᾱ_t)]·x_t   (Ho et al. 2020, eq. 7)
// Reference: diffusion/schedule/schedule.cpp (compute_levels, the double twin, itself judged against
//   tests/reference/schedule_ref.cpp); tests: tests/test_schedule.cpp (ScheduleGpu.*)
#include "common/fmath.glsl"
#include "diffusion/level.glsl"

#define WG 256
#define MAX_CHUNK 16
#define MAX_T 4000
layout(local_size_x = WG) in;

layout(std430, binding = 0) readonly buffer Params {
    uint T;
    uint preset;         // 0 linear, 1 scaled-linear, 2 quadratic, 3 cosine, 4 sigmoid, 5 curve
    uint space;          // curve: 0 β, 1 log-SNR
    uint interpolation;  // curve: 0 linear, 1 monotone cubic (Hermite with the given tangents)
    uint n_points;
    uint zero_terminal_snr;
    float beta_start, beta_end;
    float cosine_s, beta_max, beta_min, zero_snr_floor;
    vec4 knots[64];      // (t, value, tangent, unused)
};
layout(std430, binding = 1) writeonly buffer Levels { Level levels[]; };

shared float s_log_alpha_bar[MAX_T];
shared float s_partial[WG];

float curve(float t) {
    uint k = 0;
    while (k + 2 < n_points && t > knots[k + 1].x) ++k;
    vec4 a = knots[k], b = knots[k + 1];
    float h = b.x - a.x, s = clamp((t - a.x) / h, 0.0, 1.0);
    if (interpolation == 0u) return mix(a.y, b.y, s);
    float s2 = s * s, s3 = s2 * s;
    return (2.0 * s3 - 3.0 * s2 + 1.0) * a.y + (s3 - 2.0 * s2 + s) * h * a.z + (-2.0 * s3 + 3.0 * s2) * b.y +
           (s3 - s2) * h * b.z;
}

// log ᾱ(τ) for the ᾱ-defined kinds (cosine, log-SNR curve); `rest` = 1 − τ, passed exactly.
// Cosine: log cos θ = log1p(−2 sin²(θ/2)) while θ < π/4 (cos θ rounds to 1 there), else log sin(π/2 − θ) with
// π/2 − θ = π/2·(1 − τ)/(1 + s) formed from 1 − τ directly (θ itself would lose the digits of π/2 − θ).
float log_alpha_bar_at(float tau, float rest) {
    if (preset == 3u) {
        const float half_pi = 1.57079632679489662;
        float th0 = half_pi * cosine_s / (1.0 + cosine_s);
        float th = half_pi * (tau + cosine_s) / (1.0 + cosine_s);
        // sin_acc, log_acc (common/fmath.glsl): a built-in sin may miss small θ/2 by 2⁻¹¹ absolute.
        float h0 = sin_acc(0.5 * th0), h = sin_acc(0.5 * th);
        float log_cos0 = log1p_(-2.0 * h0 * h0);
        float log_cos = th < 0.78539816 ? log1p_(-2.0 * h * h) : log_acc(sin_acc(half_pi * rest / (1.0 + cosine_s)));
        return 2.0 * (log_cos - log_cos0);  // −∞ at τ = 1: β = 1, clamped to beta_max
    }
    float lam = curve(tau);  // −softplus(−λ), stable on both sides
    return lam < 0.0 ? lam - log1p_(exp(lam)) : -log1p_(exp(-lam));
}

float raw_beta(uint t) {
    float s = 1000.0 / float(T);
    float tp = float(t) / float(T - 1);
    if (preset == 0u) return s * mix(beta_start, beta_end, tp);
    if (preset == 1u || preset == 2u) {
        float r = mix(sqrt(beta_start), sqrt(beta_end), tp);
        return s * r * r;
    }
    if (preset == 4u) return s * mix(beta_start, beta_end, 1.0 / (1.0 + exp(6.0 - 12.0 * tp)));
    if (preset == 5u && space == 0u) return s * curve(tp);
    float prev = t == 0u ? 0.0 : log_alpha_bar_at(float(t) / float(T), float(T - t) / float(T));
    return -expm1_(log_alpha_bar_at(float(t + 1) / float(T), float(T - t - 1) / float(T)) - prev);
}

void main() {
    const uint k = gl_LocalInvocationID.x;
    const uint chunk = (T + WG - 1) / WG;
    const uint t0 = min(k * chunk, T), t1 = min(t0 + chunk, T);

    // 1. β_t with guards, and log α_t = log(1 − β_t).
    float beta[MAX_CHUNK], log_alpha[MAX_CHUNK], lab[MAX_CHUNK];
    uint flags[MAX_CHUNK];
    float sum = 0.0;
    for (uint t = t0; t < t1; ++t) {
        uint j = t - t0;
        float b = raw_beta(t);
        uint f = 0u;
        if (isnan(b) || isinf(b)) { f |= LEVEL_NOT_FINITE; b = beta_max; }
        if (b > beta_max) { f |= LEVEL_BETA_CLAMPED_HIGH; b = beta_max; }
        if (!(b >= beta_min)) { f |= LEVEL_BETA_CLAMPED_LOW; b = beta_min; }
        beta[j] = b;
        flags[j] = f;
        log_alpha[j] = log1p_(-b);
        sum += log_alpha[j];
    }

    // 2. Inclusive scan of the per-thread sums (Hillis–Steele), then each thread's running sum.
    s_partial[k] = sum;
    barrier();
    for (uint off = 1; off < WG; off <<= 1) {
        float v = k >= off ? s_partial[k - off] : 0.0;
        barrier();  // all reads of this round before any write
        s_partial[k] += v;
        barrier();
    }
    float run = k == 0u ? 0.0 : s_partial[k - 1];
    for (uint t = t0; t < t1; ++t) {
        run += log_alpha[t - t0];
        lab[t - t0] = run;
        s_log_alpha_bar[t] = run;
    }
    barrier();

    // 3. Zero terminal SNR.
    if (zero_terminal_snr != 0u) {
        float a0 = exp(0.5 * s_log_alpha_bar[0]), aT = exp(0.5 * s_log_alpha_bar[T - 1]);
        float one_minus_a0 = -expm1_(0.5 * s_log_alpha_bar[0]);
        float c = a0 / (a0 - aT), fl = zero_snr_floor;
        float prev_ap = 0.0, prev_ab = 1.0;
        for (uint t = t0; t < t1; ++t) {
            uint j = t - t0;
            float a = exp(0.5 * lab[j]);
            float ap = (a - aT) * c;                                                 // √ᾱ'
            float one_minus_ap = (-expm1_(0.5 * lab[j]) * a0 - aT * one_minus_a0) / (a0 - aT);
            float ab2 = fl + (1.0 - fl) * ap * ap;                                   // ᾱ''
            float om2 = (1.0 - fl) * one_minus_ap * (1.0 + ap);                     // 1 − ᾱ''
            if (t == t0 && t > 0u) {  // the neighbour t−1 from this thread's own numbers
                float a_prev = exp(0.5 * (lab[j] - log_alpha[j]));
                prev_ap = (a_prev - aT) * c;
                prev_ab = fl + (1.0 - fl) * prev_ap * prev_ap;
            }
            if (t == 0u) {
                beta[j] = om2;  // α₀ = ᾱ₀ (Alg. 1 keeps ᾱ_{−1} = 1)
            } else {
                float a_prev = exp(0.5 * (lab[j] - log_alpha[j]));
                // ᾱ''_{t−1} − ᾱ''_t = (1−f)(√ᾱ'_{t−1} − √ᾱ'_t)(√ᾱ'_{t−1} + √ᾱ'_t), √ᾱ_{t−1} − √ᾱ_t = √ᾱ_{t−1}(−expm1(½ log α_t))
                beta[j] = (1.0 - fl) * c * a_prev * -expm1_(0.5 * log_alpha[j]) * (prev_ap + ap) / prev_ab;
            }
            lab[j] = ab2 < 0.5 ? log(ab2) : log1p_(-om2);
            prev_ap = ap;
            prev_ab = ab2;
        }
        barrier();  // every thread has read s_log_alpha_bar[0] and [T−1] before they change
        for (uint t = t0; t < t1; ++t) s_log_alpha_bar[t] = lab[t - t0];
        barrier();
    }

    // 4. The level.
    for (uint t = t0; t < t1; ++t) {
        uint j = t - t0;
        float la = lab[j], b = beta[j];
        float la_prev = t == 0u ? 0.0 : s_log_alpha_bar[t - 1];
        uint fl = flags[j];
        if (la < LOG_ALPHA_BAR_MIN) { la = LOG_ALPHA_BAR_MIN; fl |= LEVEL_ALPHA_BAR_FLOOR; }  // keeps σ = e^{−λ/2} finite
        la_prev = max(la_prev, LOG_ALPHA_BAR_MIN);
        float om = -expm1_(la), om_prev = -expm1_(la_prev);
        Level L;
        L.beta = b;
        L.alpha = b > 0.5 ? exp(la - la_prev) : 1.0 - b;  // 1 − β loses α's digits when β ≈ 1
        L.alpha_bar = exp(la);
        L.sqrt_alpha_bar = exp(0.5 * la);
        L.sqrt_one_minus_alpha_bar = sqrt(om);
        L.one_minus_alpha_bar = om;
        L.log_alpha_bar = la;
        L.log_snr = la - log(om);
        L.sigma = exp(-0.5 * L.log_snr);
        L.snr = exp(min(L.log_snr, 80.0));
        L.posterior_variance = b * om_prev / om;
        if (t == 0u) {  // Ho et al. clip: log β̃₀ := log β̃₁ (β̃₀ = 0)
            float la1 = s_log_alpha_bar[min(1u, T - 1u)];
            float b1 = -expm1_(la1 - la);
            L.posterior_log_variance = log(b1 * om / -expm1_(la1));
        } else {
            L.posterior_log_variance = log(L.posterior_variance);
        }
        L.posterior_mean_coef_x0 = exp(0.5 * la_prev) * b / om;
        L.posterior_mean_coef_xt = sqrt(L.alpha) * om_prev / om;
        L.tau = float(t + 1) / float(T);
        L.flags = fl;
        levels[t] = L;
    }
    if (k == 0u) {  // the clean sentinel: the target of every chain's last step
        Level C;
        C.beta = 0.0; C.alpha = 1.0; C.alpha_bar = 1.0; C.sqrt_alpha_bar = 1.0;
        C.sqrt_one_minus_alpha_bar = 0.0; C.one_minus_alpha_bar = 0.0; C.log_alpha_bar = 0.0;
        C.log_snr = 30.0; C.sigma = 0.0; C.posterior_variance = 0.0; C.posterior_log_variance = -69.0;
        C.posterior_mean_coef_x0 = 1.0; C.posterior_mean_coef_xt = 0.0; C.tau = 0.0; C.snr = exp(30.0);
        C.flags = LEVEL_CLEAN;
        levels[T] = C;
    }
}
