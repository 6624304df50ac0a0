// tests/reference/linear_norm.cpp — linear and GroupNorm in double.
#include "tests/reference/nn_ref.hpp"

#include <algorithm>
#include <cmath>

namespace ref {

void linear_forward(int n, int in, int out, cspan x, cspan w, cspan b, vspan y) {
    for (int r = 0; r < n; ++r)
        for (int o = 0; o < out; ++o) {
            double s = b.empty() ? 0.0 : b[o];
            for (int i = 0; i < in; ++i) s += x[size_t(r) * in + i] * w[size_t(o) * in + i];
            y[size_t(r) * out + o] = s;
        }
}

// dx = dy·W, dW = dyᵀ·x, db = Σ_n dy
void linear_backward(int n, int in, int out, cspan x, cspan w, cspan dy, vspan dx, vspan dw, vspan db) {
    std::fill(dx.begin(), dx.end(), 0.0);
    std::fill(dw.begin(), dw.end(), 0.0);
    if (!db.empty()) std::fill(db.begin(), db.end(), 0.0);
    for (int r = 0; r < n; ++r)
        for (int o = 0; o < out; ++o) {
            double g = dy[size_t(r) * out + o];
            if (!db.empty()) db[o] += g;
            for (int i = 0; i < in; ++i) {
                dx[size_t(r) * in + i] += g * w[size_t(o) * in + i];
                dw[size_t(o) * in + i] += g * x[size_t(r) * in + i];
            }
        }
}

// Two passes (mean, then the centred second moment), as a reference should.
void groupnorm_forward(int n, int c, int hw, int g, double eps, cspan x, cspan gamma, cspan beta, vspan y,
                       vspan mean, vspan rstd) {
    const int cg = c / g;
    const size_t m = size_t(cg) * hw;
    for (int b = 0; b < n; ++b)
        for (int k = 0; k < g; ++k) {
            size_t base = (size_t(b) * c + size_t(k) * cg) * hw;
            double mu = 0, var = 0;
            for (size_t i = 0; i < m; ++i) mu += x[base + i];
            mu /= double(m);
            for (size_t i = 0; i < m; ++i) var += (x[base + i] - mu) * (x[base + i] - mu);
            var /= double(m);
            double rs = 1.0 / std::sqrt(var + eps);
            mean[size_t(b) * g + k] = mu;
            rstd[size_t(b) * g + k] = rs;
            for (size_t i = 0; i < m; ++i) {
                int ch = k * cg + int(i / hw);
                y[base + i] = (x[base + i] - mu) * rs * gamma[ch] + beta[ch];
            }
        }
}

// x̂ = (x − μ)·r, y = γ x̂ + β, μ and r = (σ² + eps)^(−1/2) over a group of m values. With u = dy·γ:
//   ∂L/∂x̂ = u;  ∂L/∂x = r·(u − mean(u) − x̂·mean(u·x̂))   (the mean's and the variance's paths),
//   ∂L/∂γ[c] = Σ_{n,hw} dy·x̂,  ∂L/∂β[c] = Σ_{n,hw} dy.
void groupnorm_backward(int n, int c, int hw, int g, double eps, cspan x, cspan gamma, cspan dy, vspan dx,
                        vspan dgamma, vspan dbeta) {
    const int cg = c / g;
    const size_t m = size_t(cg) * hw;
    std::fill(dgamma.begin(), dgamma.end(), 0.0);
    std::fill(dbeta.begin(), dbeta.end(), 0.0);
    std::vector<double> xhat(m);
    for (int b = 0; b < n; ++b)
        for (int k = 0; k < g; ++k) {
            size_t base = (size_t(b) * c + size_t(k) * cg) * hw;
            double mu = 0, var = 0;
            for (size_t i = 0; i < m; ++i) mu += x[base + i];
            mu /= double(m);
            for (size_t i = 0; i < m; ++i) var += (x[base + i] - mu) * (x[base + i] - mu);
            var /= double(m);
            double rs = 1.0 / std::sqrt(var + eps), mean_u = 0, mean_ux = 0;
            for (size_t i = 0; i < m; ++i) {
                int ch = k * cg + int(i / hw);
                xhat[i] = (x[base + i] - mu) * rs;
                double u = dy[base + i] * gamma[ch];
                mean_u += u;
                mean_ux += u * xhat[i];
                dgamma[ch] += dy[base + i] * xhat[i];
                dbeta[ch] += dy[base + i];
            }
            mean_u /= double(m);
            mean_ux /= double(m);
            for (size_t i = 0; i < m; ++i) {
                int ch = k * cg + int(i / hw);
                dx[base + i] = rs * (dy[base + i] * gamma[ch] - mean_u - xhat[i] * mean_ux);
            }
        }
}

}  // namespace ref
