#include "tests/reference/unet_ref.hpp"

#include <algorithm>
#include <stdexcept>

namespace ref {

namespace {
struct Spec {
    std::string name;
    int cin, cout, res;
};
std::vector<Spec> specs(const diffuscope::nn::UNetConfig& c) {
    int c0 = int(c.base), c1 = 2 * c0, c2 = 4 * c0;
    return {{"down0", c0, c0, 28}, {"down1", c0, c1, 14}, {"mid0", c1, c2, 7},
            {"mid1", c2, c2, 7},   {"up1", c2 + c1, c1, 14}, {"up0", c1 + c0, c0, 28}};
}
}  // namespace

std::vector<double> UNetRef::forward(int N, const std::vector<double>& x, const std::vector<double>& level,
                                     const std::vector<int32_t>& lab) {
    n = N;
    label = lab;
    cache.clear();
    auto P = [&](const std::string& name) {
        const auto& info = table[name];
        return cspan(params.data() + info.offset, info.count);
    };
    auto& C = cache;
    const int E = int(cfg.emb_dim), D = int(cfg.cond_dim), G = int(cfg.groups), c0 = int(cfg.base), c1 = 2 * c0,
              c2 = 4 * c0;
    C["x"] = x;
    std::vector<double> u(N);
    for (int i = 0; i < N; ++i) {
        double l = std::clamp(level[i], double(cfg.level_lo), double(cfg.level_hi));
        u[i] = (l - cfg.level_lo) / (cfg.level_hi - cfg.level_lo);
    }
    C["e"].resize(size_t(N) * E);
    sinusoidal_forward(N, E, 1.0, u, C["e"]);
    C["t1"].resize(size_t(N) * D);
    linear_forward(N, E, D, C["e"], P("time_mlp.0.weight"), P("time_mlp.0.bias"), C["t1"]);
    C["t1a"].resize(C["t1"].size());
    silu_forward(C["t1"], C["t1a"]);
    std::vector<double> t2(size_t(N) * D), le(size_t(N) * D);
    linear_forward(N, D, D, C["t1a"], P("time_mlp.2.weight"), P("time_mlp.2.bias"), t2);
    label_embed_forward(N, diffuscope::nn::UNetConfig::labels, D, lab, P("label_emb.weight"), le);
    C["c"].resize(t2.size());
    add_forward(t2, le, C["c"]);
    C["c_act"].resize(t2.size());
    silu_forward(C["c"], C["c_act"]);

    auto block = [&](const Spec& s, const std::vector<double>& bx) {
        const std::string& b = s.name;
        size_t hw = size_t(s.res) * s.res, in = size_t(N) * s.cin * hw, o = size_t(N) * s.cout * hw;
        std::vector<double> mean(size_t(N) * G), rstd(size_t(N) * G);
        C[b + ".x"] = bx;
        C[b + ".g1"].resize(in);
        groupnorm_forward(N, s.cin, int(hw), G, 1e-5, bx, P(b + ".norm1.weight"), P(b + ".norm1.bias"), C[b + ".g1"],
                          mean, rstd);
        C[b + ".a1"].resize(in);
        silu_forward(C[b + ".g1"], C[b + ".a1"]);
        std::vector<double> h1(o), pv(size_t(N) * s.cout);
        conv2d_forward({N, s.cin, s.res, s.res, s.cout, 3, 1}, C[b + ".a1"], P(b + ".conv1.weight"),
                       P(b + ".conv1.bias"), h1);
        linear_forward(N, D, s.cout, C["c_act"], P(b + ".cond.weight"), P(b + ".cond.bias"), pv);
        C[b + ".h1"].resize(o);
        bias_add_forward(N * s.cout, int(hw), h1, pv, C[b + ".h1"]);
        C[b + ".g2"].resize(o);
        groupnorm_forward(N, s.cout, int(hw), G, 1e-5, C[b + ".h1"], P(b + ".norm2.weight"), P(b + ".norm2.bias"),
                          C[b + ".g2"], mean, rstd);
        C[b + ".a2"].resize(o);
        silu_forward(C[b + ".g2"], C[b + ".a2"]);
        std::vector<double> h2(o), sk(o), out(o);
        conv2d_forward({N, s.cout, s.res, s.res, s.cout, 3, 1}, C[b + ".a2"], P(b + ".conv2.weight"),
                       P(b + ".conv2.bias"), h2);
        if (s.cin != s.cout)
            conv2d_forward({N, s.cin, s.res, s.res, s.cout, 1, 1}, bx, P(b + ".skip.weight"), P(b + ".skip.bias"), sk);
        add_forward(h2, s.cin != s.cout ? cspan(sk) : cspan(bx), out);
        return out;
    };
    auto S = specs(cfg);
    std::vector<double> h_in(size_t(N) * c0 * 784);
    conv2d_forward({N, 1, 28, 28, c0, 3, 1}, x, P("conv_in.weight"), P("conv_in.bias"), h_in);
    C["s0"] = block(S[0], h_in);
    std::vector<double> ds0(size_t(N) * c0 * 196);
    conv2d_forward({N, c0, 28, 28, c0, 3, 2}, C["s0"], P("downsample0.weight"), P("downsample0.bias"), ds0);
    C["s1"] = block(S[1], ds0);
    std::vector<double> ds1(size_t(N) * c1 * 49);
    conv2d_forward({N, c1, 14, 14, c1, 3, 2}, C["s1"], P("downsample1.weight"), P("downsample1.bias"), ds1);
    auto m0 = block(S[2], ds1);
    auto m1 = block(S[3], m0);
    std::vector<double> upm(size_t(N) * c2 * 196), cat1(size_t(N) * (c2 + c1) * 196);
    upsample2_forward(N * c2, 7, 7, m1, upm);
    concat_forward(N, c2, c1, 196, upm, C["s1"], cat1);
    auto u1 = block(S[4], cat1);
    std::vector<double> upu(size_t(N) * c1 * 784), cat0(size_t(N) * (c1 + c0) * 784);
    upsample2_forward(N * c1, 14, 14, u1, upu);
    concat_forward(N, c1, c0, 784, upu, C["s0"], cat0);
    C["u0"] = block(S[5], cat0);
    std::vector<double> mean(size_t(N) * G), rstd(size_t(N) * G);
    C["gout"].resize(C["u0"].size());
    groupnorm_forward(N, c0, 784, G, 1e-5, C["u0"], P("norm_out.weight"), P("norm_out.bias"), C["gout"], mean, rstd);
    C["aout"].resize(C["u0"].size());
    silu_forward(C["gout"], C["aout"]);
    std::vector<double> out(size_t(N) * 784);
    conv2d_forward({N, c0, 28, 28, 1, 3, 1}, C["aout"], P("conv_out.weight"), P("conv_out.bias"), out);
    return out;
}

void UNetRef::backward(const std::vector<double>& dout, std::vector<double>& grads, std::vector<double>& dx) {
    const int N = n, E = int(cfg.emb_dim), D = int(cfg.cond_dim), G = int(cfg.groups), c0 = int(cfg.base),
              c1 = 2 * c0, c2 = 4 * c0;
    grads.assign(params.size(), 0.0);
    auto P = [&](const std::string& name) {
        const auto& info = table[name];
        return cspan(params.data() + info.offset, info.count);
    };
    auto Gr = [&](const std::string& name) {
        const auto& info = table[name];
        return vspan(grads.data() + info.offset, info.count);
    };
    auto& C = cache;
    auto addto = [](std::vector<double>& a, const std::vector<double>& b) {
        for (size_t i = 0; i < a.size(); ++i) a[i] += b[i];
    };
    std::vector<double> d_c_act(size_t(N) * D, 0.0);

    // d(block input) from d(block output)
    auto block = [&](const Spec& s, const std::vector<double>& dy) {
        const std::string& b = s.name;
        size_t hw = size_t(s.res) * s.res, in = size_t(N) * s.cin * hw, o = size_t(N) * s.cout * hw;
        const auto& bx = C[b + ".x"];
        std::vector<double> da2(o), dg2(o), dh1(o), dpv(size_t(N) * s.cout), dx1(o), da1(in), dg1(in), dxb(in);
        conv2d_backward({N, s.cout, s.res, s.res, s.cout, 3, 1}, C[b + ".a2"], P(b + ".conv2.weight"), dy, da2,
                        Gr(b + ".conv2.weight"), Gr(b + ".conv2.bias"));
        silu_backward(C[b + ".g2"], da2, dg2);
        groupnorm_backward(N, s.cout, int(hw), G, 1e-5, C[b + ".h1"], P(b + ".norm2.weight"), dg2, dh1,
                           Gr(b + ".norm2.weight"), Gr(b + ".norm2.bias"));
        bias_add_backward(N * s.cout, int(hw), dh1, dx1, dpv);
        std::vector<double> dca(size_t(N) * D);
        linear_backward(N, D, s.cout, C["c_act"], P(b + ".cond.weight"), dpv, dca, Gr(b + ".cond.weight"),
                        Gr(b + ".cond.bias"));
        addto(d_c_act, dca);
        conv2d_backward({N, s.cin, s.res, s.res, s.cout, 3, 1}, C[b + ".a1"], P(b + ".conv1.weight"), dx1, da1,
                        Gr(b + ".conv1.weight"), Gr(b + ".conv1.bias"));
        silu_backward(C[b + ".g1"], da1, dg1);
        groupnorm_backward(N, s.cin, int(hw), G, 1e-5, bx, P(b + ".norm1.weight"), dg1, dxb, Gr(b + ".norm1.weight"),
                           Gr(b + ".norm1.bias"));
        if (s.cin != s.cout) {
            std::vector<double> dsk(in);
            conv2d_backward({N, s.cin, s.res, s.res, s.cout, 1, 1}, bx, P(b + ".skip.weight"), dy, dsk,
                            Gr(b + ".skip.weight"), Gr(b + ".skip.bias"));
            addto(dxb, dsk);
        } else {
            addto(dxb, dy);
        }
        return dxb;
    };
    auto S = specs(cfg);
    std::vector<double> d_aout(size_t(N) * c0 * 784), d_gout(d_aout.size()), d_u0(d_aout.size());
    conv2d_backward({N, c0, 28, 28, 1, 3, 1}, C["aout"], P("conv_out.weight"), dout, d_aout, Gr("conv_out.weight"),
                    Gr("conv_out.bias"));
    silu_backward(C["gout"], d_aout, d_gout);
    groupnorm_backward(N, c0, 784, G, 1e-5, C["u0"], P("norm_out.weight"), d_gout, d_u0, Gr("norm_out.weight"),
                       Gr("norm_out.bias"));
    auto d_cat0 = block(S[5], d_u0);
    std::vector<double> d_upu(size_t(N) * c1 * 784), d_s0(size_t(N) * c0 * 784);
    concat_backward(N, c1, c0, 784, d_cat0, d_upu, d_s0);
    std::vector<double> d_u1(size_t(N) * c1 * 196);
    upsample2_backward(N * c1, 14, 14, d_upu, d_u1);
    auto d_cat1 = block(S[4], d_u1);
    std::vector<double> d_upm(size_t(N) * c2 * 196), d_s1(size_t(N) * c1 * 196);
    concat_backward(N, c2, c1, 196, d_cat1, d_upm, d_s1);
    std::vector<double> d_m1(size_t(N) * c2 * 49);
    upsample2_backward(N * c2, 7, 7, d_upm, d_m1);
    auto d_m0 = block(S[3], d_m1);
    auto d_ds1 = block(S[2], d_m0);
    std::vector<double> t(d_s1.size());
    conv2d_backward({N, c1, 14, 14, c1, 3, 2}, C["s1"], P("downsample1.weight"), d_ds1, t, Gr("downsample1.weight"),
                    Gr("downsample1.bias"));
    addto(d_s1, t);
    auto d_ds0 = block(S[1], d_s1);
    t.assign(d_s0.size(), 0.0);
    conv2d_backward({N, c0, 28, 28, c0, 3, 2}, C["s0"], P("downsample0.weight"), d_ds0, t, Gr("downsample0.weight"),
                    Gr("downsample0.bias"));
    addto(d_s0, t);
    auto d_h_in = block(S[0], d_s0);
    dx.assign(size_t(N) * 784, 0.0);
    conv2d_backward({N, 1, 28, 28, c0, 3, 1}, C["x"], P("conv_in.weight"), d_h_in, dx, Gr("conv_in.weight"),
                    Gr("conv_in.bias"));

    std::vector<double> d_c(d_c_act.size()), d_t1a(d_c.size()), d_t1(d_c.size()), d_e(size_t(N) * E);
    silu_backward(C["c"], d_c_act, d_c);
    label_embed_backward(N, diffuscope::nn::UNetConfig::labels, D, label, d_c, Gr("label_emb.weight"));
    linear_backward(N, D, D, C["t1a"], P("time_mlp.2.weight"), d_c, d_t1a, Gr("time_mlp.2.weight"),
                    Gr("time_mlp.2.bias"));
    silu_backward(C["t1"], d_t1a, d_t1);
    linear_backward(N, E, D, C["e"], P("time_mlp.0.weight"), d_t1, d_e, Gr("time_mlp.0.weight"), Gr("time_mlp.0.bias"));
}

}  // namespace ref
