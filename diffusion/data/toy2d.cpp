#include "diffusion/data/toy2d.hpp"

#include <cmath>
#include <numbers>
#include <random>
#include <stdexcept>

namespace diffuscope::data {

namespace {

constexpr double pi = std::numbers::pi;

struct P {
    double x, y;
};

// Components every `spacing` along a polyline (σ ≈ spacing keeps the density smooth along the curve).
void along(Gmm& g, const std::vector<P>& pts, double spacing, float sigma, int32_t label) {
    for (size_t k = 0; k + 1 < pts.size(); ++k) {
        double dx = pts[k + 1].x - pts[k].x, dy = pts[k + 1].y - pts[k].y, len = std::hypot(dx, dy);
        int n = std::max(1, int(std::lround(len / spacing)));
        for (int j = 0; j < n; ++j)
            add_component(g, float(pts[k].x + dx * j / n), float(pts[k].y + dy * j / n), sigma, float(len / n), label);
    }
    add_component(g, float(pts.back().x), float(pts.back().y), sigma, float(spacing), label);
}

std::vector<P> arc(double cx, double cy, double rx, double ry, double deg0, double deg1, int n = 40) {
    std::vector<P> v;
    for (int i = 0; i <= n; ++i) {
        double a = (deg0 + (deg1 - deg0) * i / n) * pi / 180;
        v.push_back({cx + rx * std::cos(a), cy + ry * std::sin(a)});
    }
    return v;
}

std::vector<P> cat(std::vector<P> a, const std::vector<P>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// The ten digits as strokes in x ∈ [−0.6, 0.6], y ∈ [−1, 1] (y up).
std::vector<std::vector<P>> digit_strokes(int d) {
    switch (d) {
        case 0: return {arc(0, 0, 0.55, 0.92, 0, 360, 60)};
        case 1: return {{{-0.3, 0.62}, {0.05, 0.95}, {0.05, -0.95}}};
        case 2: return {cat(arc(0, 0.45, 0.5, 0.47, 160, -35), {{-0.52, -0.95}, {0.58, -0.95}})};
        case 3: return {arc(0, 0.47, 0.45, 0.45, 150, -90), arc(0, -0.45, 0.52, 0.5, 90, -155)};
        case 4: return {{{0.3, -0.95}, {0.3, 0.95}, {-0.55, -0.3}, {0.6, -0.3}}};
        case 5: return {cat({{0.5, 0.95}, {-0.38, 0.95}, {-0.45, 0.08}}, arc(0, -0.42, 0.52, 0.52, 125, -150))};
        case 6: return {{{0.42, 0.95}, {0.0, 0.68}, {-0.38, 0.2}, {-0.5, -0.42}}, arc(0, -0.45, 0.5, 0.5, 180, -180)};
        case 7: return {{{-0.55, 0.95}, {0.55, 0.95}, {-0.1, -0.95}}};
        case 8: return {arc(0, 0.5, 0.42, 0.42, -90, 270), arc(0, -0.44, 0.52, 0.5, 90, 450)};
        case 9: return {arc(0, 0.45, 0.5, 0.5, 0, 360), {{0.5, 0.45}, {0.38, -0.95}}};
    }
    return {};
}

}  // namespace

void add_component(Gmm& g, float mx, float my, float sigma, float weight, int32_t label) {
    g.components.push_back({{mx, my}, std::log(weight), label, {sigma * sigma, 0, sigma * sigma, 0}});
}

void normalise(Gmm& g) {
    double m = -INFINITY, s = 0;
    for (const auto& c : g.components) m = std::max(m, double(c.log_weight));
    for (const auto& c : g.components) s += std::exp(c.log_weight - m);
    for (auto& c : g.components) c.log_weight = float(c.log_weight - m - std::log(s));
}

std::vector<std::string> toy2d_names() { return {"gmm8", "rings", "moons", "digits"}; }

Gmm toy2d(const std::string& name) {
    Gmm g;
    g.name = name;
    if (name == "gmm8") {  // 8 Gaussians on a circle of radius 0.9, σ = 0.08; label = position
        g.n_labels = 8;
        for (int k = 0; k < 8; ++k)
            add_component(g, float(0.9 * std::cos(k * pi / 4)), float(0.9 * std::sin(k * pi / 4)), 0.08f, 1, k);
    } else if (name == "rings") {  // radii 0.45 (label 0) and 0.95 (label 1), mass ∝ length
        g.n_labels = 2;
        along(g, arc(0, 0, 0.45, 0.45, 0, 360, 96), 0.05, 0.04f, 0);
        along(g, arc(0, 0, 0.95, 0.95, 0, 360, 160), 0.05, 0.04f, 1);
    } else if (name == "moons") {  // scikit-learn's two moons, centred and scaled by 0.7
        g.n_labels = 2;
        std::vector<P> up, down;
        for (int i = 0; i <= 40; ++i) {
            double a = pi * i / 40;
            up.push_back({0.7 * (std::cos(a) - 0.5), 0.7 * (std::sin(a) - 0.25)});
            down.push_back({0.7 * (1 - std::cos(a) - 0.5), 0.7 * (0.5 - std::sin(a) - 0.25)});
        }
        along(g, up, 0.06, 0.05f, 0);
        along(g, down, 0.06, 0.05f, 1);
    } else if (name == "digits") {  // each digit's strokes; every digit has total mass 1/10
        g.n_labels = 10;
        for (int d = 0; d < 10; ++d) {
            Gmm one;
            for (const auto& s : digit_strokes(d)) along(one, s, 0.06, 0.045f, d);
            normalise(one);
            for (auto& c : one.components) {
                c.log_weight += float(std::log(0.1));
                g.components.push_back(c);
            }
        }
    } else {
        throw std::invalid_argument("unknown 2-D toy \"" + name + "\"; choose gmm8, rings, moons or digits");
    }
    normalise(g);
    return g;
}

std::vector<float> sample_toy2d(const Gmm& g, uint32_t n, uint64_t seed, int32_t label) {
    std::vector<double> w;
    bool any = false;
    for (const auto& c : g.components) any = any || c.label == label;
    if (label != 10 && !any)
        throw std::invalid_argument("toy \"" + g.name + "\" has no label " + std::to_string(label) + " (it has 0–" +
                                    std::to_string(g.n_labels - 1) + ")");
    for (const auto& c : g.components) w.push_back(label == 10 || c.label == label ? std::exp(double(c.log_weight)) : 0.0);
    std::mt19937_64 gen(seed);
    std::discrete_distribution<size_t> pick(w.begin(), w.end());
    std::normal_distribution<double> z;
    std::vector<float> out(2 * size_t(n));
    for (uint32_t i = 0; i < n; ++i) {
        const auto& c = g.components[pick(gen)];
        // Σ = L Lᵀ (Cholesky of the 2×2 covariance)
        double l11 = std::sqrt(c.cov[0]), l21 = c.cov[1] / l11, l22 = std::sqrt(c.cov[2] - l21 * l21);
        double z1 = z(gen), z2 = z(gen);
        out[2 * i] = float(c.mean[0] + l11 * z1);
        out[2 * i + 1] = float(c.mean[1] + l21 * z1 + l22 * z2);
    }
    return out;
}

}  // namespace diffuscope::data
