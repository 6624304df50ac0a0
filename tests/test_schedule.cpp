// Schedules: the double twin against the papers' closed forms; schedule.comp against the twin for every preset,
// curve and odd T; the curve round-trips; the guards refuse bad curves with a reason and the shader's own clamps
// keep NaN out even when the guard is bypassed; zero terminal SNR; respacing.
#include "diffusion/schedule/schedule.hpp"
#include "diffusion/schedule/schedule_gpu.hpp"
#include "tests/gpu.hpp"
#include "tests/reference/schedule_ref.hpp"

#include <algorithm>
#include <cmath>

using namespace diffuscope;

namespace {

ScheduleSpec preset(SchedulePreset p, uint32_t T, bool ztsnr = false) {
    ScheduleSpec s;
    s.preset = p;
    s.timesteps = T;
    s.zero_terminal_snr = ztsnr;
    return s;
}

double rel(double got, double want) { return std::abs(got - want) / std::max(std::abs(want), 1e-300); }

const SchedulePreset k_presets[] = {SchedulePreset::linear, SchedulePreset::scaled_linear, SchedulePreset::quadratic,
                                    SchedulePreset::cosine, SchedulePreset::sigmoid};

// A β curve and a log-SNR curve as the editor would produce them.
ScheduleSpec beta_curve(uint32_t T, CurveInterpolation i) {
    ScheduleSpec s;
    s.preset = SchedulePreset::curve;
    s.timesteps = T;
    s.space = CurveSpace::beta;
    s.interpolation = i;
    s.points = {{0, 1e-4}, {0.3, 0.004}, {0.5, 0.003}, {0.8, 0.015}, {1, 0.03}};  // β need not be monotone
    return s;
}
ScheduleSpec log_snr_curve(uint32_t T, CurveInterpolation i) {
    ScheduleSpec s;
    s.preset = SchedulePreset::curve;
    s.timesteps = T;
    s.space = CurveSpace::log_snr;
    s.interpolation = i;
    s.points = {{0, 10}, {0.2, 4}, {0.5, 0}, {0.7, -2}, {1, -9}};
    return s;
}

}  // namespace

TEST(Schedule, TwinMatchesThePublishedClosedForms) {
    for (uint32_t T : {2u, 7u, 1000u, 4000u}) {
        for (auto p : k_presets) {
            auto want = ref::cumprod_alphas(ref::betas(preset_name(p), T));
            auto got = compute_levels(preset(p, T));
            ASSERT_EQ(got.size(), T + 1);
            for (uint32_t t = 0; t < T; ++t)
                ASSERT_LT(rel(got[t].alpha_bar, want[t]), 1e-10) << preset_name(p) << " T=" << T << " t=" << t;
        }
        // Cosine's ᾱ is f(τ)/f(0) itself wherever the 0.999 cap has not acted (every step but the last).
        auto cos = compute_levels(preset(SchedulePreset::cosine, T));
        for (uint32_t t = 0; t + 1 < T; ++t) ASSERT_LT(rel(cos[t].alpha_bar, ref::cosine_alpha_bar(double(t + 1) / T)), 1e-10);
        EXPECT_EQ(cos[T - 1].beta, 0.999);
        EXPECT_TRUE(cos[T - 1].flags & level_beta_clamped_high);
    }
    // Spot values from the literature: DDPM linear ᾱ_999 = 4.036e-5; Stable Diffusion's terminal √ᾱ = 0.068265
    // (Lin et al. 2023, section 3.1).
    EXPECT_NEAR(compute_levels(preset(SchedulePreset::linear, 1000))[999].alpha_bar, 4.036e-5, 0.001e-5);
    EXPECT_NEAR(compute_levels(preset(SchedulePreset::scaled_linear, 1000))[999].sqrt_alpha_bar, 0.068265, 1e-6);
}

