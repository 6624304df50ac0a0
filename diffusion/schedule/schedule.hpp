// diffusion/schedule/schedule.hpp — the noise schedule: what a user picks (a preset or a curve of control points),
// the per-timestep levels every sampler step reads, the guards that keep bad curves out, and respacing.
//
// Convention (as in Ho et al. 2020's code and diffusers): timesteps t = 0 … T−1, ᾱ_t = Π_{s≤t} (1 − β_s), so
// t = 0 is already slightly noisy. Index T of the level buffer is the *clean sentinel* (ᾱ = 1, σ = 0): the
// target of a sampler's last step. The continuous time of index t is τ_t = (t+1)/T ∈ (0, 1]; the clean
// sentinel is τ = 0.
//
// The level buffer is computed on the GPU by shaders/diffusion/schedule.comp; `compute_levels` below is its
// double-precision C++ twin (same formulas, same clamps), and `check_schedule` is the guard that refuses a
// schedule with a message before anything is uploaded.
#pragma once
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace diffuscope {

// One timestep's coefficients — std430 layout shared with `struct Level` in shaders/diffusion/level.glsl
// (16 × 4 bytes; field order is the ABI, keep both in step).
struct Level {
    float beta;                      // β_t
    float alpha;                     // α_t = 1 − β_t
    float alpha_bar;                 // ᾱ_t = Π_{s≤t} α_s
    float sqrt_alpha_bar;            // √ᾱ_t          (the signal scale of x_t)
    float sqrt_one_minus_alpha_bar;  // √(1 − ᾱ_t)    (the noise scale of x_t)
    float one_minus_alpha_bar;       // 1 − ᾱ_t, computed as −expm1(log ᾱ_t): exact when ᾱ ≈ 1
    float log_alpha_bar;             // log ᾱ_t (the scan's running sum of log α_s)
    float log_snr;                   // λ_t = log(ᾱ_t / (1 − ᾱ_t)), what the network is conditioned on
    float sigma;                     // σ_t = √((1 − ᾱ_t)/ᾱ_t) = e^{−λ/2}, the VE / Karras noise level
    float posterior_variance;        // β̃_t = β_t (1 − ᾱ_{t−1})/(1 − ᾱ_t), with ᾱ_{−1} = 1 (so β̃_0 = 0)
    float posterior_log_variance;    // log β̃_t, with β̃_0 replaced by β̃_1 (Ho et al.'s "clipped" log)
    float posterior_mean_coef_x0;    // √ᾱ_{t−1} β_t / (1 − ᾱ_t)        μ̃ = coef_x0·x̂₀ + coef_xt·x_t
    float posterior_mean_coef_xt;    // √α_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t)
    float tau;                       // continuous time (t+1)/T; 0 for the clean sentinel
    float snr;                       // ᾱ_t / (1 − ᾱ_t) = e^λ (for plots)
    uint32_t flags;                  // LevelFlag bits: what a guard did here
};
static_assert(sizeof(Level) == 64, "Level must match the std430 struct in shaders/diffusion/level.glsl");

enum LevelFlag : uint32_t {
    level_beta_clamped_high = 1u << 0,  // β was above beta_max (e.g. cosine's 0.999 cap) and was clamped
    level_beta_clamped_low = 1u << 1,   // β was below beta_min (a flat stretch of the curve) and was raised
    level_not_finite = 1u << 2,         // β came out NaN/inf (only possible when the CPU guard was bypassed)
    level_clean = 1u << 3,              // the clean sentinel at index T
    level_alpha_bar_floor = 1u << 4,    // log ᾱ fell below log_alpha_bar_min and was held there
};
// log ᾱ never goes below this (λ ≥ −50, σ ≤ e²⁵ stays finite in float); the guard refuses schedules that reach it.
inline constexpr double log_alpha_bar_min = -50.0;

// The λ stored in the clean sentinel (ᾱ = 1 would make it +∞); never fed to a model by the samplers.
inline constexpr float log_snr_clean = 30.0f;
// Zero terminal SNR keeps ᾱ_{T−1} at this floor instead of exactly 0 (diffusers uses the same 2⁻²⁴), so
// λ stays finite (≈ −16.6) and ε → x̂₀ never divides by zero.
inline constexpr double zero_snr_floor = 1.0 / 16777216.0;

enum class SchedulePreset : uint32_t {
    linear = 0,         // β linear 1e-4 → 0.02 (Ho et al. 2020)
    scaled_linear = 1,  // √β linear √0.00085 → √0.012 (Rombach et al. 2022, Stable Diffusion)
    quadratic = 2,      // √β linear √1e-4 → √0.02 (Ho et al.'s "quad")
    cosine = 3,         // ᾱ(τ) = f(τ)/f(0), f = cos²(π/2·(τ+s)/(1+s)), s = 0.008, β ≤ 0.999 (Nichol & Dhariwal 2021)
    sigmoid = 4,        // β = β₀ + (β₁ − β₀)·sigmoid(linspace(−6, 6, T)) (the GeoDiff/DDPM-code "sigmoid")
    curve = 5,          // control points, see CurveSpace
};

enum class CurveSpace : uint32_t {
    beta = 0,     // value = β at T = 1000 (scaled by 1000/T like the presets), at τ' = t/(T−1) ∈ [0, 1]
    log_snr = 1,  // value = λ(τ) at τ = (t+1)/T; ᾱ = sigmoid(λ)
};
enum class CurveInterpolation : uint32_t { linear = 0, monotone_cubic = 1 };

struct CurvePoint {
    double t = 0, value = 0;
};

inline constexpr uint32_t max_timesteps = 4000;
inline constexpr uint32_t min_timesteps = 2;
inline constexpr uint32_t max_curve_points = 64;

struct ScheduleSpec {
    SchedulePreset preset = SchedulePreset::linear;
    uint32_t timesteps = 1000;  // T
    bool zero_terminal_snr = false;  // Lin et al. 2023, Algorithm 1 (with the floor above)
    // Presets' constants (defaults filled from the preset by `with_defaults`; NaN = use the preset's).
    double beta_start = NAN, beta_end = NAN;
    double cosine_s = 0.008;
    double beta_max = 0.999;  // cap on any β (cosine's published cap)
    double beta_min = 1e-8;   // floor on any β (keeps ᾱ strictly decreasing)
    // Custom curve (preset == curve).
    CurveSpace space = CurveSpace::beta;
    CurveInterpolation interpolation = CurveInterpolation::monotone_cubic;
    std::vector<CurvePoint> points;
};

// A schedule that fails a guard: the message says what, where, and what to do.
struct ScheduleError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

// The spec with preset constants filled in.
ScheduleSpec with_defaults(ScheduleSpec);

// What the guard found that is allowed but worth saying (clamped steps, little noise at the end).
struct ScheduleReport {
    uint32_t clamped_high = 0, clamped_low = 0;
    double alpha_bar_last = 0;  // ᾱ_{T−1}
    std::vector<std::string> warnings;
};

// Refuses (throws ScheduleError) a spec that cannot make a sane schedule: T outside [2, 4000], bad
// constants, a curve whose points are not finite / not strictly increasing in t / not spanning [0, 1], β
// values outside (0, 1), a log-SNR curve that is not strictly decreasing (noise would be *removed* going
// forward, i.e. ᾱ non-monotone), or a schedule whose ᾱ_{T−1} > 0.5 (sampling would start from pure noise
// that the schedule never reaches). Returns what was clamped.
ScheduleReport check_schedule(const ScheduleSpec&);

// The C++ twin of schedule.comp, in double: T + 1 levels (index T = clean sentinel). Applies the same clamps;
// does not throw on a bad curve (call check_schedule first) but never returns NaN.
struct LevelD {
    double beta, alpha, alpha_bar, sqrt_alpha_bar, sqrt_one_minus_alpha_bar, one_minus_alpha_bar, log_alpha_bar,
        log_snr, sigma, posterior_variance, posterior_log_variance, posterior_mean_coef_x0, posterior_mean_coef_xt,
        tau, snr;
    uint32_t flags;
};
std::vector<LevelD> compute_levels(const ScheduleSpec&);

// Fritsch–Carlson (1980) tangents for a monotone cubic Hermite through the points (non-monotone data are
// allowed: tangents are zeroed at extrema), and the interpolant itself.
std::vector<double> monotone_tangents(const std::vector<CurvePoint>&);
double eval_curve(const std::vector<CurvePoint>&, const std::vector<double>& tangents, CurveInterpolation, double t);

// Names: "linear", "scaled-linear", "quadratic", "cosine", "sigmoid"; anything else is read as a curve JSON file:
//   {"space": "beta"|"log_snr", "interpolation": "linear"|"monotone_cubic", "points": [[t, v], ...],
//    "timesteps": 1000 (optional), "zero_terminal_snr": false (optional)}
ScheduleSpec schedule_from_name(const std::string& name_or_path);
std::string preset_name(SchedulePreset);
std::string curve_to_json(const ScheduleSpec&);
ScheduleSpec curve_from_json(const std::string& text, const std::string& where);

// ---- respacing: S sampling steps out of T (descending timesteps; the sampler then goes to the clean sentinel)
enum class Spacing {
    linspace,  // round(linspace(T−1, 0, S))                         (DDIM code's "quad"-free uniform variant)
    leading,   // (S−1)k, …, k, 0 with k = ⌊T/S⌋                       (DDIM / Stable Diffusion default)
    trailing,  // round(T − i·T/S) − 1, i = 0 … S−1: always includes T−1 (Lin et al. 2023, Table 2)
};
std::vector<uint32_t> respace(uint32_t T, uint32_t S, Spacing);
// The same with each timestep's ᾱ (from the double twin), plus the clean sentinel's ᾱ = 1 at the end: the
// S + 1 noise levels a sampler walks through.
struct Respaced {
    std::vector<uint32_t> timesteps;  // S, descending
    std::vector<double> alpha_bar;    // S + 1
};
Respaced respace(const ScheduleSpec&, uint32_t S, Spacing);
Spacing spacing_from_name(const std::string&);

}  // namespace diffuscope
