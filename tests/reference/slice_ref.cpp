#include "tests/reference/slice_ref.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ref {

SymmetricEigen jacobi_eigen(std::vector<double> a, size_t n, int max_sweeps) {
    std::vector<double> v(n * n, 0.0);
    for (size_t i = 0; i < n; ++i) v[i * n + i] = 1;
    double total = 0;
    for (double x : a) total += x * x;
    for (int sweep = 0; sweep < max_sweeps; ++sweep) {
        double off = 0;
        for (size_t p = 0; p < n; ++p)
            for (size_t q = p + 1; q < n; ++q) off += 2 * a[p * n + q] * a[p * n + q];
        if (off <= 1e-30 * total) break;
        for (size_t p = 0; p < n; ++p)
            for (size_t q = p + 1; q < n; ++q) {
                const double apq = a[p * n + q];
                if (apq == 0) continue;
                // The rotation J (c, s) with (JᵀAJ)_pq = 0: θ = (a_qq − a_pp)/(2 a_pq), t = sgn θ/(|θ| + √(θ² + 1)).
                const double theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
                const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1));
                const double c = 1 / std::sqrt(t * t + 1), s = t * c;
                for (size_t k = 0; k < n; ++k) {  // A ← A J (columns p, q)
                    const double akp = a[k * n + p], akq = a[k * n + q];
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for (size_t k = 0; k < n; ++k) {  // A ← Jᵀ A (rows p, q)
                    const double apk = a[p * n + k], aqk = a[q * n + k];
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for (size_t k = 0; k < n; ++k) {  // V ← V J
                    const double vkp = v[k * n + p], vkq = v[k * n + q];
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
    }
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t(0));
    std::sort(order.begin(), order.end(), [&](size_t l, size_t r) { return a[l * n + l] > a[r * n + r]; });
    SymmetricEigen out;
    for (size_t i : order) {
        out.values.push_back(a[i * n + i]);
        std::vector<double> e(n);
        for (size_t k = 0; k < n; ++k) e[k] = v[k * n + i];
        out.vectors.push_back(std::move(e));
    }
    return out;
}

}  // namespace ref