TEST(Schedule, TwinDerivedQuantitiesAreTheirDefinitions) {
    for (auto spec : {preset(SchedulePreset::linear, 1000), preset(SchedulePreset::cosine, 37),
                      log_snr_curve(300, CurveInterpolation::monotone_cubic)}) {
        auto L = compute_levels(spec);
        const uint32_t T = spec.timesteps;
        for (uint32_t t = 0; t < T; ++t) {
            double ab = L[t].alpha_bar, ab_prev = t ? L[t - 1].alpha_bar : 1.0, b = L[t].beta;
            ASSERT_LT(rel(ab, ab_prev * (1 - b)), 1e-12);
            ASSERT_LT(rel(L[t].log_snr, std::log(ab / (1 - ab))), 1e-9);
            ASSERT_LT(rel(L[t].sigma, std::sqrt((1 - ab) / ab)), 1e-9);
            ASSERT_LT(rel(L[t].sqrt_one_minus_alpha_bar, std::sqrt(1 - ab)), 1e-9);
            if (t) {
                ASSERT_LT(rel(L[t].posterior_variance, (1 - ab_prev) / (1 - ab) * b), 1e-9);
            }
            // The posterior mean coefficients reproduce q(x_{t−1}|x_t, x₀) at x₀ = x_t/√ᾱ (a noise-free x_t):
            // μ̃ = x_t/√ᾱ_t · √ᾱ_{t−1} exactly.
            double x0 = 1.0 / std::sqrt(ab);
            ASSERT_LT(rel(L[t].posterior_mean_coef_x0 * x0 + L[t].posterior_mean_coef_xt, std::sqrt(ab_prev) * x0), 1e-9);
        }
        EXPECT_EQ(L[0].posterior_variance, 0.0);
        EXPECT_EQ(L[0].posterior_log_variance, L[1].posterior_log_variance);
        EXPECT_EQ(L[T].alpha_bar, 1.0);
        EXPECT_EQ(L[T].flags, level_clean);
    }
}

class ScheduleGpu : public test::GpuTest {};

// Compare every level field of the GPU buffer with the twin. Tolerances are what float evaluation of the same
// formulas costs (worst measured across the cases below in brackets):
//  - ᾱ, √ᾱ, √(1−ᾱ), σ relative and λ, log ᾱ absolute: 2e-4 when T < 20 [5.4e-5] — there several β sit at
//    beta_max, and float(0.999) is 1.3e-5 off in 1 − β — or with zero terminal SNR [9.1e-5: √ᾱ − √ᾱ_{T−1} cancels
//    near the end, where ᾱ'' ≈ 2⁻²⁴]; else 2e-5 [4e-6];
//  - β, α and the posterior terms: 2e-5 [1.5e-5] for β-defined schedules (5e-5 [2.1e-5] when T < 20); 1e-3
//    [8.3e-4 at T = 4000] for ᾱ-defined
//    ones (cosine, log-SNR curves), whose β = −expm1(log ᾱ_t − log ᾱ_{t−1}) loses ulp(log ᾱ)/β ≈ 1e-6/0.005 to
//    the difference of two floats. ᾱ itself stays at the tight bound.
static void expect_matches_twin(ScheduleBuffer& sb, const ScheduleSpec& spec, const std::string& what) {
    const bool ab_defined = spec.preset == SchedulePreset::cosine || spec.zero_terminal_snr ||
                            (spec.preset == SchedulePreset::curve && spec.space == CurveSpace::log_snr);
    const double tol_ab = spec.timesteps < 20 || spec.zero_terminal_snr ? 2e-4 : 2e-5;
    const double tol_beta = ab_defined ? 1e-3 : spec.timesteps < 20 ? 5e-5 : 2e-5;
    auto twin = compute_levels(spec);
    auto got = sb.download();
    const uint32_t T = spec.timesteps;
    ASSERT_EQ(sb.timesteps(), T);
    double worst_ab = 0, worst_beta = 0, worst_post = 0, worst_lambda = 0;
    for (uint32_t t = 0; t <= T; ++t) {
        const Level& g = got[t];
        const LevelD& w = twin[t];
        for (float v : {g.beta, g.alpha, g.alpha_bar, g.sqrt_alpha_bar, g.sqrt_one_minus_alpha_bar, g.log_snr, g.sigma,
                        g.posterior_variance, g.posterior_log_variance, g.posterior_mean_coef_x0,
                        g.posterior_mean_coef_xt, g.tau, g.snr})
            ASSERT_TRUE(std::isfinite(v)) << what << " t=" << t;
        EXPECT_EQ(g.flags, w.flags) << what << " t=" << t;
        worst_ab = std::max({worst_ab, rel(g.alpha_bar, w.alpha_bar), rel(g.sqrt_alpha_bar, w.sqrt_alpha_bar),
                             rel(g.one_minus_alpha_bar, w.one_minus_alpha_bar),
                             rel(g.sqrt_one_minus_alpha_bar, w.sqrt_one_minus_alpha_bar), rel(g.sigma, w.sigma)});
        worst_lambda = std::max({worst_lambda, std::abs(g.log_snr - w.log_snr), std::abs(g.log_alpha_bar - w.log_alpha_bar)});
        if (t < T) {
            worst_beta = std::max({worst_beta, rel(g.beta, w.beta), rel(g.alpha, w.alpha)});
            worst_post = std::max({worst_post, rel(g.posterior_mean_coef_x0, w.posterior_mean_coef_x0),
                                   rel(g.posterior_mean_coef_xt, w.posterior_mean_coef_xt),
                                   std::abs(g.posterior_log_variance - w.posterior_log_variance)});
            if (t) worst_post = std::max(worst_post, rel(g.posterior_variance, w.posterior_variance));
        }
    }
    EXPECT_LT(worst_ab, tol_ab) << what;
    EXPECT_LT(worst_lambda, tol_ab) << what;
    EXPECT_LT(worst_beta, tol_beta) << what;
    EXPECT_LT(worst_post, tol_beta) << what;
}

