#include "diffusion/eval/frechet.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace diffuscope::eval {

Gaussian fit_gaussian(const std::vector<float>& rows, size_t dim) {
    if (dim == 0 || rows.size() % dim) throw std::invalid_argument("fit_gaussian: rows are not a whole number of vectors");
    const size_t n = rows.size() / dim;
    if (n < 2) throw std::invalid_argument("fit_gaussian: need at least 2 vectors");
    Gaussian g{dim, std::vector<double>(dim, 0.0), std::vector<double>(dim * dim, 0.0)};
    for (size_t r = 0; r < n; ++r)
        for (size_t i = 0; i < dim; ++i) g.mean[i] += rows[r * dim + i];
    for (auto& m : g.mean) m /= double(n);
    std::vector<double> d(dim);
    for (size_t r = 0; r < n; ++r) {
        for (size_t i = 0; i < dim; ++i) d[i] = rows[r * dim + i] - g.mean[i];
        for (size_t i = 0; i < dim; ++i)
            for (size_t j = i; j < dim; ++j) g.cov[i * dim + j] += d[i] * d[j];
    }
    for (size_t i = 0; i < dim; ++i)
        for (size_t j = i; j < dim; ++j) g.cov[j * dim + i] = g.cov[i * dim + j] /= double(n - 1);
    return g;
}

// Cyclic Jacobi: rotate away each off-diagonal element in turn until the off-diagonal mass is negligible.
void symmetric_eigen(std::vector<double> a, size_t n, std::vector<double>& values, std::vector<double>& v) {
    v.assign(n * n, 0.0);
    for (size_t i = 0; i < n; ++i) v[i * n + i] = 1.0;
    double total = 0;
    for (double x : a) total += x * x;
    for (int sweep = 0; sweep < 100; ++sweep) {
        double off = 0;
        for (size_t i = 0; i < n; ++i)
            for (size_t j = i + 1; j < n; ++j) off += a[i * n + j] * a[i * n + j];
        if (off <= 1e-30 * std::max(total, 1e-300)) break;
        for (size_t p = 0; p < n; ++p)
            for (size_t q = p + 1; q < n; ++q) {
                const double apq = a[p * n + q];
                if (std::abs(apq) < 1e-300) continue;
                const double theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
                const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1));
                const double c = 1 / std::sqrt(t * t + 1), s = t * c;
                for (size_t k = 0; k < n; ++k) {  // columns p, q of A·J
                    const double akp = a[k * n + p], akq = a[k * n + q];
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for (size_t k = 0; k < n; ++k) {  // rows p, q of Jᵀ·(A·J)
                    const double apk = a[p * n + k], aqk = a[q * n + k];
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for (size_t k = 0; k < n; ++k) {
                    const double vkp = v[k * n + p], vkq = v[k * n + q];
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
    }
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t x, size_t y) { return a[x * n + x] < a[y * n + y]; });
    values.resize(n);
    std::vector<double> sorted(n * n);
    for (size_t c = 0; c < n; ++c) {
        values[c] = a[order[c] * n + order[c]];
        for (size_t r = 0; r < n; ++r) sorted[r * n + c] = v[r * n + order[c]];
    }
    v = std::move(sorted);
}

double frechet_distance(const Gaussian& a, const Gaussian& b) {
    if (a.dim != b.dim) throw std::invalid_argument("frechet_distance: dimensions differ");
    const size_t n = a.dim;
    double d2 = 0;
    for (size_t i = 0; i < n; ++i) d2 += (a.mean[i] - b.mean[i]) * (a.mean[i] - b.mean[i]);
    double tr = 0;
    for (size_t i = 0; i < n; ++i) tr += a.cov[i * n + i] + b.cov[i * n + i];
    // S = Σa^½ (symmetric), M = S·Σb·S; tr(M^½) = Σ √λ(M).
    std::vector<double> lam, vec;
    symmetric_eigen(a.cov, n, lam, vec);
    std::vector<double> s(n * n, 0.0), tmp(n * n, 0.0), m(n * n, 0.0);
    for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < n; ++j) {
            double x = 0;
            for (size_t k = 0; k < n; ++k) x += vec[i * n + k] * std::sqrt(std::max(lam[k], 0.0)) * vec[j * n + k];
            s[i * n + j] = x;
        }
    for (size_t i = 0; i < n; ++i)
        for (size_t k = 0; k < n; ++k) {
            const double sik = s[i * n + k];
            for (size_t j = 0; j < n; ++j) tmp[i * n + j] += sik * b.cov[k * n + j];
        }
    for (size_t i = 0; i < n; ++i)
        for (size_t k = 0; k < n; ++k) {
            const double tik = tmp[i * n + k];
            for (size_t j = 0; j < n; ++j) m[i * n + j] += tik * s[k * n + j];
        }
    for (size_t i = 0; i < n; ++i)  // symmetrise away rounding
        for (size_t j = i + 1; j < n; ++j) m[i * n + j] = m[j * n + i] = 0.5 * (m[i * n + j] + m[j * n + i]);
    symmetric_eigen(m, n, lam, vec);
    double tr_sqrt = 0;
    for (double l : lam) tr_sqrt += std::sqrt(std::max(l, 0.0));
    return std::max(0.0, d2 + tr - 2 * tr_sqrt);
}

}  // namespace diffuscope::eval
