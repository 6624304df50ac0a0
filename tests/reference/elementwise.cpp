// tests/reference/elementwise.cpp — SiLU, nearest upsampling, concat, the broadcast bias add, the residual add.
#include "tests/reference/nn_ref.hpp"

#include <cmath>

namespace ref {

static double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

void silu_forward(cspan x, vspan y) {
    for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * sigmoid(x[i]);
}

// d(x·σ(x))/dx = σ + x·σ·(1 − σ)
void silu_backward(cspan x, cspan dy, vspan dx) {
    for (size_t i = 0; i < x.size(); ++i) {
        double s = sigmoid(x[i]);
        dx[i] = dy[i] * s * (1.0 + x[i] * (1.0 - s));
    }
}

void upsample2_forward(int nc, int h, int w, cspan x, vspan y) {
    for (int p = 0; p < nc; ++p)
        for (int i = 0; i < 2 * h; ++i)
            for (int j = 0; j < 2 * w; ++j)
                y[(size_t(p) * 2 * h + i) * 2 * w + j] = x[(size_t(p) * h + i / 2) * w + j / 2];
}

void upsample2_backward(int nc, int h, int w, cspan dy, vspan dx) {
    for (int p = 0; p < nc; ++p)
        for (int i = 0; i < h; ++i)
            for (int j = 0; j < w; ++j) {
                double s = 0;
                for (int a = 0; a < 2; ++a)
                    for (int b = 0; b < 2; ++b) s += dy[(size_t(p) * 2 * h + 2 * i + a) * 2 * w + 2 * j + b];
                dx[(size_t(p) * h + i) * w + j] = s;
            }
}

void concat_forward(int n, int ca, int cb, int hw, cspan a, cspan b, vspan y) {
    for (int r = 0; r < n; ++r) {
        for (size_t i = 0; i < size_t(ca) * hw; ++i) y[size_t(r) * (ca + cb) * hw + i] = a[size_t(r) * ca * hw + i];
        for (size_t i = 0; i < size_t(cb) * hw; ++i)
            y[(size_t(r) * (ca + cb) + ca) * hw + i] = b[size_t(r) * cb * hw + i];
    }
}

void concat_backward(int n, int ca, int cb, int hw, cspan dy, vspan da, vspan db) {
    for (int r = 0; r < n; ++r) {
        for (size_t i = 0; i < size_t(ca) * hw; ++i) da[size_t(r) * ca * hw + i] = dy[size_t(r) * (ca + cb) * hw + i];
        for (size_t i = 0; i < size_t(cb) * hw; ++i)
            db[size_t(r) * cb * hw + i] = dy[(size_t(r) * (ca + cb) + ca) * hw + i];
    }
}

void bias_add_forward(int nc, int hw, cspan x, cspan v, vspan y) {
    for (int p = 0; p < nc; ++p)
        for (int i = 0; i < hw; ++i) y[size_t(p) * hw + i] = x[size_t(p) * hw + i] + v[p];
}

void bias_add_backward(int nc, int hw, cspan dy, vspan dx, vspan dv) {
    for (int p = 0; p < nc; ++p) {
        double s = 0;
        for (int i = 0; i < hw; ++i) {
            dx[size_t(p) * hw + i] = dy[size_t(p) * hw + i];
            s += dy[size_t(p) * hw + i];
        }
        dv[p] = s;
    }
}

void add_forward(cspan a, cspan b, vspan y) {
    for (size_t i = 0; i < a.size(); ++i) y[i] = a[i] + b[i];
}

}  // namespace ref