TEST_F(ScheduleGpu, EveryPresetAndCurveMatchesTheTwinAtOddT) {
    ScheduleBuffer sb(ctx);
    for (uint32_t T : {2u, 7u, 255u, 257u, 1000u, 4000u}) {
        std::vector<ScheduleSpec> specs;
        for (auto p : k_presets) specs.push_back(preset(p, T));
        for (auto i : {CurveInterpolation::linear, CurveInterpolation::monotone_cubic}) {
            specs.push_back(beta_curve(T, i));
            specs.push_back(log_snr_curve(T, i));
        }
        for (const auto& s : specs) {
            test::poison(const_cast<engine::Buffer&>(sb.levels()));
            sb.set(s);
            expect_matches_twin(sb, s, preset_name(s.preset) + " T=" + std::to_string(T));
        }
    }
}

TEST_F(ScheduleGpu, ZeroTerminalSnrFollowsLinEtAl) {
    ScheduleBuffer sb(ctx);
    for (uint32_t T : {2u, 10u, 1000u, 4000u}) {
        for (auto p : {SchedulePreset::linear, SchedulePreset::scaled_linear, SchedulePreset::cosine}) {
            auto spec = preset(p, T, true);
            sb.set(spec);
            expect_matches_twin(sb, spec, "zero-SNR " + preset_name(p) + " T=" + std::to_string(T));
            auto g = sb.download();
            auto twin = compute_levels(spec);
            // Algorithm 1 verbatim (ᾱ_{T−1} = 0) against ours (ᾱ'' = f + (1−f)ᾱ'): equal up to f = 2⁻²⁴.
            auto lin = ref::rescale_zero_terminal_snr(ref::betas(preset_name(p), T));
            for (uint32_t t = 0; t < T; ++t) ASSERT_NEAR(twin[t].alpha_bar, lin[t], 2 * zero_snr_floor) << t;
            EXPECT_NEAR(g[T - 1].log_snr, std::log(zero_snr_floor), 1e-3);
            EXPECT_NEAR(g[0].sqrt_alpha_bar, compute_levels(preset(p, T))[0].sqrt_alpha_bar, 1e-6);  // √ᾱ₀ kept
            for (uint32_t t = 0; t < T; ++t) {
                ASSERT_GT(g[t].beta, 0.0f) << t;
                ASSERT_LT(g[t].beta, 1.0f) << t;
                if (t) {  // strictly in double; in float ᾱ'' may round to the floor on two steps
                    ASSERT_LT(twin[t].alpha_bar, twin[t - 1].alpha_bar) << "ᾱ not strictly decreasing at " << t;
                    ASSERT_LE(g[t].alpha_bar, g[t - 1].alpha_bar) << "ᾱ increasing at " << t;
                }
            }
        }
    }
}

