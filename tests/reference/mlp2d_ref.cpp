#include "tests/reference/mlp2d_ref.hpp"

#include <algorithm>
#include <cmath>

namespace ref {

std::vector<size_t> Mlp2d::offsets() const {
    // nn::ParamTable pads every tensor to a multiple of 4 floats.
    const size_t H = size_t(hidden), in = 2 + size_t(emb);
    const size_t counts[8] = {H * in, H, H * H, H, H * H, H, 2 * H, 2};
    std::vector<size_t> o(9, 0);
    for (int i = 0; i < 8; ++i) o[size_t(i) + 1] = o[size_t(i)] + (counts[i] + 3) / 4 * 4;
    return o;
}

size_t Mlp2d::param_count() const { return offsets().back(); }

namespace {
cspan sub(cspan p, const std::vector<size_t>& o, int i) { return p.subspan(o[size_t(i)], o[size_t(i) + 1] - o[size_t(i)]); }
vspan sub(vspan p, const std::vector<size_t>& o, int i) { return p.subspan(o[size_t(i)], o[size_t(i) + 1] - o[size_t(i)]); }
}  // namespace

void mlp2d_forward(const Mlp2d& m, int n, cspan params, cspan x, cspan level, vspan out, Mlp2dSaved* saved) {
    const int H = m.hidden, D = m.emb, in = 2 + D;
    const auto o = m.offsets();
    std::vector<double> u(static_cast<size_t>(n)), e(static_cast<size_t>(n) * D);
    for (int i = 0; i < n; ++i) {
        const double l = std::isnan(level[size_t(i)]) ? m.level_lo : std::clamp(level[size_t(i)], m.level_lo, m.level_hi);
        u[size_t(i)] = (l - m.level_lo) / (m.level_hi - m.level_lo);
    }
    sinusoidal_forward(n, D, m.emb_scale, u, e);
    Mlp2dSaved s;
    s.h.resize(size_t(n) * in);
    concat_forward(n, 2, D, 1, x, e, s.h);
    for (auto* v : {&s.z1, &s.a1, &s.z2, &s.a2, &s.z3, &s.a3}) v->resize(size_t(n) * H);
    // The weight spans hold the padded counts; the layers read only what they need.
    linear_forward(n, in, H, s.h, sub(params, o, 0), sub(params, o, 1).first(size_t(H)), s.z1);
    silu_forward(s.z1, s.a1);
    linear_forward(n, H, H, s.a1, sub(params, o, 2), sub(params, o, 3).first(size_t(H)), s.z2);
    silu_forward(s.z2, s.a2);
    linear_forward(n, H, H, s.a2, sub(params, o, 4), sub(params, o, 5).first(size_t(H)), s.z3);
    silu_forward(s.z3, s.a3);
    linear_forward(n, H, 2, s.a3, sub(params, o, 6), sub(params, o, 7).first(2), out);
    if (saved) *saved = std::move(s);
}

void mlp2d_backward(const Mlp2d& m, int n, cspan params, const Mlp2dSaved& s, cspan dout, vspan dparams) {
    const int H = m.hidden, in = 2 + m.emb;
    const auto o = m.offsets();
    std::fill(dparams.begin(), dparams.end(), 0.0);
    std::vector<double> da(size_t(n) * H), dz(size_t(n) * H), dh(size_t(n) * in);
    linear_backward(n, H, 2, s.a3, sub(params, o, 6), dout, da, sub(dparams, o, 6).first(size_t(2 * H)),
                    sub(dparams, o, 7).first(2));
    silu_backward(s.z3, da, dz);
    linear_backward(n, H, H, s.a2, sub(params, o, 4), dz, da, sub(dparams, o, 4).first(size_t(H * H)),
                    sub(dparams, o, 5).first(size_t(H)));
    silu_backward(s.z2, da, dz);
    linear_backward(n, H, H, s.a1, sub(params, o, 2), dz, da, sub(dparams, o, 2).first(size_t(H * H)),
                    sub(dparams, o, 3).first(size_t(H)));
    silu_backward(s.z1, da, dz);
    linear_backward(n, in, H, s.h, sub(params, o, 0), dz, dh, sub(dparams, o, 0).first(size_t(H * in)),
                    sub(dparams, o, 1).first(size_t(H)));
}

}  // namespace ref
