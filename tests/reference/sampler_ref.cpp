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

ChainRefResult run_chain(const ChainRef& c, const std::vector<LevelD>& L, const std::vector<uint32_t>& ts_in,
                         const std::vector<int>& labels, const ModelRef& model) {
    const uint32_t S = uint32_t(ts_in.size()), T = uint32_t(L.size() - 1), n = c.n, dim = c.dim;
    std::vector<uint32_t> ts = ts_in;
    ts.push_back(T);
    const auto& o = c.options;
    auto noise = [&](uint32_t s, uint32_t step, uint32_t i) {
        return double(engine::rng::gaussian(o.seed, o.first_index + s, step, i));
    };
    ChainRefResult r;
    std::vector<double> x(size_t(n) * dim);
    for (uint32_t s = 0; s < n; ++s)
        for (uint32_t i = 0; i < dim; ++i) x[s * dim + i] = noise(s, 0, i);
    r.x_after_step.push_back(x);

    // ε̂, x̂₀, score of every chain at xs and level t (guidance doubles the model batch).
    auto evaluate = [&](const std::vector<double>& xs, uint32_t t, std::vector<double>& x0, std::vector<double>& eps,
                        std::vector<double>& sc) {
        const uint32_t B = c.guided ? 2 * n : n;
        std::vector<double> in(size_t(B) * dim), ab(B, L[t].alpha_bar), out(size_t(B) * dim);
        std::vector<int> lb(B);
        for (uint32_t b = 0; b < B; ++b) {
            std::copy_n(xs.begin() + (b % n) * dim, dim, in.begin() + b * dim);
            lb[b] = b < n ? labels[b] : 10;
        }
        model(in, ab, lb, out);
        x0.resize(xs.size());
        eps.resize(xs.size());
        sc.resize(xs.size());
        for (uint32_t s = 0; s < n; ++s) {
            auto sl = [&](const std::vector<double>& v, uint32_t b) {
                return std::vector<double>(v.begin() + b * dim, v.begin() + (b + 1) * dim);
            };
            std::vector<double> a0, e0, s0;
            denoise_ref(sl(out, s), c.guided ? sl(out, n + s) : std::vector<double>{}, sl(xs, s), L[t].alpha_bar,
                        c.prediction, o, c.guided, a0, e0, s0);
            std::copy(a0.begin(), a0.end(), x0.begin() + s * dim);
            std::copy(e0.begin(), e0.end(), eps.begin() + s * dim);
            std::copy(s0.begin(), s0.end(), sc.begin() + s * dim);
        }
    };

    std::vector<double> x0, eps, sc, x0_prev;
    for (uint32_t i = 0; i < S; ++i) {
        const LevelD &lc = L[ts[i]], &ln = L[ts[i + 1]];
        const bool last = i + 1 == S;
        evaluate(x, ts[i], x0, eps, sc);
        r.x0_hat = x0;
        r.eps_hat = eps;
        r.score = sc;
        const double ab = lc.alpha_bar, abn = ln.alpha_bar;
        const double sig = std::sqrt((1 - ab) / ab), sig_n = std::sqrt((1 - abn) / abn);
        std::vector<double> next(x.size());
        switch (c.kind) {
            case SamplerKind::ddpm: {
                double beta = 1 - ab / abn;
                double var = o.ddpm_sigma == DdpmSigma::posterior ? beta * (1 - abn) / (1 - ab) : beta;
                for (size_t k = 0; k < x.size(); ++k) {
                    double mean = std::sqrt(abn) * beta / (1 - ab) * x0[k] + std::sqrt(1 - beta) * (1 - abn) / (1 - ab) * x[k];
                    next[k] = last ? x0[k] : mean + std::sqrt(var) * noise(uint32_t(k / dim), i + 1, uint32_t(k % dim));
                }
                break;
            }
            case SamplerKind::ddim: {
                double sigma = o.eta * std::sqrt((1 - abn) / (1 - ab) * (1 - ab / abn));
                double dir = std::sqrt(std::max(1 - abn - sigma * sigma, 0.0));
                for (size_t k = 0; k < x.size(); ++k)
                    next[k] = std::sqrt(abn) * x0[k] + dir * eps[k] +
                              (sigma > 0 ? sigma * noise(uint32_t(k / dim), i + 1, uint32_t(k % dim)) : 0.0);
                break;
            }
            case SamplerKind::euler:
            case SamplerKind::heun: {
                // On x̃ = x/√ᾱ: dx̃/dσ = ε̂.
                std::vector<double> xe(x.size());
                for (size_t k = 0; k < x.size(); ++k)
                    xe[k] = last ? x0[k] : std::sqrt(abn) * (x[k] / std::sqrt(ab) + (sig_n - sig) * eps[k]);
                if (c.kind == SamplerKind::euler || last) {
                    next = xe;
                    break;
                }
                std::vector<double> x0b, eps2, scb;
                evaluate(xe, ts[i + 1], x0b, eps2, scb);
                for (size_t k = 0; k < x.size(); ++k)
                    next[k] = std::sqrt(abn) * (x[k] / std::sqrt(ab) + (sig_n - sig) * 0.5 * (eps[k] + eps2[k]));
                break;
            }
            case SamplerKind::sde: {
                double du = std::log(abn) - std::log(ab);
                for (size_t k = 0; k < x.size(); ++k)
                    next[k] = last ? x0[k]
                                   : x[k] + (0.5 * x[k] + sc[k]) * du +
                                         std::sqrt(du) * noise(uint32_t(k / dim), i + 1, uint32_t(k % dim));
                break;
            }
            case SamplerKind::dpmpp2m: {
                auto lam = [&](const LevelD& l) { return 0.5 * std::log(l.alpha_bar / (1 - l.alpha_bar)); };
                double h = lam(ln) - lam(lc);
                for (size_t k = 0; k < x.size(); ++k) {
                    double d = x0[k];
                    if (i > 0) {
                        double r2 = (lam(lc) - lam(L[ts[i - 1]])) / h;
                        d = (1 + 0.5 / r2) * x0[k] - 0.5 / r2 * x0_prev[k];
                    }
                    next[k] = last ? x0[k] : std::sqrt((1 - abn) / (1 - ab)) * x[k] - std::sqrt(abn) * std::expm1(-h) * d;
                }
                x0_prev = x0;
                break;
            }
        }
        x = next;
        r.x_after_step.push_back(x);
    }
    r.x = x;
    return r;
}

}  // namespace ref
