// diffusion/schedule/schedule.cpp — presets, the guards, and the double-precision twin of shaders/diffusion/schedule.comp.
#include "diffusion/schedule/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <sstream>

namespace diffuscope {

std::string preset_name(SchedulePreset p) {
    switch (p) {
        case SchedulePreset::linear: return "linear";
        case SchedulePreset::scaled_linear: return "scaled-linear";
        case SchedulePreset::quadratic: return "quadratic";
        case SchedulePreset::cosine: return "cosine";
        case SchedulePreset::sigmoid: return "sigmoid";
        case SchedulePreset::curve: return "curve";
    }
    return "?";
}

ScheduleSpec with_defaults(ScheduleSpec s) {
    double b0 = 1e-4, b1 = 0.02;  // Ho et al. 2020 (linear, quadratic, sigmoid)
    if (s.preset == SchedulePreset::scaled_linear) b0 = 0.00085, b1 = 0.012;  // Stable Diffusion
    if (std::isnan(s.beta_start)) s.beta_start = b0;
    if (std::isnan(s.beta_end)) s.beta_end = b1;
    return s;
}

static std::string fmt(double v) {
    std::ostringstream o;
    o << v;
    return o.str();
}

// ---- curves

std::vector<double> monotone_tangents(const std::vector<CurvePoint>& p) {
    const size_t n = p.size();
    std::vector<double> m(n, 0.0);
    if (n < 2) return m;
    std::vector<double> d(n - 1);  // secant slopes
    for (size_t k = 0; k + 1 < n; ++k) d[k] = (p[k + 1].value - p[k].value) / (p[k + 1].t - p[k].t);
    m[0] = d[0];
    m[n - 1] = d[n - 2];
    for (size_t k = 1; k + 1 < n; ++k) m[k] = d[k - 1] * d[k] <= 0 ? 0.0 : 0.5 * (d[k - 1] + d[k]);
    // Fritsch & Carlson 1980: keep (α, β) = (m_k/δ_k, m_{k+1}/δ_k) inside the circle of radius 3.
    for (size_t k = 0; k + 1 < n; ++k) {
        if (d[k] == 0) {
            m[k] = m[k + 1] = 0;
            continue;
        }
        double a = m[k] / d[k], b = m[k + 1] / d[k];
        if (a < 0) m[k] = a = 0;
        if (b < 0) m[k + 1] = b = 0;
        double r = a * a + b * b;
        if (r > 9) {
            double tau = 3 / std::sqrt(r);
            m[k] = tau * a * d[k];
            m[k + 1] = tau * b * d[k];
        }
    }
    return m;
}

double eval_curve(const std::vector<CurvePoint>& p, const std::vector<double>& m, CurveInterpolation interp, double t) {
    size_t k = 0;
    while (k + 2 < p.size() && t > p[k + 1].t) ++k;
    const auto &a = p[k], &b = p[k + 1];
    double h = b.t - a.t, s = std::clamp((t - a.t) / h, 0.0, 1.0);
    if (interp == CurveInterpolation::linear) return a.value + (b.value - a.value) * s;
    double s2 = s * s, s3 = s2 * s;
    return (2 * s3 - 3 * s2 + 1) * a.value + (s3 - 2 * s2 + s) * h * m[k] + (-2 * s3 + 3 * s2) * b.value +
           (s3 - s2) * h * m[k + 1];
}

// ---- the twin

namespace {

struct Curve {
    const ScheduleSpec& s;
    std::vector<double> m;
    explicit Curve(const ScheduleSpec& spec) : s(spec), m(monotone_tangents(spec.points)) {}
    double operator()(double t) const { return eval_curve(s.points, m, s.interpolation, t); }
};

double log_alpha_bar_at(const ScheduleSpec& s, const Curve& curve, double tau) {
    if (s.preset == SchedulePreset::cosine) {
        auto theta = [&](double x) { return std::numbers::pi / 2 * (x + s.cosine_s) / (1 + s.cosine_s); };
        return 2 * (std::log(std::cos(theta(tau))) - std::log(std::cos(theta(0))));
    }
    double lam = curve(tau);  // log sigmoid(λ) = −softplus(−λ)
    return lam < 0 ? lam - std::log1p(std::exp(lam)) : -std::log1p(std::exp(-lam));
}

double raw_beta(const ScheduleSpec& s, const Curve& curve, uint32_t t) {
    const uint32_t T = s.timesteps;
    const double scale = 1000.0 / T, tp = double(t) / (T - 1);
    switch (s.preset) {
        case SchedulePreset::linear: return scale * (s.beta_start + (s.beta_end - s.beta_start) * tp);
        case SchedulePreset::scaled_linear:
        case SchedulePreset::quadratic: {
            double r = std::sqrt(s.beta_start) + (std::sqrt(s.beta_end) - std::sqrt(s.beta_start)) * tp;
            return scale * r * r;
        }
        case SchedulePreset::sigmoid:
            return scale * (s.beta_start + (s.beta_end - s.beta_start) / (1 + std::exp(6 - 12 * tp)));
        default: break;
    }
    if (s.preset == SchedulePreset::curve && s.space == CurveSpace::beta) return scale * curve(tp);
    double prev = t == 0 ? 0.0 : log_alpha_bar_at(s, curve, double(t) / T);
    return -std::expm1(log_alpha_bar_at(s, curve, double(t + 1) / T) - prev);
}

}  // namespace

std::vector<LevelD> compute_levels(const ScheduleSpec& spec_in) {
    const ScheduleSpec s = with_defaults(spec_in);
    const uint32_t T = s.timesteps;
    Curve curve(s);
    std::vector<double> beta(T), log_ab(T);
    std::vector<uint32_t> flags(T, 0);
    double run = 0;
    for (uint32_t t = 0; t < T; ++t) {
        double b = raw_beta(s, curve, t);
        if (!std::isfinite(b)) flags[t] |= level_not_finite, b = s.beta_max;
        if (b > s.beta_max) flags[t] |= level_beta_clamped_high, b = s.beta_max;
        if (!(b >= s.beta_min)) flags[t] |= level_beta_clamped_low, b = s.beta_min;
        beta[t] = b;
        run += std::log1p(-b);
        log_ab[t] = run;
    }
    if (s.zero_terminal_snr) {  // Lin et al. 2023, Algorithm 1, then ᾱ'' = f + (1 − f)ᾱ'
        const double a0 = std::exp(0.5 * log_ab[0]), aT = std::exp(0.5 * log_ab[T - 1]), f = zero_snr_floor;
        std::vector<double> ab(T);
        for (uint32_t t = 0; t < T; ++t) {
            double ap = (std::exp(0.5 * log_ab[t]) - aT) * a0 / (a0 - aT);
            ab[t] = f + (1 - f) * ap * ap;
        }
        for (uint32_t t = 0; t < T; ++t) {
            beta[t] = 1 - ab[t] / (t ? ab[t - 1] : 1.0);
            log_ab[t] = std::log(ab[t]);
        }
    }
    std::vector<LevelD> out(T + 1);
    for (uint32_t t = 0; t < T; ++t) {
        double la = log_ab[t], b = beta[t], la_prev = t ? std::max(log_ab[t - 1], log_alpha_bar_min) : 0.0;
        if (la < log_alpha_bar_min) la = log_alpha_bar_min, flags[t] |= level_alpha_bar_floor;
        double om = -std::expm1(la), om_prev = -std::expm1(la_prev);
        LevelD& L = out[t];
        L.beta = b;
        L.alpha = b > 0.5 ? std::exp(la - la_prev) : 1 - b;
        L.alpha_bar = std::exp(la);
        L.sqrt_alpha_bar = std::exp(0.5 * la);
        L.sqrt_one_minus_alpha_bar = std::sqrt(om);
        L.one_minus_alpha_bar = om;
        L.log_alpha_bar = la;
        L.log_snr = la - std::log(om);
        L.sigma = std::exp(-0.5 * L.log_snr);
        L.snr = std::exp(std::min(L.log_snr, 80.0));
        L.posterior_variance = b * om_prev / om;
        L.posterior_mean_coef_x0 = std::exp(0.5 * la_prev) * b / om;
        L.posterior_mean_coef_xt = std::sqrt(L.alpha) * om_prev / om;
        L.tau = double(t + 1) / T;
        L.flags = flags[t];
    }
    for (uint32_t t = 0; t < T; ++t)
        out[t].posterior_log_variance = std::log(t ? out[t].posterior_variance : out[1].posterior_variance);
    out[T] = LevelD{0, 1, 1, 1, 0, 0, 0, log_snr_clean, 0, 0, -69.0, 1, 0, 0, std::exp(double(log_snr_clean)),
                    level_clean};
    return out;
}

// ---- the guard

ScheduleReport check_schedule(const ScheduleSpec& spec_in) {
    const ScheduleSpec s = with_defaults(spec_in);
    const std::string name = "schedule \"" + preset_name(s.preset) + "\"";
    auto refuse = [&](const std::string& what) { throw ScheduleError(name + ": " + what); };
    if (s.timesteps < min_timesteps || s.timesteps > max_timesteps)
        refuse("T = " + std::to_string(s.timesteps) + " timesteps is outside [2, 4000]; pass --timesteps in that range");
    if (!(s.beta_max > 0 && s.beta_max < 1) || !(s.beta_min > 0 && s.beta_min < s.beta_max))
        refuse("beta_min = " + fmt(s.beta_min) + ", beta_max = " + fmt(s.beta_max) +
               " must satisfy 0 < beta_min < beta_max < 1");
    if (s.preset == SchedulePreset::curve) {
        const auto& p = s.points;
        if (p.size() < 2 || p.size() > max_curve_points)
            refuse("a curve needs 2 to 64 control points, got " + std::to_string(p.size()));
        for (size_t k = 0; k < p.size(); ++k) {
            std::string at = "control point " + std::to_string(k) + " (t = " + fmt(p[k].t) + ", value = " +
                             fmt(p[k].value) + ")";
            if (!std::isfinite(p[k].t) || !std::isfinite(p[k].value)) refuse(at + " is not a finite number");
            if (k && !(p[k].t > p[k - 1].t))
                refuse(at + " does not come after the previous point in t; t must strictly increase");
            if (s.space == CurveSpace::beta && !(p[k].value > 0 && p[k].value < 1))
                refuse(at + ": β must lie in (0, 1) — β is the fraction of variance replaced by noise in one step");
            if (s.space == CurveSpace::log_snr && k && !(p[k].value < p[k - 1].value))
                refuse(at + ": log-SNR must strictly decrease with t, else a forward step would remove noise "
                            "(ᾱ would increase)");
        }
        if (p.front().t != 0 || p.back().t != 1)
            refuse("the control points must span t = 0 … 1 (first t = " + fmt(p.front().t) + ", last t = " +
                   fmt(p.back().t) + ")");
    } else {
        if (!(s.beta_start > 0 && s.beta_end > 0 && s.beta_start < 1 && s.beta_end < 1))
            refuse("beta_start = " + fmt(s.beta_start) + ", beta_end = " + fmt(s.beta_end) + " must lie in (0, 1)");
        if (s.preset == SchedulePreset::cosine && !(s.cosine_s >= 0 && s.cosine_s < 1))
            refuse("cosine offset s = " + fmt(s.cosine_s) + " must lie in [0, 1)");
    }
    ScheduleReport r;
    auto levels = compute_levels(s);
    for (uint32_t t = 0; t < s.timesteps; ++t) {
        if (levels[t].flags & level_not_finite) refuse("β at t = " + std::to_string(t) + " is not a finite number");
        if (levels[t].flags & level_alpha_bar_floor)
            refuse("ᾱ falls below e^" + fmt(log_alpha_bar_min) + " at t = " + std::to_string(t) +
                   ": every later step is pure noise; use fewer timesteps or a gentler curve");
        if (levels[t].flags & level_beta_clamped_high) ++r.clamped_high;
        if (levels[t].flags & level_beta_clamped_low) ++r.clamped_low;
    }
    r.alpha_bar_last = levels[s.timesteps - 1].alpha_bar;
    if (r.alpha_bar_last > 0.5)
        refuse("ᾱ at the last step is " + fmt(r.alpha_bar_last) +
               " — the fully noised x_T would keep most of the image, but sampling starts from pure noise; "
               "raise β (or the log-SNR drop) or use more timesteps");
    if (r.alpha_bar_last > 0.01)
        r.warnings.push_back("ᾱ at the last step is " + fmt(r.alpha_bar_last) +
                             " (λ = " + fmt(levels[s.timesteps - 1].log_snr) +
                             "): x_T still carries signal that pure-noise sampling ignores");
    if (r.clamped_high)
        r.warnings.push_back(std::to_string(r.clamped_high) + " step(s) had β above beta_max = " + fmt(s.beta_max) +
                             " and were clamped");
    if (r.clamped_low)
        r.warnings.push_back(std::to_string(r.clamped_low) + " step(s) had β below beta_min = " + fmt(s.beta_min) +
                             " (a flat stretch of the curve) and were raised to it");
    return r;
}

// ---- respacing

std::vector<uint32_t> respace(uint32_t T, uint32_t S, Spacing spacing) {
    if (S < 1 || S > T)
        throw std::invalid_argument("respace: " + std::to_string(S) + " sampling steps out of " + std::to_string(T) +
                                    " timesteps; --steps must be in [1, T]");
    std::vector<uint32_t> ts(S);
    for (uint32_t i = 0; i < S; ++i) {
        switch (spacing) {
            case Spacing::linspace:
                ts[i] = S == 1 ? T - 1 : uint32_t(std::lround(double(T - 1) * (S - 1 - i) / (S - 1)));
                break;
            case Spacing::leading: ts[i] = (S - 1 - i) * (T / S); break;
            case Spacing::trailing: ts[i] = uint32_t(std::lround(T - i * double(T) / S)) - 1; break;
        }
    }
    return ts;
}

Respaced respace(const ScheduleSpec& spec, uint32_t S, Spacing spacing) {
    Respaced r{respace(spec.timesteps, S, spacing), {}};
    auto levels = compute_levels(spec);
    for (uint32_t t : r.timesteps) r.alpha_bar.push_back(levels[t].alpha_bar);
    r.alpha_bar.push_back(1.0);
    return r;
}

Spacing spacing_from_name(const std::string& n) {
    if (n == "linspace") return Spacing::linspace;
    if (n == "leading") return Spacing::leading;
    if (n == "trailing") return Spacing::trailing;
    throw std::invalid_argument("unknown timestep spacing \"" + n + "\"; use linspace, leading or trailing");
}

}  // namespace diffuscope
