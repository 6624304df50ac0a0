// tests/nn_check.hpp — what every layer test shares: random tensors, the error measure, and the central
// finite-difference check of a reference backward.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace nncheck {

inline std::vector<double> randn(size_t n, uint64_t seed, double scale = 1.0) {
    std::mt19937_64 g(seed);
    std::normal_distribution<double> d(0.0, scale);
    std::vector<double> v(n);
    for (auto& x : v) x = d(g);
    return v;
}

inline std::vector<float> to_float(std::span<const double> v) { return {v.begin(), v.end()}; }
inline std::vector<double> to_double(std::span<const float> v) { return {v.begin(), v.end()}; }

// Largest |got − ref| / (|ref| + floor), with floor = 1e-3·max|ref| (+1e-12), so near-zero entries
// do not dominate. NaN anywhere in `got` (a poisoned output left unwritten) returns +inf.
inline double max_rel_err(std::span<const float> got, std::span<const double> ref) {
    if (got.size() != ref.size()) return INFINITY;
    double scale = 0;
    for (double r : ref) scale = std::max(scale, std::abs(r));
    double floor = 1e-3 * scale + 1e-12, worst = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        if (!std::isfinite(got[i])) return INFINITY;
        worst = std::max(worst, std::abs(double(got[i]) - ref[i]) / (std::abs(ref[i]) + floor));
    }
    return worst;
}

// Central differences of the scalar `loss(p)` against `grad` at up to `samples` indices of p (all if
// p is small), step h. Returns the largest relative error |fd − g| / max(|fd|, |g|, 1e-6·scale).
inline double fd_max_rel_err(std::vector<double>& p, std::span<const double> grad,
                             const std::function<double()>& loss, double h = 1e-5, size_t samples = 64,
                             uint64_t seed = 7) {
    std::vector<size_t> idx(p.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    if (idx.size() > samples) {
        std::mt19937_64 g(seed);
        std::shuffle(idx.begin(), idx.end(), g);
        idx.resize(samples);
    }
    double gscale = 0;
    for (double v : grad) gscale = std::max(gscale, std::abs(v));
    double worst = 0;
    for (size_t i : idx) {
        double keep = p[i];
        p[i] = keep + h;
        double lp = loss();
        p[i] = keep - h;
        double lm = loss();
        p[i] = keep;
        double fd = (lp - lm) / (2 * h);
        double denom = std::max({std::abs(fd), std::abs(grad[i]), 1e-6 * gscale + 1e-12});
        worst = std::max(worst, std::abs(fd - grad[i]) / denom);
    }
    return worst;
}

// Σ a·b, the scalar whose gradient a backward computes when the upstream gradient is b.
inline double dot(std::span<const double> a, std::span<const double> b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

}  // namespace nncheck
