#include "tests/reference/schedule_ref.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace ref {

static std::vector<double> linspace(double a, double b, uint32_t n) {
    std::vector<double> v(n);
    for (uint32_t i = 0; i < n; ++i) v[i] = n == 1 ? a : a + (b - a) * i / (n - 1);
    return v;
}

double cosine_alpha_bar(double tau, double s) {
    double f = std::cos((tau + s) / (1 + s) * std::numbers::pi / 2), f0 = std::cos(s / (1 + s) * std::numbers::pi / 2);
    return (f * f) / (f0 * f0);
}

std::vector<double> betas(const std::string& preset, uint32_t T) {
    const double scale = 1000.0 / T;
    std::vector<double> b;
    if (preset == "linear") {
        b = linspace(scale * 1e-4, scale * 0.02, T);
    } else if (preset == "quadratic" || preset == "scaled-linear") {
        double b0 = preset == "quadratic" ? 1e-4 : 0.00085, b1 = preset == "quadratic" ? 0.02 : 0.012;
        b = linspace(std::sqrt(b0), std::sqrt(b1), T);
        for (auto& x : b) x = scale * x * x;
    } else if (preset == "sigmoid") {
        b = linspace(-6, 6, T);
        for (auto& x : b) x = scale * (1e-4 + (0.02 - 1e-4) / (1 + std::exp(-x)));
    } else if (preset == "cosine") {
        for (uint32_t i = 0; i < T; ++i)
            b.push_back(std::min(1 - cosine_alpha_bar(double(i + 1) / T) / cosine_alpha_bar(double(i) / T), 0.999));
    } else {
        throw std::invalid_argument("ref::betas: unknown preset " + preset);
    }
    for (auto& x : b) x = std::min(x, 0.999);
    return b;
}

std::vector<double> cumprod_alphas(const std::vector<double>& betas) {
    std::vector<double> a(betas.size());
    double p = 1;
    for (size_t i = 0; i < betas.size(); ++i) a[i] = p *= 1 - betas[i];
    return a;
}

std::vector<double> rescale_zero_terminal_snr(const std::vector<double>& betas) {
    auto ab = cumprod_alphas(betas);
    std::vector<double> s(ab.size());
    for (size_t i = 0; i < ab.size(); ++i) s[i] = std::sqrt(ab[i]);
    double s0 = s.front(), sT = s.back();
    for (auto& x : s) x = (x - sT) * s0 / (s0 - sT);
    for (size_t i = 0; i < ab.size(); ++i) ab[i] = s[i] * s[i];
    return ab;
}

}  // namespace ref
