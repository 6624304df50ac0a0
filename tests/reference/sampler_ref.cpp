#include "tests/reference/sampler_ref.hpp"

#include "engine/rng.hpp"

#include <algorithm>
#include <cmath>

namespace ref {

using namespace diffuscope;

void denoise_ref(const std::vector<double>& out, const std::vector<double>& uncond, const std::vector<double>& x,
                 double ab, Prediction p, const SamplerOptions& o, bool guided, std::vector<double>& x0,
                 std::vector<double>& eps, std::vector<double>& score) {
    const size_t d = x.size();
    x0.assign(d, 0);
    eps.assign(d, 0);
    score.assign(d, 0);
    if (ab >= 1) {
        x0 = x;
        return;
    }
    const double a = std::sqrt(ab), b = std::sqrt(1 - ab);
    for (size_t i = 0; i < d; ++i) {
        double v = guided ? uncond[i] + o.guidance * (out[i] - uncond[i]) : out[i];
        if (p == Prediction::eps) x0[i] = (x[i] - b * v) / a;
        else if (p == Prediction::x0) x0[i] = v;
        else x0[i] = a * x[i] - b * v;
        if (o.clip == ClipMode::clip) x0[i] = std::clamp(x0[i], -1.0, 1.0);
    }
    if (o.clip == ClipMode::dynamic) {  // nearest-rank percentile of |x̂₀|, Saharia et al. 2022
        std::vector<double> m(d);
        for (size_t i = 0; i < d; ++i) m[i] = std::abs(x0[i]);
        std::sort(m.begin(), m.end());
        size_t k = std::clamp<size_t>(size_t(std::ceil(double(o.percentile) * d)), 1, d);
        double s = std::max(m[k - 1], 1.0);
        for (auto& v : x0) v = std::clamp(v, -s, s) / s;
    }
    for (size_t i = 0; i < d; ++i) {
        if (p == Prediction::eps && o.clip == ClipMode::none) {
            eps[i] = guided ? uncond[i] + o.guidance * (out[i] - uncond[i]) : out[i];
        } else if (p == Prediction::v && o.clip == ClipMode::none) {
            double v = guided ? uncond[i] + o.guidance * (out[i] - uncond[i]) : out[i];
            eps[i] = b * x[i] + a * v;
        } else {
            eps[i] = (x[i] - a * x0[i]) / b;
        }
        score[i] = -eps[i] / b;
    }
}

namespace {

using Vec = std::vector<double>;

// x̂₀, ε̂ and the score of every chain, [n, dim] each.
struct Denoised {
    Vec x0, eps, score;
};
// The model and the denoise pass for all chains at state x and one level.
using DenoiseFn = std::function<Denoised(const Vec& x, const LevelD& level)>;
// z(k): the step's N(0, 1) draw for element k of the [n, dim] state.
using NoiseFn = std::function<double(size_t k)>;

// One step takes the chains from level `cur` (timesteps[i]) to `next` (timesteps[i + 1]); `last` when `next`
// is the clean sentinel.
struct StepLevels {
    const LevelD &cur, &next;
    bool last;
};

// Element i of sample s, draw `draw` (0: x_T; step i: i + 1), from the RNG twin.
double gaussian(const SamplerOptions& o, uint32_t s, uint32_t draw, uint32_t i) {
    return double(engine::rng::gaussian(o.seed, o.first_index + s, draw, i));
}

// prepare_model_input.comp + the model + denoise.comp: with guidance the model batch is doubled, samples
// n…2n−1 repeating x with the null label 10.
Denoised denoise_all(const ChainRef& c, const Vec& xs, const LevelD& level, const std::vector<int>& labels,
                     const ModelRef& model) {
    const uint32_t n = c.n, dim = c.dim, B = c.guided ? 2 * n : n;
    Vec in(size_t(B) * dim), ab(B, level.alpha_bar), out(size_t(B) * dim);
    std::vector<int> lb(B);
    for (uint32_t b = 0; b < B; ++b) {
        std::copy_n(xs.begin() + (b % n) * dim, dim, in.begin() + b * dim);
        lb[b] = b < n ? labels[b] : 10;
    }
    model(in, ab, lb, out);
    auto sl = [&](const Vec& v, uint32_t b) { return Vec(v.begin() + b * dim, v.begin() + (b + 1) * dim); };
    Denoised d{Vec(xs.size()), Vec(xs.size()), Vec(xs.size())};
    for (uint32_t s = 0; s < n; ++s) {
        Vec a0, e0, s0;
        denoise_ref(sl(out, s), c.guided ? sl(out, n + s) : Vec{}, sl(xs, s), level.alpha_bar, c.prediction,
                    c.options, c.guided, a0, e0, s0);
        std::copy(a0.begin(), a0.end(), d.x0.begin() + s * dim);
        std::copy(e0.begin(), e0.end(), d.eps.begin() + s * dim);
        std::copy(s0.begin(), s0.end(), d.score.begin() + s * dim);
    }
    return d;
}

// ddpm_step.comp — ancestral DDPM (Ho et al. 2020, Alg. 2) through the posterior mean of eq. 7:
//   β' = 1 − ᾱ_t/ᾱ_t',   μ̃ = √ᾱ_t' β'/(1 − ᾱ_t) x̂₀ + √(1 − β') (1 − ᾱ_t')/(1 − ᾱ_t) x_t
//   x_t' = μ̃ + σ z,   σ² = β' (1 − ᾱ_t')/(1 − ᾱ_t) (posterior) or β';   the last step returns x̂₀.
Vec ddpm_step(const DenoiseFn& denoise, const StepLevels& lv, const Vec& x, const NoiseFn& z, DdpmSigma sigma) {
    const Denoised d = denoise(x, lv.cur);
    const double ab = lv.cur.alpha_bar, abn = lv.next.alpha_bar;
    const double beta = 1 - ab / abn;
    const double var = sigma == DdpmSigma::posterior ? beta * (1 - abn) / (1 - ab) : beta;
    Vec next(x.size());
    for (size_t k = 0; k < x.size(); ++k) {
        double mean = std::sqrt(abn) * beta / (1 - ab) * d.x0[k] + std::sqrt(1 - beta) * (1 - abn) / (1 - ab) * x[k];
        next[k] = lv.last ? d.x0[k] : mean + std::sqrt(var) * z(k);
    }
    return next;
}

// ddim_step.comp — DDIM (Song et al. 2020, eq. 12 and 16):
//   x_t' = √ᾱ_t' x̂₀ + √(1 − ᾱ_t' − σ²) ε̂ + σ z,   σ = η √((1 − ᾱ_t')/(1 − ᾱ_t)) √(1 − ᾱ_t/ᾱ_t')
Vec ddim_step(const DenoiseFn& denoise, const StepLevels& lv, const Vec& x, const NoiseFn& z, double eta) {
    const Denoised d = denoise(x, lv.cur);
    const double ab = lv.cur.alpha_bar, abn = lv.next.alpha_bar;
    const double sigma = eta * std::sqrt((1 - abn) / (1 - ab) * (1 - ab / abn));
    const double dir = std::sqrt(std::max(1 - abn - sigma * sigma, 0.0));
    Vec next(x.size());
    for (size_t k = 0; k < x.size(); ++k)
        next[k] = std::sqrt(abn) * d.x0[k] + dir * d.eps[k] + (sigma > 0 ? sigma * z(k) : 0.0);
    return next;
}

// The Euler update on the probability-flow ODE in x̃ = x/√ᾱ, σ = √((1 − ᾱ)/ᾱ) (Karras et al. 2022), where
// dx̃/dσ = ε̂:   x_t' = √ᾱ_t' (x_t/√ᾱ_t + (σ' − σ) ε̂);   the last step returns x̂₀.
Vec euler_update(const StepLevels& lv, const Vec& x, const Denoised& d) {
    const double ab = lv.cur.alpha_bar, abn = lv.next.alpha_bar;
    const double sig = std::sqrt((1 - ab) / ab), sig_n = std::sqrt((1 - abn) / abn);
    Vec next(x.size());
    for (size_t k = 0; k < x.size(); ++k)
        next[k] = lv.last ? d.x0[k] : std::sqrt(abn) * (x[k] / std::sqrt(ab) + (sig_n - sig) * d.eps[k]);
    return next;
}

// euler_step.comp — one Euler step of the probability-flow ODE (euler_update above).
Vec euler_step(const DenoiseFn& denoise, const StepLevels& lv, const Vec& x) {
    return euler_update(lv, x, denoise(x, lv.cur));
}

// heun_step.comp — Heun's method (Karras et al. 2022, Alg. 1 without churn): the Euler predictor x̃_E, then
//   x_t' = √ᾱ_t' (x_t/√ᾱ_t + (σ' − σ) · ½ (ε̂(x_t; σ) + ε̂(x̃_E; σ')));   the last step is the Euler step alone.
Vec heun_step(const DenoiseFn& denoise, const StepLevels& lv, const Vec& x) {
    const Denoised d = denoise(x, lv.cur);
    Vec xe = euler_update(lv, x, d);
    if (lv.last) return xe;
    const Denoised d2 = denoise(xe, lv.next);
    const double ab = lv.cur.alpha_bar, abn = lv.next.alpha_bar;
    const double sig = std::sqrt((1 - ab) / ab), sig_n = std::sqrt((1 - abn) / abn);
    Vec next(x.size());
    for (size_t k = 0; k < x.size(); ++k)
        next[k] = std::sqrt(abn) * (x[k] / std::sqrt(ab) + (sig_n - sig) * 0.5 * (d.eps[k] + d2.eps[k]));
    return next;
}

// sde_step.comp — Euler–Maruyama on the reverse VP SDE (Song et al. 2021, eq. 6) in u = log ᾱ:
//   x_t' = x_t + (½ x_t + s) Δu + √Δu z,   Δu = log ᾱ_t' − log ᾱ_t,   s the score;   the last step returns x̂₀.
Vec sde_step(const DenoiseFn& denoise, const StepLevels& lv, const Vec& x, const NoiseFn& z) {
    const Denoised d = denoise(x, lv.cur);
    const double du = std::log(lv.next.alpha_bar) - std::log(lv.cur.alpha_bar);
    Vec next(x.size());
    for (size_t k = 0; k < x.size(); ++k)
        next[k] = lv.last ? d.x0[k] : x[k] + (0.5 * x[k] + d.score[k]) * du + std::sqrt(du) * z(k);
    return next;
}

// DPM-Solver++(2M)'s memory: the previous step's x̂₀ and level (none before the first step).
struct Dpmpp2mHistory {
    Vec x0;
    const LevelD* level = nullptr;
};

// dpmpp2m_step.comp — DPM-Solver++(2M) (Lu et al. 2022, Alg. 2), λ = ½ log(ᾱ/(1 − ᾱ)), h = λ' − λ:
//   x_t' = √((1 − ᾱ_t')/(1 − ᾱ_t)) x_t − √ᾱ_t' expm1(−h) D
//   D = x̂₀ on the first step; else, with r = h_prev/h,  D = (1 + 1/(2r)) x̂₀ − 1/(2r) x̂₀_prev
// The last step returns x̂₀.
Vec dpmpp2m_step(const DenoiseFn& denoise, const StepLevels& lv, const Vec& x, Dpmpp2mHistory& prev) {
    const Denoised d = denoise(x, lv.cur);
    const double ab = lv.cur.alpha_bar, abn = lv.next.alpha_bar;
    auto lam = [](const LevelD& l) { return 0.5 * std::log(l.alpha_bar / (1 - l.alpha_bar)); };
    const double h = lam(lv.next) - lam(lv.cur);
    Vec next(x.size());
    for (size_t k = 0; k < x.size(); ++k) {
        double D = d.x0[k];
        if (prev.level) {
            double r = (lam(lv.cur) - lam(*prev.level)) / h;
            D = (1 + 0.5 / r) * d.x0[k] - 0.5 / r * prev.x0[k];
        }
        next[k] = lv.last ? d.x0[k] : std::sqrt((1 - abn) / (1 - ab)) * x[k] - std::sqrt(abn) * std::expm1(-h) * D;
    }
    prev = {d.x0, &lv.cur};
    return next;
}

}  // namespace

ChainRefResult run_chain(const ChainRef& c, const std::vector<LevelD>& L, const std::vector<uint32_t>& ts_in,
                         const std::vector<int>& labels, const ModelRef& model) {
    const uint32_t S = uint32_t(ts_in.size()), T = uint32_t(L.size() - 1), dim = c.dim;
    std::vector<uint32_t> ts = ts_in;
    ts.push_back(T);
    const auto& o = c.options;
    ChainRefResult r;
    Vec x(size_t(c.n) * dim);  // chain_init.comp: x_T ~ N(0, I), draw 0
    for (uint32_t s = 0; s < c.n; ++s)
        for (uint32_t i = 0; i < dim; ++i) x[s * dim + i] = gaussian(o, s, 0, i);
    r.x_after_step.push_back(x);

    bool first = true;  // the result keeps each step's first evaluation
    const DenoiseFn denoise = [&](const Vec& xs, const LevelD& level) {
        Denoised d = denoise_all(c, xs, level, labels, model);
        if (first) {
            r.x0_hat = d.x0;
            r.eps_hat = d.eps;
            r.score = d.score;
            first = false;
        }
        return d;
    };
    Dpmpp2mHistory history;
    for (uint32_t i = 0; i < S; ++i) {
        const StepLevels lv{L[ts[i]], L[ts[i + 1]], i + 1 == S};
        const NoiseFn z = [&, i](size_t k) { return gaussian(o, uint32_t(k / dim), i + 1, uint32_t(k % dim)); };
        first = true;
        switch (c.kind) {
            case SamplerKind::ddpm: x = ddpm_step(denoise, lv, x, z, o.ddpm_sigma); break;
            case SamplerKind::ddim: x = ddim_step(denoise, lv, x, z, o.eta); break;
            case SamplerKind::euler: x = euler_step(denoise, lv, x); break;
            case SamplerKind::heun: x = heun_step(denoise, lv, x); break;
            case SamplerKind::sde: x = sde_step(denoise, lv, x, z); break;
            case SamplerKind::dpmpp2m: x = dpmpp2m_step(denoise, lv, x, history); break;
        }
        r.x_after_step.push_back(x);  // chain_advance.comp: step ← step + 1
    }
    r.x = x;
    return r;
}

}  // namespace ref