TEST(Schedule, CurvesRoundTrip) {
    // A two-point linear β curve is the linear preset.
    ScheduleSpec c;
    c.preset = SchedulePreset::curve;
    c.interpolation = CurveInterpolation::linear;
    c.points = {{0, 1e-4}, {1, 0.02}};
    auto a = compute_levels(c), b = compute_levels(preset(SchedulePreset::linear, 1000));
    for (uint32_t t = 0; t < 1000; ++t) ASSERT_LT(rel(a[t].alpha_bar, b[t].alpha_bar), 1e-12);
    // A log-SNR curve's levels pass through its knots: with T = 1000 and knots at τ = (t+1)/T, λ_t is the knot's
    // value (to the scan's rounding), for both interpolations.
    for (auto interp : {CurveInterpolation::linear, CurveInterpolation::monotone_cubic}) {
        auto spec = log_snr_curve(1000, interp);
        spec.points = {{0, 11}, {0.2, 5}, {0.5, 0.5}, {0.75, -3}, {1, -10}};
        auto L = compute_levels(spec);
        for (size_t k = 1; k < spec.points.size(); ++k) {
            const auto& p = spec.points[k];
            ASSERT_NEAR(L[uint32_t(std::lround(p.t * 1000)) - 1].log_snr, p.value, 1e-9) << p.t;
        }
    }
    // The cosine preset's λ sampled at 33 points and drawn back by the monotone cubic: λ within 0.02 away from the
    // two segments at each end (cosine's λ → ±∞ at τ = 0 and 1; the curve is cut at τ = 0.001 and 0.995) and ᾱ
    // within 2e-3 everywhere.
    ScheduleSpec l;
    l.preset = SchedulePreset::curve;
    l.space = CurveSpace::log_snr;
    auto cos = compute_levels(preset(SchedulePreset::cosine, 1000));
    for (int k = 0; k <= 32; ++k) {
        double ab = ref::cosine_alpha_bar(std::clamp(k / 32.0, 1e-3, 0.995));
        l.points.push_back({k / 32.0, std::log(ab / (1 - ab))});
    }
    auto back = compute_levels(l);
    for (uint32_t t = 0; t < 990; ++t) {
        ASSERT_NEAR(back[t].alpha_bar, cos[t].alpha_bar, 2e-3) << t;
        if (t >= 62 && t < 906) {
            ASSERT_NEAR(back[t].log_snr, cos[t].log_snr, 0.02) << t;
        }
    }
    // JSON: save → load gives the same spec and the same levels.
    auto spec = log_snr_curve(321, CurveInterpolation::monotone_cubic);
    spec.zero_terminal_snr = true;
    auto again = curve_from_json(curve_to_json(spec), "round trip");
    EXPECT_EQ(again.timesteps, 321u);
    EXPECT_TRUE(again.zero_terminal_snr);
    ASSERT_EQ(again.points.size(), spec.points.size());
    auto l1 = compute_levels(spec), l2 = compute_levels(again);
    for (uint32_t t = 0; t <= 321; ++t) ASSERT_EQ(l1[t].alpha_bar, l2[t].alpha_bar);
}

