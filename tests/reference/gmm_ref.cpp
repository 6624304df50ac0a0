#include "tests/reference/gmm_ref.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>

namespace ref {

using diffuscope::data::Gmm;

namespace {
bool matches(const Gmm& g, int label) {
    if (label == 10) return false;
    for (const auto& c : g.components)
        if (c.label == label) return true;
    return false;
}

// Per-component log π_k N(x; √ᾱ μ_k, C_k) and C_k⁻¹ d_k, for the components in use.
template <class F>
void each_component(const Gmm& g, double ab, std::array<double, 2> x, int label, F&& f) {
    const bool filter = matches(g, label);
    for (const auto& c : g.components) {
        if (filter && c.label != label) continue;
        double c11 = ab * c.cov[0] + (1 - ab), c12 = ab * c.cov[1], c22 = ab * c.cov[2] + (1 - ab);
        double det = c11 * c22 - c12 * c12;
        double d0 = x[0] - std::sqrt(ab) * c.mean[0], d1 = x[1] - std::sqrt(ab) * c.mean[1];
        double i0 = (c22 * d0 - c12 * d1) / det, i1 = (c11 * d1 - c12 * d0) / det;
        double logw = c.log_weight - std::log(2 * std::numbers::pi) - 0.5 * std::log(det) - 0.5 * (d0 * i0 + d1 * i1);
        f(c, logw, i0, i1);
    }
}
}  // namespace

double gmm_log_density(const Gmm& g, double ab, std::array<double, 2> x, int label) {
    std::vector<double> lw;
    each_component(g, ab, x, label, [&](auto&, double logw, double, double) { lw.push_back(logw); });
    double m = *std::max_element(lw.begin(), lw.end()), s = 0;
    for (double v : lw) s += std::exp(v - m);
    return m + std::log(s);
}

GmmPosterior gmm_posterior(const Gmm& g, double ab, std::array<double, 2> x, int label) {
    double lse = gmm_log_density(g, ab, x, label);
    GmmPosterior p{{0, 0}, {0, 0}};
    each_component(g, ab, x, label, [&](const diffuscope::data::GmmComponent& c, double logw, double i0, double i1) {
        double r = std::exp(logw - lse);
        p.score[0] -= r * i0;
        p.score[1] -= r * i1;
        p.x0[0] += r * (c.mean[0] + std::sqrt(ab) * (c.cov[0] * i0 + c.cov[1] * i1));
        p.x0[1] += r * (c.mean[1] + std::sqrt(ab) * (c.cov[1] * i0 + c.cov[2] * i1));
    });
    return p;
}

std::array<double, 2> gmm_predict(const Gmm& g, double ab, std::array<double, 2> x, int label, diffuscope::Prediction p) {
    auto q = gmm_posterior(g, ab, x, label);
    double a = std::sqrt(ab), b = std::sqrt(1 - ab);
    std::array<double, 2> out{};
    for (int i = 0; i < 2; ++i) {
        double e = -b * q.score[i];
        out[i] = p == diffuscope::Prediction::eps ? e : p == diffuscope::Prediction::x0 ? q.x0[i] : a * e - b * q.x0[i];
    }
    return out;
}

double sliced_wasserstein(const std::vector<float>& a, const std::vector<float>& b, int projections, uint64_t seed) {
    const size_t n = a.size() / 2;
    std::mt19937_64 gen(seed);
    std::uniform_real_distribution<double> u(0, 2 * std::numbers::pi);
    std::vector<double> pa(n), pb(n);
    double total = 0;
    for (int p = 0; p < projections; ++p) {
        double th = u(gen), cx = std::cos(th), cy = std::sin(th);
        for (size_t i = 0; i < n; ++i) {
            pa[i] = cx * a[2 * i] + cy * a[2 * i + 1];
            pb[i] = cx * b[2 * i] + cy * b[2 * i + 1];
        }
        std::sort(pa.begin(), pa.end());
        std::sort(pb.begin(), pb.end());
        double s = 0;
        for (size_t i = 0; i < n; ++i) s += (pa[i] - pb[i]) * (pa[i] - pb[i]);
        total += s / double(n);
    }
    return std::sqrt(total / projections);
}

}  // namespace ref
