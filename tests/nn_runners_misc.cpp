// tests/nn_runners_misc.cpp — the layer table's runners for the elementwise layers, data movement, the
// embeddings and the loss (see nn_table.hpp).
#include "tests/nn_table.hpp"

#include <random>

namespace nntable {

namespace {
// Lays out and allocates an arena from (name, count) pairs.
void layout(engine::Context& ctx, test::Arena& a, std::initializer_list<std::pair<const char*, size_t>> tensors) {
    for (auto [n, c] : tensors) a.add(n, c);
    a.allocate(ctx);
}
}  // namespace

// ---- SiLU: shape {N, C, H, W} ------------------------------------------------------------------------
Errors run_silu(engine::Context& ctx, const Row& r) {
    const size_t cnt = size_t(r.shape[0]) * r.shape[1] * r.shape[2] * r.shape[3];
    auto x = randn(cnt, r.seed, 3.0), dy = randn(cnt, r.seed + 1);
    std::vector<double> y(cnt), dx(cnt), yt(cnt);
    ref::silu_forward(x, y);
    ref::silu_backward(x, dy, dx);
    Errors e;
    e.fd_tol = 1e-5;
    e.fd = nncheck::fd_max_rel_err(x, dx, [&] { ref::silu_forward(x, yt); return nncheck::dot(yt, dy); });
    test::Arena a;
    layout(ctx, a, {{"x", cnt}, {"y", cnt}, {"dy", cnt}, {"dx", cnt}});
    a.put("x", x); a.put("dy", dy);
    nn::SiLU silu(ctx);
    run(ctx, [&](CommandBuffer& cmd) {
        silu.forward(cmd, cnt, a.view("x"), a.view("y"));
        cmd.barrier();  // WAW on the arena
        silu.backward(cmd, cnt, a.view("x"), a.view("dy"), a.view("dx"));
    });
    e.fwd = max_rel_err(a.get("y"), y);
    GradCheck g{a};
    g.first("dx", dx);
    e.guards = a.guards_intact();
    run(ctx, [&](CommandBuffer& cmd) { silu.backward(cmd, cnt, a.view("x"), a.view("dy"), a.view("dx"), true); });
    g.second("dx", dx);
    e.bwd = g.worst;
    return e;
}

// ---- nearest upsampling ×2: shape {N, C, H, W} (of the input) ----------------------------------------
Errors run_upsample(engine::Context& ctx, const Row& r) {
    const uint32_t nc = r.shape[0] * r.shape[1], h = r.shape[2], w = r.shape[3];
    const size_t cnt = size_t(nc) * h * w;
    auto x = randn(cnt, r.seed), dy = randn(4 * cnt, r.seed + 1);
    std::vector<double> y(4 * cnt), dx(cnt), yt(4 * cnt);
    ref::upsample2_forward(int(nc), int(h), int(w), x, y);
    ref::upsample2_backward(int(nc), int(h), int(w), dy, dx);
    Errors e;
    e.fd = nncheck::fd_max_rel_err(x, dx, [&] { ref::upsample2_forward(int(nc), int(h), int(w), x, yt); return nncheck::dot(yt, dy); }, k_h_linear);
    test::Arena a;
    layout(ctx, a, {{"x", cnt}, {"y", 4 * cnt}, {"dy", 4 * cnt}, {"dx", cnt}});
    a.put("x", x); a.put("dy", dy);
    nn::Upsample2 up(ctx);
    run(ctx, [&](CommandBuffer& cmd) {
        up.forward(cmd, nc, h, w, a.view("x"), a.view("y"));
        cmd.barrier();  // WAW on the arena
        up.backward(cmd, nc, h, w, a.view("dy"), a.view("dx"));
    });
    e.fwd = max_rel_err(a.get("y"), y);
    GradCheck g{a};
    g.first("dx", dx);
    e.guards = a.guards_intact();
    run(ctx, [&](CommandBuffer& cmd) { up.backward(cmd, nc, h, w, a.view("dy"), a.view("dx"), true); });
    g.second("dx", dx);
    e.bwd = g.worst;
    return e;
}

// ---- channel concat: shape {N, Ca, Cb, H, W} ---------------------------------------------------------
// "concat_up…": a is [N,Ca,H/2,W/2] and enters upsampled ×2 (Concat::forward_up), the reference being
// upsample2 then concat (and back: concat's backward, then upsample2's).
Errors run_concat(engine::Context& ctx, const Row& r) {
    const uint32_t n = r.shape[0], ca = r.shape[1], cb = r.shape[2], h = r.shape[3], w = r.shape[4], hw = h * w;
    const bool up = r.op.starts_with("concat_up");
    const size_t na = size_t(n) * ca * (up ? hw / 4 : hw), nb = size_t(n) * cb * hw, ny = size_t(n) * (ca + cb) * hw;
    auto xa = randn(na, r.seed), xb = randn(nb, r.seed + 1), dy = randn(ny, r.seed + 2);
    std::vector<double> y(ny), da(na), db(nb), yt(ny), a_up(size_t(n) * ca * hw), da_up(a_up.size());
    auto forward = [&](std::vector<double>& out) {
        if (up) ref::upsample2_forward(int(n * ca), int(h / 2), int(w / 2), xa, a_up);
        ref::concat_forward(int(n), int(ca), int(cb), int(hw), up ? a_up : xa, xb, out);
    };
    forward(y);
    ref::concat_backward(int(n), int(ca), int(cb), int(hw), dy, up ? da_up : da, db);
    if (up) ref::upsample2_backward(int(n * ca), int(h / 2), int(w / 2), da_up, da);
    Errors e;
    auto loss = [&] { forward(yt); return nncheck::dot(yt, dy); };
    e.fd = std::max(nncheck::fd_max_rel_err(xa, da, loss, k_h_linear), nncheck::fd_max_rel_err(xb, db, loss, k_h_linear));
    // "…_vec4": tensors at multiples of 4 floats and the 4-value path forced (others: odd offsets, scalar)
    const bool vec4 = r.op.ends_with("_vec4");
    if (vec4) {
        EXPECT_TRUE(ca * hw % 4 == 0 && cb * hw % 4 == 0) << "a concat_vec4 row needs Ca·HW and Cb·HW multiples of 4";
    }
    test::Arena a(vec4 ? 4 : 1);
    layout(ctx, a, {{"a", na}, {"b", nb}, {"y", ny}, {"dy", ny}, {"da", na}, {"db", nb}});
    a.put("a", xa); a.put("b", xb); a.put("dy", dy);
    nn::Concat cat(ctx, vec4);  // the other rows take the scalar path on every device
    auto backward = [&](CommandBuffer& cmd, bool acc) {
        if (up)
            cat.backward_up(cmd, n, ca, cb, h, w, a.view("dy"), a.view("da"), a.view("db"), acc, acc);
        else
            cat.backward(cmd, n, ca, cb, hw, a.view("dy"), a.view("da"), a.view("db"), acc, acc);
    };
    run(ctx, [&](CommandBuffer& cmd) {
        if (up)
            cat.forward_up(cmd, n, ca, cb, h, w, a.view("a"), a.view("b"), a.view("y"));
        else
            cat.forward(cmd, n, ca, cb, hw, a.view("a"), a.view("b"), a.view("y"));
        cmd.barrier();  // WAW on the arena
        backward(cmd, false);
    });
    e.fwd = max_rel_err(a.get("y"), y);
    GradCheck g{a};
    g.first("da", da); g.first("db", db);
    e.guards = a.guards_intact();
    run(ctx, [&](CommandBuffer& cmd) { backward(cmd, true); });
    g.second("da", da); g.second("db", db);
    e.bwd = g.worst;
    EXPECT_EQ(cat.vec4_recorded(), vec4 ? 3u : 0u) << "which path the row's three passes took";
    if (up) {  // an odd size cannot be upsampled ×2: refused before anything is recorded
        engine::CommandBuffer unused(ctx);
        EXPECT_THROW(cat.forward_up(unused, n, ca, cb, h + 1, w, a.view("a"), a.view("b"), a.view("y")), std::invalid_argument);
        EXPECT_THROW(cat.backward_up(unused, n, ca, cb, h, w + 1, a.view("dy"), a.view("da"), a.view("db")),
                     std::invalid_argument);
    }
    return e;
}

// ---- broadcast add of v [N,C] over H, W: shape {N, C, H, W} ------------------------------------------
Errors run_bias_add(engine::Context& ctx, const Row& r) {
    const uint32_t nc = r.shape[0] * r.shape[1], hw = r.shape[2] * r.shape[3];
    const size_t cnt = size_t(nc) * hw;
    auto x = randn(cnt, r.seed), v = randn(nc, r.seed + 1), dy = randn(cnt, r.seed + 2);
    std::vector<double> y(cnt), dx(cnt), dv(nc), yt(cnt);
    ref::bias_add_forward(int(nc), int(hw), x, v, y);
    ref::bias_add_backward(int(nc), int(hw), dy, dx, dv);
    Errors e;
    auto loss = [&] { ref::bias_add_forward(int(nc), int(hw), x, v, yt); return nncheck::dot(yt, dy); };
    e.fd = std::max(nncheck::fd_max_rel_err(x, dx, loss, k_h_linear), nncheck::fd_max_rel_err(v, dv, loss, k_h_linear));
    const bool vec4 = r.op.find("_vec4") != std::string::npos;  // aligned tensors, the backward's 4-value path forced
    test::Arena a(vec4 ? 4 : 1);
    layout(ctx, a, {{"x", cnt}, {"v", nc}, {"y", cnt}, {"dy", cnt}, {"dx", cnt}, {"dv", nc}, {"dv_only", nc}});
    a.put("x", x); a.put("v", v); a.put("dy", dy);
    // "_wg" rows sum with a workgroup per (n, c) (GPUs' path), the others one invocation per (n, c) (CPU drivers').
    const bool serial = !r.op.ends_with("_wg");
    nn::BiasAdd add(ctx, vec4, serial);  // the rows without _vec4 take the scalar path on every device
    auto backward = [&](CommandBuffer& cmd, bool acc) {
        add.backward(cmd, nc, hw, a.view("dy"), a.view("dx"), a.view("dv"), acc, acc);
    };
    run(ctx, [&](CommandBuffer& cmd) {
        add.forward(cmd, nc, hw, a.view("x"), a.view("v"), a.view("y"));
        cmd.barrier();  // WAW on the arena
        backward(cmd, false);
    });
    e.fwd = max_rel_err(a.get("y"), y);
    GradCheck g{a};
    g.first("dx", dx); g.first("dv", dv);
    e.guards = a.guards_intact();
    run(ctx, [&](CommandBuffer& cmd) { backward(cmd, true); });
    g.second("dx", dx); g.second("dv", dv);
    // dv alone (dx = View{}: the UNet, whose dx is dy itself): dv_only gets Σ_hw dy, dx keeps what it held.
    run(ctx, [&](CommandBuffer& cmd) { add.backward(cmd, nc, hw, a.view("dy"), View{}, a.view("dv_only")); });
    g.first("dv_only", dv);
    g.second("dx", dx);
    e.guards = e.guards && a.guards_intact();
    e.bwd = g.worst;
    EXPECT_EQ(add.vec4_recorded(), vec4 ? 3u : 0u) << "which path the row's three backward passes took";
    return e;
}

// ---- elementwise add: shape {N, C, H, W} -------------------------------------------------------------
Errors run_add(engine::Context& ctx, const Row& r) {
    const size_t cnt = size_t(r.shape[0]) * r.shape[1] * r.shape[2] * r.shape[3];
    auto xa = randn(cnt, r.seed), xb = randn(cnt, r.seed + 1), dy = randn(cnt, r.seed + 2);
    std::vector<double> y(cnt), yt(cnt);
    ref::add_forward(xa, xb, y);
    Errors e;
    auto loss = [&] { ref::add_forward(xa, xb, yt); return nncheck::dot(yt, dy); };
    e.fd = std::max(nncheck::fd_max_rel_err(xa, dy, loss, k_h_linear), nncheck::fd_max_rel_err(xb, dy, loss, k_h_linear));  // ∂/∂a = ∂/∂b = dy
    const bool vec4 = r.op.ends_with("_vec4");  // aligned tensors, the backward's 4-value path forced
    test::Arena a(vec4 ? 4 : 1);
    layout(ctx, a, {{"a", cnt}, {"b", cnt}, {"y", cnt}, {"dy", cnt}, {"da", cnt}, {"db", cnt}, {"da_only", cnt}});
    a.put("a", xa); a.put("b", xb); a.put("dy", dy);
    nn::Add add(ctx, vec4);  // the other rows take the scalar path on every device
    auto backward = [&](CommandBuffer& cmd, bool acc) {
        add.backward(cmd, cnt, a.view("dy"), a.view("da"), a.view("db"), acc, acc);
    };
    run(ctx, [&](CommandBuffer& cmd) {
        add.forward(cmd, cnt, a.view("a"), a.view("b"), a.view("y"));
        cmd.barrier();  // WAW on the arena
        backward(cmd, false);
    });
    e.fwd = max_rel_err(a.get("y"), y);
    GradCheck g{a};
    g.first("da", dy); g.first("db", dy);
    e.guards = a.guards_intact();
    run(ctx, [&](CommandBuffer& cmd) { backward(cmd, true); });
    g.second("da", dy); g.second("db", dy);
    // da alone (db = View{}: the UNet's residual gradient copy)
    run(ctx, [&](CommandBuffer& cmd) { add.backward(cmd, cnt, a.view("dy"), a.view("da_only"), View{}); });
    g.first("da_only", dy);
    g.second("db", dy);
    e.guards = e.guards && a.guards_intact();
    e.bwd = g.worst;
    EXPECT_EQ(add.vec4_recorded(), vec4 ? 3u : 0u) << "which path the row's three backward passes took";
    return e;
}

// ---- sinusoidal embedding: shape {N, D, scale·100}; level ~ U(−1, 1) ---------------------------------
// The values are bounded by 1, so the error here is the largest *absolute* error. float32 carries the
// argument scale·level·f_k (up to 1000·scale) with a relative error of a few ulp, so the absolute error
// grows with the argument: about 1e-4 at 1000.
Errors run_sinusoidal(engine::Context& ctx, const Row& r) {
    const uint32_t n = r.shape[0], d = r.shape[1];
    const double scale = double(float(r.shape[2] / 100.0));
    std::mt19937_64 gen(r.seed);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    std::vector<double> level(n), emb(size_t(n) * d);
    for (auto& l : level) l = double(float(u(gen)));
    ref::sinusoidal_forward(int(n), int(d), scale, level, emb);
    test::Arena a;
    layout(ctx, a, {{"level", n}, {"e", emb.size()}});
    a.put("level", level);
    nn::SinusoidalEmbed se(ctx);
    run(ctx, [&](CommandBuffer& cmd) { se.forward(cmd, n, d, float(scale), a.view("level"), a.view("e")); });
    Errors e;
    auto got = a.get("e");
    for (size_t i = 0; i < got.size(); ++i)
        e.fwd = std::max(e.fwd, std::isfinite(got[i]) ? std::abs(got[i] - emb[i]) : INFINITY);
    e.guards = a.guards_intact();
    return e;  // no parameters, no backward
}

// ---- label embedding: shape {N, D}; 11 rows; labels drawn from [−1, 12] (out of range → the null row) -
Errors run_label_embed(engine::Context& ctx, const Row& r) {
    const int n = int(r.shape[0]), d = int(r.shape[1]), rows = 11;
    std::mt19937_64 gen(r.seed);
    std::uniform_int_distribution<int32_t> u(-1, 12);
    std::vector<int32_t> label(n);
    for (auto& l : label) l = u(gen);
    auto table = randn(size_t(rows) * d, r.seed + 1), dy = randn(size_t(n) * d, r.seed + 2);
    std::vector<double> y(size_t(n) * d), dtable(table.size()), yt(y.size());
    ref::label_embed_forward(n, rows, d, label, table, y);
    ref::label_embed_backward(n, rows, d, label, dy, dtable);
    Errors e;
    e.fd = nncheck::fd_max_rel_err(table, dtable, [&] {
        ref::label_embed_forward(n, rows, d, label, table, yt);
        return nncheck::dot(yt, dy);
    }, k_h_linear);
    test::Arena a;
    layout(ctx, a, {{"label", size_t(n)}, {"table", table.size()}, {"y", y.size()}, {"dy", dy.size()}, {"dtable", table.size()}});
    a.put_int("label", label); a.put("table", table); a.put("dy", dy);
    nn::LabelEmbed le(ctx);
    auto backward = [&](CommandBuffer& cmd, bool acc) {
        le.backward(cmd, n, rows, d, a.view("label"), a.view("dy"), a.view("dtable"), acc);
    };
    run(ctx, [&](CommandBuffer& cmd) {
        le.forward(cmd, n, rows, d, a.view("label"), a.view("table"), a.view("y"));
        cmd.barrier();  // WAW on the arena
        backward(cmd, false);
    });
    e.fwd = max_rel_err(a.get("y"), y);
    GradCheck g{a};
    g.first("dtable", dtable);
    e.guards = a.guards_intact();
    run(ctx, [&](CommandBuffer& cmd) { backward(cmd, true); });
    g.second("dtable", dtable);
    e.bwd = g.worst;
    return e;
}

// ---- MSE loss: shape {N, C, H, W} --------------------------------------------------------------------
Errors run_mse(engine::Context& ctx, const Row& r) {
    const size_t cnt = size_t(r.shape[0]) * r.shape[1] * r.shape[2] * r.shape[3];
    auto pred = randn(cnt, r.seed), target = randn(cnt, r.seed + 1);
    const double loss_ref = ref::mse_forward(pred, target);
    std::vector<double> dpred(cnt);
    ref::mse_backward(pred, target, dpred);
    Errors e;
    e.fd = nncheck::fd_max_rel_err(pred, dpred, [&] { return ref::mse_forward(pred, target); }, k_h_linear);
    test::Arena a;
    layout(ctx, a, {{"pred", cnt}, {"target", cnt}, {"scratch", nn::MseLoss::scratch_count(cnt)}, {"loss", 1}, {"dpred", cnt}});
    a.put("pred", pred); a.put("target", target);
    nn::MseLoss mse(ctx);
    run(ctx, [&](CommandBuffer& cmd) {
        mse.forward(cmd, cnt, a.view("pred"), a.view("target"), a.view("scratch"), a.view("loss"));
        cmd.barrier();  // WAW on the arena
        mse.backward(cmd, cnt, a.view("pred"), a.view("target"), a.view("dpred"));
    });
    e.fwd = max_rel_err(a.get("loss"), std::vector<double>{loss_ref});
    e.bwd = max_rel_err(a.get("dpred"), dpred);  // the root's gradient is written, never accumulated
    e.guards = a.guards_intact();
    return e;
}

// ---- softmax cross-entropy: shape {N, K} ---------------------------------------------------------------
Errors run_xent(engine::Context& ctx, const Row& r) {
    const int n = int(r.shape[0]), k = int(r.shape[1]);
    auto z = randn(size_t(n) * k, r.seed, 3.0);
    std::mt19937_64 gen(r.seed + 7);
    std::vector<int32_t> label(n);
    for (auto& l : label) l = int32_t(gen() % uint64_t(k));
    std::vector<double> p(z.size()), dz(z.size());
    const double loss_ref = ref::softmax_xent_forward(n, k, z, label, p);
    ref::softmax_xent_backward(n, k, p, label, dz);
    Errors e;
    // Finite differences sample by sample: perturbing z[n,·] moves only loss[n], and differencing that one term
    // (≈ 2) instead of the batch mean keeps double rounding below the tolerance at every N; h = 1e-3 keeps the
    // central difference's h² error there too.
    for (int i = 0; i < n; ++i) {
        std::vector<double> zi(z.begin() + size_t(i) * k, z.begin() + size_t(i + 1) * k), pi(static_cast<size_t>(k));
        std::vector<double> gi(dz.begin() + size_t(i) * k, dz.begin() + size_t(i + 1) * k);
        for (auto& g : gi) g *= n;  // dz carries the mean's 1/N
        const std::vector<int32_t> li{label[size_t(i)]};
        e.fd = std::max(e.fd, nncheck::fd_max_rel_err(zi, gi, [&] { return ref::softmax_xent_forward(1, k, zi, li, pi); }, 1e-3));
        if (i == 8) break;  // nine samples are plenty
    }
    test::Arena a;
    layout(ctx, a, {{"z", z.size()}, {"label", size_t(n)}, {"p", z.size()}, {"loss", size_t(n)}, {"dz", z.size()}});
    a.put("z", z);
    a.put_int("label", label);
    nn::SoftmaxXent xent(ctx);
    run(ctx, [&](CommandBuffer& cmd) {
        xent.forward(cmd, n, k, a.view("z"), a.view("label"), a.view("p"), a.view("loss"));
        cmd.barrier();  // RAW: the backward reads p
        xent.backward(cmd, n, k, a.view("p"), a.view("label"), a.view("dz"), 1.0f / float(n));
    });
    auto loss = a.get("loss");
    double mean = 0;
    for (float v : loss) mean += v;
    const std::vector<float> mean_f{float(mean / n)};
    e.fwd = std::max(max_rel_err(mean_f, std::vector<double>{loss_ref}), max_rel_err(a.get("p"), p));
    e.bwd = max_rel_err(a.get("dz"), dz);
    e.guards = a.guards_intact();
    return e;
}

}  // namespace nntable