TEST(Schedule, MonotoneCubicStaysMonotoneAndHitsThePoints) {
    std::vector<CurvePoint> p = {{0, 0}, {0.1, 0.01}, {0.2, 0.9}, {0.5, 1.0}, {0.6, 1.0}, {1, 3}};
    auto m = monotone_tangents(p);
    for (const auto& q : p) EXPECT_NEAR(eval_curve(p, m, CurveInterpolation::monotone_cubic, q.t), q.value, 1e-12);
    double prev = -1;
    for (int i = 0; i <= 10000; ++i) {  // a plain cubic spline overshoots between 0.1 and 0.2 and dips after 0.5
        double v = eval_curve(p, m, CurveInterpolation::monotone_cubic, i / 10000.0);
        ASSERT_GE(v, prev - 1e-12) << "at t = " << i / 10000.0;
        prev = v;
    }
}

TEST(Schedule, GuardsRefuseBadCurvesWithAReason) {
    struct Case {
        const char* name;
        ScheduleSpec spec;
        const char* must_say;
    };
    auto curve = [](CurveSpace sp, std::vector<CurvePoint> pts) {
        ScheduleSpec s;
        s.preset = SchedulePreset::curve;
        s.space = sp;
        s.points = std::move(pts);
        return s;
    };
    std::vector<Case> cases = {
        {"NaN value", curve(CurveSpace::beta, {{0, 1e-4}, {0.5, NAN}, {1, 0.02}}), "not a finite number"},
        {"β ≥ 1", curve(CurveSpace::beta, {{0, 1e-4}, {0.5, 1.5}, {1, 0.02}}), "β must lie in (0, 1)"},
        {"β ≤ 0", curve(CurveSpace::beta, {{0, 0}, {1, 0.02}}), "β must lie in (0, 1)"},
        {"t not increasing", curve(CurveSpace::beta, {{0, 1e-4}, {0.6, 0.01}, {0.4, 0.01}, {1, 0.02}}),
         "t must strictly increase"},
        {"not spanning [0,1]", curve(CurveSpace::beta, {{0.1, 1e-4}, {1, 0.02}}), "span t = 0"},
        {"one point", curve(CurveSpace::beta, {{0, 1e-4}}), "2 to 64 control points"},
        {"λ increasing (ᾱ non-monotone)", curve(CurveSpace::log_snr, {{0, 5}, {0.5, 6}, {1, -8}}),
         "must strictly decrease"},
        {"ᾱ_T ≈ 1", curve(CurveSpace::log_snr, {{0, 9}, {1, 6}}), "the fully noised x_T would keep most"},
        {"β too small to reach noise", curve(CurveSpace::beta, {{0, 1e-6}, {1, 1e-5}}), "the fully noised x_T"},
        {"T = 1", preset(SchedulePreset::linear, 1), "outside [2, 4000]"},
        {"T = 4001", preset(SchedulePreset::cosine, 4001), "outside [2, 4000]"},
    };
    for (const auto& c : cases) {
        try {
            check_schedule(c.spec);
            ADD_FAILURE() << c.name << ": accepted";
        } catch (const ScheduleError& e) {
            EXPECT_NE(std::string(e.what()).find(c.must_say), std::string::npos) << c.name << ": " << e.what();
        }
    }
    // Allowed but reported: cosine's cap, and a schedule that ends with some signal left.
    auto r = check_schedule(preset(SchedulePreset::cosine, 1000));
    EXPECT_EQ(r.clamped_high, 1u);
    EXPECT_FALSE(r.warnings.empty());
    auto r2 = check_schedule(curve(CurveSpace::log_snr, {{0, 9}, {1, -2}}));
    EXPECT_GT(r2.alpha_bar_last, 0.01);
    EXPECT_FALSE(r2.warnings.empty());
    EXPECT_TRUE(check_schedule(preset(SchedulePreset::linear, 1000)).warnings.empty());
}

