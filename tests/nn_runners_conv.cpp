// tests/nn_runners_conv.cpp — the layer table's runners for conv2d, linear and GroupNorm (see nn_table.hpp).
#include "tests/nn_table.hpp"

namespace nntable {

// ---- conv2d: shape {N, Cin, H, W, Cout, K, stride, bias} ---------------------------------------------
Errors run_conv(engine::Context& ctx, const Row& r, const nn::ConvTiles& tiles) {
    const auto& s = r.shape;
    ref::Conv c{int(s[0]), int(s[1]), int(s[2]), int(s[3]), int(s[4]), int(s[5]), int(s[6])};
    const bool bias = s[7] != 0;
    nn::ConvShape cs{s[0], s[1], s[2], s[3], s[4], s[5], s[6]};
    const size_t nx = cs.x_count(), nw = cs.w_count(), ny = cs.y_count();
    auto x = randn(nx, r.seed), w = randn(nw, r.seed + 1, 1.0 / std::sqrt(c.cin * c.k * c.k)),
         b = bias ? randn(c.cout, r.seed + 2) : std::vector<double>{}, dy = randn(ny, r.seed + 3);
    std::vector<double> y(ny), dx(nx), dw(nw), db(bias ? c.cout : 0);
    ref::conv2d_forward(c, x, w, b, y);
    ref::conv2d_backward(c, x, w, dy, dx, dw, db);

    Errors e;
    std::vector<double> yt(ny);
    auto loss = [&] { ref::conv2d_forward(c, x, w, b, yt); return nncheck::dot(yt, dy); };
    const size_t k = fd_samples(cs.flops());
    e.fd = std::max({nncheck::fd_max_rel_err(x, dx, loss, k_h_linear, k), nncheck::fd_max_rel_err(w, dw, loss, k_h_linear, k),
                     bias ? nncheck::fd_max_rel_err(b, db, loss, k_h_linear, k) : 0.0});

    // The fused epilogue: ye = conv + b + v[n,co] + r (the UNet's conditioning and residual), and with v alone.
    const size_t nv = size_t(c.n) * c.cout, ohw = ny / nv;
    auto v = randn(nv, r.seed + 4), res = randn(ny, r.seed + 5);
    std::vector<double> ye(ny), yv(ny), yr(ny);
    for (size_t i = 0; i < ny; ++i) yv[i] = y[i] + v[i / ohw], ye[i] = yv[i] + res[i], yr[i] = y[i] + res[i];
    // The fused skip (ConvEpilogue::skip_x, stride 1): ys = conv + b + v + (1×1 conv of x2 [N,C2,OH,OW] + b2), with
    // C2 = 5 channels, a partial step of 4.
    const int c2 = 5;
    ref::Conv c1{c.n, c2, c.oh(), c.ow(), c.cout, 1, 1};
    const size_t nx2 = size_t(c.n) * c2 * ohw, nw2 = size_t(c.cout) * c2;
    auto x2 = randn(nx2, r.seed + 6), w2 = randn(nw2, r.seed + 7, 1.0 / std::sqrt(c2)), b2 = randn(c.cout, r.seed + 8);
    std::vector<double> ys(ny);
    ref::conv2d_forward(c1, x2, w2, b2, ys);
    for (size_t i = 0; i < ny; ++i) ys[i] += yv[i];

    // "conv_x4…" rows lay the tensors out at multiples of 4 floats so that forward and dX read rows as texels;
    // the other rows' forwards keep one value a fetch (x at offset 3).
    const bool x4 = r.op.starts_with("conv_x4");
    test::Arena a(x4 ? 4 : 1);
    for (auto [n, cnt] : {std::pair{"x", nx}, {"w", nw}, {"y", ny}, {"dy", ny}, {"dx", nx}, {"dw", nw}, {"v", nv}, {"res", ny},
                          {"ye", ny}, {"yv", ny}, {"yr", ny}, {"x2", nx2}, {"w2", nw2}, {"b2", size_t(c.cout)}, {"ys", ny}})
        a.add(n, cnt);
    if (bias) { a.add("b", c.cout); a.add("db", c.cout); }
    a.allocate(ctx);
    a.put("x", x); a.put("w", w); a.put("dy", dy); a.put("v", v); a.put("res", res);
    a.put("x2", x2); a.put("w2", w2); a.put("b2", b2);
    if (bias) a.put("b", b);
    nn::Conv2d conv(ctx, tiles);
    if (r.op.ends_with("_split")) {
        EXPECT_GT(conv.weight_splits(cs), 1u) << "the row must exercise the split dW";
    }
    View vb = bias ? a.view("b") : View{}, vdb = bias ? a.view("db") : View{};
    auto backward = [&](CommandBuffer& cmd, bool acc) {
        conv.backward_data(cmd, cs, a.view("dy"), a.view("w"), a.view("dx"), acc);
        cmd.barrier();  // WAW on the arena: dx and dw/db share one buffer
        conv.backward_weight(cmd, cs, a.view("x"), a.view("dy"), a.view("dw"), vdb, acc);
    };
    run(ctx, [&](CommandBuffer& cmd) {
        conv.forward(cmd, cs, a.view("x"), a.view("w"), vb, a.view("y"));
        cmd.barrier();  // WAW on the arena (one buffer: validation sees every binding as the whole of it)
        conv.forward(cmd, cs, a.view("x"), a.view("w"), vb, a.view("ye"), {.v = a.view("v"), .residual = a.view("res")});
        cmd.barrier();
        conv.forward(cmd, cs, a.view("x"), a.view("w"), vb, a.view("yv"), {.v = a.view("v")});
        cmd.barrier();
        conv.forward(cmd, cs, a.view("x"), a.view("w"), vb, a.view("yr"), {.residual = a.view("res")});
        cmd.barrier();  // WAW/WAR on the arena: the backward writes the buffer the forward wrote
        backward(cmd, false);
    });
    e.fwd = std::max({max_rel_err(a.get("y"), y), max_rel_err(a.get("ye"), ye), max_rel_err(a.get("yv"), yv),
                      max_rel_err(a.get("yr"), yr)});
    // (on its own Conv2d, so that the path counters below count the four forwards above)
    nn::Conv2d conv_s(ctx, tiles);
    const nn::ConvEpilogue skip{.v = a.view("v"), .skip_x = a.view("x2"), .skip_w = a.view("w2"), .skip_b = a.view("b2"),
                                .skip_cin = uint32_t(c2)};
    if (conv_s.fuses_skip(cs)) {
        run(ctx, [&](CommandBuffer& cmd) { conv_s.forward(cmd, cs, a.view("x"), a.view("w"), vb, a.view("ys"), skip); });
        e.fwd = std::max(e.fwd, max_rel_err(a.get("ys"), ys));
        if (x4) {
            EXPECT_EQ(conv_s.x4_recorded(), 1u) << "a conv_x4 row's fused skip must read its rows as texels";
        }
    } else {  // (stride 2, or the broadcast path GPUs take)
        engine::CommandBuffer unused(ctx);
        EXPECT_THROW(conv_s.forward(unused, cs, a.view("x"), a.view("w"), vb, a.view("ys"), skip), std::invalid_argument);
    }
    // An epilogue input overlapping y would race with the stores: refused before anything is recorded.
    engine::CommandBuffer unused(ctx);
    EXPECT_THROW(conv.forward(unused, cs, a.view("x"), a.view("w"), vb, a.view("y"), {.residual = a.view("y").at(1)}),
                 std::invalid_argument);
    EXPECT_THROW(conv.forward(unused, cs, a.view("x"), a.view("w"), vb, a.view("y"), {.v = a.view("y")}),
                 std::invalid_argument);
    GradCheck g{a};
    g.first("dx", dx); g.first("dw", dw);
    if (bias) g.first("db", db);
    e.guards = a.guards_intact();
    run(ctx, [&](CommandBuffer& cmd) { backward(cmd, true); });
    g.second("dx", dx); g.second("dw", dw);
    if (bias) g.second("db", db);
    e.bwd = g.worst;
    if (x4) {
        // 4 forwards; dX twice (a dispatch per row parity at stride 2), where the stride leaves whole texels of
        // dy per pixel group; dW (dw_px) twice.
        const uint32_t fwd_tn = tiles.pixels_for(uint64_t(cs.n) * cs.oh(), cs.ow(), false);
        const uint32_t dx_tn = tiles.pixels_for(uint64_t(cs.n) * cs.h, cs.w, cs.stride == 2);
        const bool dx4 = cs.ow() % 4 == 0 && dx_tn % cs.stride == 0 && (dx_tn / cs.stride) % 4 == 0;
        const uint32_t dxs = 2 * cs.stride;
        EXPECT_EQ(conv.x4_recorded(), 4u + (dx4 ? dxs : 0u) + (conv.px_path() ? 2u : 0u))
            << "a conv_x4 row must take the texel path";
        // and writes 4 values a store: the 4 forwards where OW and their pixels per invocation are multiples of 4,
        // the dXs where W and theirs are.
        const bool fwd_y4 = cs.ow() % 4 == 0 && fwd_tn % 4 == 0, dx_y4 = cs.w % 4 == 0 && dx_tn % 4 == 0;
        EXPECT_EQ(conv.y4_recorded(), (fwd_y4 ? 4u : 0u) + (dx_y4 ? dxs : 0u))
            << "a conv_x4 row must take the 4-value stores";
    }  // (elsewhere x sits at offset 3: the forward reads one value a fetch on every device)
    return e;
}

// ---- linear: shape {N, In, Out} ----------------------------------------------------------------------
Errors run_linear(engine::Context& ctx, const Row& r) {
    const int n = int(r.shape[0]), in = int(r.shape[1]), out = int(r.shape[2]);
    nn::LinearShape ls{r.shape[0], r.shape[1], r.shape[2]};
    auto x = randn(size_t(n) * in, r.seed), w = randn(size_t(out) * in, r.seed + 1, 1.0 / std::sqrt(in)),
         b = randn(out, r.seed + 2), dy = randn(size_t(n) * out, r.seed + 3);
    std::vector<double> y(size_t(n) * out), dx(x.size()), dw(w.size()), db(out);
    ref::linear_forward(n, in, out, x, w, b, y);
    ref::linear_backward(n, in, out, x, w, dy, dx, dw, db);
    Errors e;
    std::vector<double> yt(y.size());
    auto loss = [&] { ref::linear_forward(n, in, out, x, w, b, yt); return nncheck::dot(yt, dy); };
    e.fd = std::max({nncheck::fd_max_rel_err(x, dx, loss, k_h_linear), nncheck::fd_max_rel_err(w, dw, loss, k_h_linear),
                     nncheck::fd_max_rel_err(b, db, loss, k_h_linear)});

    test::Arena a;
    for (auto [nm, cnt] : {std::pair{"x", x.size()}, {"w", w.size()}, {"b", b.size()}, {"y", y.size()}, {"dy", dy.size()},
                           {"dx", dx.size()}, {"dw", dw.size()}, {"db", db.size()}})
        a.add(nm, cnt);
    a.allocate(ctx);
    a.put("x", x); a.put("w", w); a.put("b", b); a.put("dy", dy);
    nn::Linear lin(ctx);
    auto backward = [&](CommandBuffer& cmd, bool acc) {
        lin.backward_data(cmd, ls, a.view("dy"), a.view("w"), a.view("dx"), acc);
        cmd.barrier();  // WAW on the arena (dx and dw/db share it)
        lin.backward_weight(cmd, ls, a.view("x"), a.view("dy"), a.view("dw"), a.view("db"), acc);
    };
    run(ctx, [&](CommandBuffer& cmd) {
        lin.forward(cmd, ls, a.view("x"), a.view("w"), a.view("b"), a.view("y"));
        cmd.barrier();  // WAW on the arena
        backward(cmd, false);
    });
    e.fwd = max_rel_err(a.get("y"), y);
    GradCheck g{a};
    g.first("dx", dx); g.first("dw", dw); g.first("db", db);
    e.guards = a.guards_intact();
    run(ctx, [&](CommandBuffer& cmd) { backward(cmd, true); });
    g.second("dx", dx); g.second("dw", dw); g.second("db", db);
    e.bwd = g.worst;
    return e;
}

// ---- GroupNorm: shape {N, C, H, W, G}; "groupnorm_offset" adds 30 to x (one-pass variance stress) -----
// (… "_silu" also checks the fused SiLU, "_vec4" the 4-value path, "_chan" the per-channel reductions)
Errors run_groupnorm(engine::Context& ctx, const Row& r) {
    const int n = int(r.shape[0]), c = int(r.shape[1]), hw = int(r.shape[2] * r.shape[3]), g = int(r.shape[4]);
    const double eps = 1e-5;
    nn::GroupNormShape gs{r.shape[0], r.shape[1], r.shape[2] * r.shape[3], r.shape[4], float(eps)};
    const size_t cnt = gs.count();
    auto x = randn(cnt, r.seed, 2.0), gamma = randn(c, r.seed + 1), beta = randn(c, r.seed + 2), dy = randn(cnt, r.seed + 3);
    if (r.op == "groupnorm_offset")
        for (auto& v : x) v += 30.0;
    std::vector<double> y(cnt), mean(size_t(n) * g), rstd(size_t(n) * g), dx(cnt), dgamma(c), dbeta(c);
    ref::groupnorm_forward(n, c, hw, g, eps, x, gamma, beta, y, mean, rstd);
    ref::groupnorm_backward(n, c, hw, g, eps, x, gamma, dy, dx, dgamma, dbeta);
    Errors e;
    e.fd_tol = 1e-5;
    std::vector<double> yt(cnt), mt(mean.size()), rt(rstd.size());
    auto loss = [&] { ref::groupnorm_forward(n, c, hw, g, eps, x, gamma, beta, yt, mt, rt); return nncheck::dot(yt, dy); };
    e.fd = std::max({nncheck::fd_max_rel_err(x, dx, loss, 1e-5, 32), nncheck::fd_max_rel_err(gamma, dgamma, loss, 1e-5, 32),
                     nncheck::fd_max_rel_err(beta, dbeta, loss, 1e-5, 32)});

    // "_vec4" rows lay the tensors out at multiples of 4 floats and force the 4-value path (other rows' odd
    // offsets keep the scalar one on every device).
    // "_flat" rows likewise, with H·W not a multiple of 4 and the group's Cg·H·W one: the 4-value path over
    // whole groups.
    const bool flat = r.op.find("_flat") != std::string::npos, vec4 = flat || r.op.find("_vec4") != std::string::npos;
    if (flat) {
        EXPECT_TRUE(hw % 4 != 0 && c / g * hw % 4 == 0 && hw >= 4) << "a _flat row needs H·W ≥ 4 not a multiple of 4, Cg·H·W one";
    } else if (vec4) {
        EXPECT_EQ(hw % 4, 0) << "a _vec4 row needs H·W a multiple of 4";
    }
    test::Arena a(vec4 ? 4 : 1);
    for (auto [nm, k] : {std::pair{"x", cnt}, {"gamma", size_t(c)}, {"beta", size_t(c)}, {"y", cnt}, {"stats", gs.stats_count()},
                         {"dy", cnt}, {"dx", cnt}, {"dgamma", size_t(c)}, {"dbeta", size_t(c)}, {"scratch", gs.scratch_count()}})
        a.add(nm, k);
    // "groupnorm_silu" also runs the fused kernels — y = SiLU(GroupNorm(x)) into its own tensors, and its
    // backward_silu — as the UNet does in inference and training.
    const bool fused = r.op.starts_with("groupnorm_silu");
    if (fused) {
        a.add("ys", cnt), a.add("stats_s", gs.stats_count());
        a.add("dxs", cnt), a.add("dgammas", size_t(c)), a.add("dbetas", size_t(c));
    }
    a.allocate(ctx);
    a.put("x", x); a.put("gamma", gamma); a.put("beta", beta); a.put("dy", dy);
    // "_chan" rows reduce per channel in the backward, the GPUs' path; the others take the per-lane sums where
    // the device does (CPU drivers).
    const bool chan = r.op.ends_with("_chan");
    nn::GroupNorm gn(ctx, vec4, !chan);  // the rows without _vec4 take the scalar path on every device
    if (chan) {
        EXPECT_EQ(gn.lane_sums(), 0u);
    } else if (ctx.info().type == VK_PHYSICAL_DEVICE_TYPE_CPU && ctx.info().subgroup_size <= nn::GroupNormShape::k_lane_slots) {
        EXPECT_GT(gn.lane_sums(), 0u) << "a CPU driver takes the per-lane sums (up to k_lane_slots lanes)";
    }
    auto backward = [&](CommandBuffer& cmd, bool acc) {
        gn.backward(cmd, gs, a.view("x"), a.view("gamma"), a.view("dy"), a.view("stats"), a.view("dx"), a.view("dgamma"),
                    a.view("dbeta"), a.view("scratch"), acc);
    };
    run(ctx, [&](CommandBuffer& cmd) {
        gn.forward(cmd, gs, a.view("x"), a.view("gamma"), a.view("beta"), a.view("y"), a.view("stats"));
        cmd.barrier();  // RAW: the backward reads the saved statistics
        backward(cmd, false);
    });
    std::vector<double> stats;
    for (size_t i = 0; i < mean.size(); ++i) stats.insert(stats.end(), {mean[i], rstd[i]});
    e.fwd = std::max(max_rel_err(a.get("y"), y), max_rel_err(a.get("stats"), stats));
    if (fused) {
        run(ctx, [&](CommandBuffer& cmd) {
            gn.forward_silu(cmd, gs, a.view("x"), a.view("gamma"), a.view("beta"), a.view("ys"), a.view("stats_s"));
        });
        std::vector<double> ys(cnt);
        ref::silu_forward(y, ys);
        e.fwd = std::max({e.fwd, max_rel_err(a.get("ys"), ys), max_rel_err(a.get("stats_s"), stats)});
    }
    GradCheck gc{a};
    gc.first("dx", dx); gc.first("dgamma", dgamma); gc.first("dbeta", dbeta);
    e.guards = a.guards_intact();
    run(ctx, [&](CommandBuffer& cmd) { backward(cmd, true); });
    gc.second("dx", dx); gc.second("dgamma", dgamma); gc.second("dbeta", dbeta);
    e.bwd = gc.worst;
    if (fused) {
        // backward_silu: dy is ∂L/∂SiLU(GroupNorm(x)); the reference chains SiLU's backward into GroupNorm's,
        // and finite differences check that chain on L = Σ SiLU(GroupNorm(x))·dy.
        std::vector<double> dys(cnt), dxs(cnt), dgs(c), dbs(c);
        ref::silu_backward(y, dy, dys);
        ref::groupnorm_backward(n, c, hw, g, eps, x, gamma, dys, dxs, dgs, dbs);
        std::vector<double> ast(cnt);
        auto loss_s = [&] {
            ref::groupnorm_forward(n, c, hw, g, eps, x, gamma, beta, yt, mt, rt);
            ref::silu_forward(yt, ast);
            return nncheck::dot(ast, dy);
        };
        e.fd = std::max({e.fd, nncheck::fd_max_rel_err(x, dxs, loss_s, 1e-5, 32),
                         nncheck::fd_max_rel_err(gamma, dgs, loss_s, 1e-5, 32), nncheck::fd_max_rel_err(beta, dbs, loss_s, 1e-5, 32)});
        auto backward_s = [&](CommandBuffer& cmd, bool acc) {
            gn.backward_silu(cmd, gs, a.view("x"), a.view("gamma"), a.view("beta"), a.view("dy"), a.view("stats_s"),
                             a.view("dxs"), a.view("dgammas"), a.view("dbetas"), a.view("scratch"), acc);
        };
        GradCheck gs_check{a};
        run(ctx, [&](CommandBuffer& cmd) { backward_s(cmd, false); });
        gs_check.first("dxs", dxs); gs_check.first("dgammas", dgs); gs_check.first("dbetas", dbs);
        run(ctx, [&](CommandBuffer& cmd) { backward_s(cmd, true); });
        gs_check.second("dxs", dxs); gs_check.second("dgammas", dgs); gs_check.second("dbetas", dbs);
        e.bwd = std::max(e.bwd, gs_check.worst);
        e.guards = e.guards && a.guards_intact();
    }
    const uint32_t passes = fused ? 6u : 3u;
    EXPECT_EQ(gn.vec4_recorded(), vec4 && !flat ? passes : 0u) << "every pass of a _vec4 row must take the 4-value path";
    EXPECT_EQ(gn.flat_recorded(), flat ? passes : 0u) << "every pass of a _flat row must take the flat 4-value path";
    return e;
}

}  // namespace nntable
