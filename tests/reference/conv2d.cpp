// tests/reference/conv2d.cpp — conv2d in double: the direct six-deep loop, forward and backward.
#include "tests/reference/nn_ref.hpp"

#include <algorithm>

namespace ref {

// Calls f(x_index, w_index, y_index) for every (output, tap) pair whose tap lands inside x.
template <class F>
static void for_each_tap(const Conv& s, F&& f) {
    const int P = s.pad(), OH = s.oh(), OW = s.ow();
    for (int n = 0; n < s.n; ++n)
        for (int co = 0; co < s.cout; ++co)
            for (int oy = 0; oy < OH; ++oy)
                for (int ox = 0; ox < OW; ++ox) {
                    size_t yi = ((size_t(n) * s.cout + co) * OH + oy) * OW + ox;
                    for (int ci = 0; ci < s.cin; ++ci)
                        for (int ky = 0; ky < s.k; ++ky) {
                            int iy = oy * s.stride + ky - P;
                            if (iy < 0 || iy >= s.h) continue;
                            for (int kx = 0; kx < s.k; ++kx) {
                                int ix = ox * s.stride + kx - P;
                                if (ix < 0 || ix >= s.w) continue;
                                size_t xi = ((size_t(n) * s.cin + ci) * s.h + iy) * s.w + ix;
                                size_t wi = ((size_t(co) * s.cin + ci) * s.k + ky) * s.k + kx;
                                f(xi, wi, yi);
                            }
                        }
                }
}

void conv2d_forward(const Conv& s, cspan x, cspan w, cspan b, vspan y) {
    const size_t ohw = size_t(s.oh()) * s.ow();
    for (int n = 0; n < s.n; ++n)
        for (int co = 0; co < s.cout; ++co)
            for (size_t i = 0; i < ohw; ++i) y[(size_t(n) * s.cout + co) * ohw + i] = b.empty() ? 0.0 : b[co];
    for_each_tap(s, [&](size_t xi, size_t wi, size_t yi) { y[yi] += w[wi] * x[xi]; });
}

// L = Σ y·dy with y linear in x, w, b: ∂L/∂x[xi] = Σ over the (output, tap) pairs reading xi of w·dy,
// ∂L/∂w[wi] = Σ over pairs using wi of x·dy, ∂L/∂b[co] = Σ_{n,oy,ox} dy[n,co,oy,ox].
void conv2d_backward(const Conv& s, cspan x, cspan w, cspan dy, vspan dx, vspan dw, vspan db) {
    std::fill(dx.begin(), dx.end(), 0.0);
    std::fill(dw.begin(), dw.end(), 0.0);
    for_each_tap(s, [&](size_t xi, size_t wi, size_t yi) {
        dx[xi] += w[wi] * dy[yi];
        dw[wi] += x[xi] * dy[yi];
    });
    if (db.empty()) return;
    const size_t ohw = size_t(s.oh()) * s.ow();
    for (int co = 0; co < s.cout; ++co) {
        double sum = 0;
        for (int n = 0; n < s.n; ++n)
            for (size_t i = 0; i < ohw; ++i) sum += dy[(size_t(n) * s.cout + co) * ohw + i];
        db[co] = sum;
    }
}

}  // namespace ref
