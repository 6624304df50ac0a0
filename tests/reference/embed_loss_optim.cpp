// tests/reference/embed_loss_optim.cpp — the conditioning embeddings, the MSE loss, and the optimiser.
#include "tests/reference/nn_ref.hpp"

#include <algorithm>
#include <cmath>

namespace ref {

double sinusoidal_frequency(int k, int half) { return std::pow(1000.0, double(k) / double(half - 1)); }

void sinusoidal_forward(int n, int d, double scale, cspan level, vspan e) {
    const int half = d / 2;
    for (int r = 0; r < n; ++r)
        for (int k = 0; k < half; ++k) {
            double a = scale * level[r] * sinusoidal_frequency(k, half);
            e[size_t(r) * d + k] = std::sin(a);
            e[size_t(r) * d + half + k] = std::cos(a);
        }
}

static int row_of(int32_t label, int rows) { return label >= 0 && label < rows ? label : rows - 1; }

void label_embed_forward(int n, int rows, int d, std::span<const int32_t> label, cspan table, vspan y) {
    for (int r = 0; r < n; ++r)
        for (int k = 0; k < d; ++k) y[size_t(r) * d + k] = table[size_t(row_of(label[r], rows)) * d + k];
}

// y is a copy of one row per sample, so ∂L/∂table[row] = Σ over the samples that read that row of dy.
void label_embed_backward(int n, int rows, int d, std::span<const int32_t> label, cspan dy, vspan dtable) {
    std::fill(dtable.begin(), dtable.end(), 0.0);
    for (int r = 0; r < n; ++r)
        for (int k = 0; k < d; ++k) dtable[size_t(row_of(label[r], rows)) * d + k] += dy[size_t(r) * d + k];
}

double mse_forward(cspan pred, cspan target) {
    double s = 0;
    for (size_t i = 0; i < pred.size(); ++i) s += (pred[i] - target[i]) * (pred[i] - target[i]);
    return s / double(pred.size());
}

void mse_backward(cspan pred, cspan target, vspan dpred) {
    for (size_t i = 0; i < pred.size(); ++i) dpred[i] = 2.0 * (pred[i] - target[i]) / double(pred.size());
}

double softmax_xent_forward(int n, int k, cspan z, std::span<const int32_t> label, vspan p) {
    double total = 0;
    for (int i = 0; i < n; ++i) {
        double m = z[size_t(i) * k];
        for (int j = 1; j < k; ++j) m = std::max(m, z[size_t(i) * k + j]);
        double s = 0;
        for (int j = 0; j < k; ++j) s += std::exp(z[size_t(i) * k + j] - m);
        for (int j = 0; j < k; ++j) p[size_t(i) * k + j] = std::exp(z[size_t(i) * k + j] - m) / s;
        total += std::log(s) - (z[size_t(i) * k + label[i]] - m);
    }
    return total / n;
}

void softmax_xent_backward(int n, int k, cspan p, std::span<const int32_t> label, vspan dz) {
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < k; ++j)
            dz[size_t(i) * k + j] = (p[size_t(i) * k + j] - (j == label[i] ? 1.0 : 0.0)) / n;
}

StepResult adamw_step(const AdamW& o, uint32_t t, vspan p, cspan g, vspan m, vspan v) {
    StepResult r;
    double sq = 0;
    for (double x : g) sq += x * x;
    r.grad_norm = std::sqrt(sq);
    if (!std::isfinite(r.grad_norm)) {
        r.skipped = true;
        r.clip_scale = 0;
        return r;
    }
    r.clip_scale = o.max_grad_norm > 0 ? std::min(1.0, o.max_grad_norm / (r.grad_norm + 1e-6)) : 1.0;
    const double bc1 = 1.0 - std::pow(o.beta1, double(t)), bc2 = 1.0 - std::pow(o.beta2, double(t));
    for (size_t i = 0; i < p.size(); ++i) {
        double gi = g[i] * r.clip_scale;
        m[i] = o.beta1 * m[i] + (1 - o.beta1) * gi;
        v[i] = o.beta2 * v[i] + (1 - o.beta2) * gi * gi;
        p[i] *= 1.0 - o.lr * o.weight_decay;
        p[i] -= o.lr * (m[i] / bc1) / (std::sqrt(v[i] / bc2) + o.eps);
    }
    return r;
}

void ema_update(double decay, cspan p, vspan ema) {
    for (size_t i = 0; i < p.size(); ++i) ema[i] = decay * ema[i] + (1.0 - decay) * p[i];
}

}  // namespace ref