TEST_F(ScheduleGpu, RefusedSpecKeepsTheOldLevelsAndTheShaderClampsWhatTheGuardMissed) {
    ScheduleBuffer sb(ctx);
    sb.set(preset(SchedulePreset::linear, 500));
    auto before = sb.download();
    ScheduleSpec bad = log_snr_curve(800, CurveInterpolation::linear);
    bad.points[2].value = 20;  // λ rises: refused
    EXPECT_THROW(sb.set(bad), ScheduleError);
    EXPECT_EQ(sb.timesteps(), 500u);
    auto after = sb.download();
    for (uint32_t t = 0; t <= 500; ++t) ASSERT_EQ(after[t].alpha_bar, before[t].alpha_bar);

    // Bypass the guard: a rising λ, a NaN knot, β above 1. No field may be NaN; the flags say what was clamped.
    struct Raw {
        ScheduleSpec spec;
        uint32_t expect_flags;
    };
    ScheduleSpec nan_curve = beta_curve(300, CurveInterpolation::monotone_cubic);
    nan_curve.points[1].value = NAN;
    ScheduleSpec big = beta_curve(300, CurveInterpolation::linear);
    big.points[3].value = 3.0;
    for (const auto& raw : {Raw{bad, level_beta_clamped_low}, Raw{nan_curve, level_not_finite},
                            Raw{big, level_beta_clamped_high}}) {
        test::poison(const_cast<engine::Buffer&>(sb.levels()));
        sb.set_unchecked(schedule_params(raw.spec));
        auto L = sb.download();
        uint32_t seen = 0;
        for (uint32_t t = 0; t <= raw.spec.timesteps; ++t) {
            const float* f = &L[t].beta;
            for (int k = 0; k < 15; ++k) ASSERT_TRUE(std::isfinite(f[k])) << "field " << k << " at t=" << t;
            if (t < raw.spec.timesteps) {
                ASSERT_GT(L[t].beta, 0.0f);
                ASSERT_LT(L[t].beta, 1.0f);
                if (t) {
                    ASSERT_LE(L[t].alpha_bar, L[t - 1].alpha_bar);
                }
            }
            seen |= L[t].flags;
        }
        EXPECT_TRUE(seen & raw.expect_flags) << "flags " << seen;
    }
}

TEST(Schedule, RespacingMatchesThePapers) {
    // Lin et al. 2023, Table 2 (T = 1000, S = 10).
    EXPECT_EQ(respace(1000, 10, Spacing::linspace),
              (std::vector<uint32_t>{999, 888, 777, 666, 555, 444, 333, 222, 111, 0}));
    EXPECT_EQ(respace(1000, 10, Spacing::leading),
              (std::vector<uint32_t>{900, 800, 700, 600, 500, 400, 300, 200, 100, 0}));
    EXPECT_EQ(respace(1000, 10, Spacing::trailing),
              (std::vector<uint32_t>{999, 899, 799, 699, 599, 499, 399, 299, 199, 99}));
    for (auto sp : {Spacing::linspace, Spacing::leading, Spacing::trailing}) {
        for (uint32_t T : {2u, 7u, 1000u, 4000u}) {
            for (uint32_t S : {1u, 2u, 3u, T / 3 + 1, T}) {
                if (S > T) continue;
                auto ts = respace(T, S, sp);
                ASSERT_EQ(ts.size(), S);
                for (size_t i = 0; i < ts.size(); ++i) {
                    ASSERT_LT(ts[i], T);
                    if (i) {
                        ASSERT_LT(ts[i], ts[i - 1]) << "not strictly descending: T=" << T << " S=" << S;
                    }
                }
            }
            EXPECT_EQ(respace(T, T, sp).front(), T - 1);
        }
    }
    auto lv = respace(preset(SchedulePreset::cosine, 1000), 4, Spacing::trailing);
    EXPECT_EQ(lv.timesteps, (std::vector<uint32_t>{999, 749, 499, 249}));
    ASSERT_EQ(lv.alpha_bar.size(), 5u);
    EXPECT_NEAR(lv.alpha_bar[2], ref::cosine_alpha_bar(500 / 1000.0), 1e-12);
    EXPECT_EQ(lv.alpha_bar[4], 1.0);
    EXPECT_THROW(respace(100, 101, Spacing::trailing), std::invalid_argument);
    EXPECT_THROW(respace(100, 0, Spacing::trailing), std::invalid_argument);
}
