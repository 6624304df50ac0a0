// diffusion/model/conv.cpp — recording conv2d and linear (shaders/nn/conv2d_*.comp, linear_*.comp).
#include "diffusion/model/layers.hpp"

#include <algorithm>
#include <stdexcept>

namespace diffuscope::nn {

using engine::CommandBuffer;
using engine::groups_for;

ConvTiles ConvTiles::for_device(const engine::Context& ctx) {
    ConvTiles t;
    const auto& info = ctx.info();
    t.subgroup = info.subgroup_ballot && info.subgroup_size >= 2;
    t.tms = t.subgroup ? std::min(8u, info.subgroup_size) : 8u;
    return t;
}

Conv2d::Conv2d(engine::Context& ctx) : Conv2d(ctx, ConvTiles::for_device(ctx)) {}
Conv2d::Conv2d(engine::Context& ctx, const ConvTiles& t) : ctx_(&ctx), tiles_(t) {
    if (t.subgroup && (t.tms < 1 || t.tms > ctx.info().subgroup_size))
        throw std::invalid_argument("Conv2d: tms = " + std::to_string(t.tms) + " must be between 1 and the subgroup size " +
                                    std::to_string(ctx.info().subgroup_size));
    if (t.tn < 2 || t.tn % 2 || t.tmb < 1 || t.wg < 1)
        throw std::invalid_argument("Conv2d: tiles need tn even and ≥ 2, tmb ≥ 1, wg ≥ 1");
}

static void check_conv(const char* what, const ConvShape& s) {
    check_dim(what, "N", s.n);
    check_dim(what, "Cin", s.cin);
    check_dim(what, "H", s.h);
    check_dim(what, "W", s.w);
    check_dim(what, "Cout", s.cout);
    if (s.k != 1 && s.k != 3) throw std::invalid_argument(std::string(what) + ": kernel size " + std::to_string(s.k) + " (1 or 3 supported)");
    if (s.stride != 1 && s.stride != 2)
        throw std::invalid_argument(std::string(what) + ": stride " + std::to_string(s.stride) + " (1 or 2 supported)");
}

// kind 0 = forward, 1 = backward data, 2 = backward weight; the variant index is (K == 3)·2 + (stride == 2).
Kernel& Conv2d::pick(std::array<std::unique_ptr<Kernel>, 4>& set, const char* shader, const ConvShape& s, int kind) {
    auto& k = set[(s.k == 3 ? 2 : 0) + (s.stride == 2 ? 1 : 0)];
    if (!k) {
        engine::PipelineDesc d{shader, 4, 0, {}};
        if (kind == 0) {
            d.push_bytes = 12 * 4;
            d.spec = {tiles_.wg, tiles_.tmb, tiles_.tn, s.k, s.stride, tiles_.tms, tiles_.subgroup ? 1u : 0u};
        } else if (kind == 1) {
            d.buffers = 3;
            d.push_bytes = 11 * 4;
            d.spec = {tiles_.wg, tiles_.tmb, tiles_.tn, s.k, s.stride, tiles_.tms, tiles_.subgroup ? 1u : 0u};
        } else {
            d.push_bytes = 13 * 4;
            d.spec = {tiles_.wg_weight, tiles_.tco, s.k == 3 ? tiles_.tci3 : tiles_.tci1, s.k, s.stride};
        }
        k = std::make_unique<Kernel>(*ctx_, d);
    }
    return *k;
}

void Conv2d::forward(CommandBuffer& cmd, const ConvShape& s, View x, View w, View b, View y) {
    check_conv("conv2d.forward", s);
    check_view("conv2d.forward: x", x, s.x_count());
    check_view("conv2d.forward: w", w, s.w_count());
    if (b) check_view("conv2d.forward: b", b, s.cout);
    check_view("conv2d.forward: y", y, s.y_count());
    struct {
        uint32_t N, Cin, H, W, Cout, OH, OW, x_off, w_off, b_off, y_off, has_bias;
    } push{s.n, s.cin, s.h, s.w, s.cout, s.oh(), s.ow(), x.offset, w.offset, b ? b.offset : 0, y.offset, b ? 1u : 0u};
    const uint64_t slots = uint64_t(s.n) * s.oh() * ((s.ow() + tiles_.tn - 1) / tiles_.tn);  // invocations
    pick(fwd_, "nn/conv2d_forward.comp", s, 0)
        .dispatch(cmd, {x.buffer, w.buffer, b ? b.buffer : w.buffer, y.buffer}, push, groups_for(slots, tiles_.wg),
                  groups_for(s.cout, tiles_.tmb * tiles_.tms));
}

void Conv2d::backward_data(CommandBuffer& cmd, const ConvShape& s, View dy, View w, View dx, bool accumulate) {
    check_conv("conv2d.backward_data", s);
    check_view("conv2d.backward_data: dy", dy, s.y_count());
    check_view("conv2d.backward_data: w", w, s.w_count());
    check_view("conv2d.backward_data: dx", dx, s.x_count());
    struct {
        uint32_t N, Cin, H, W, Cout, OH, OW, dy_off, w_off, dx_off, accumulate;
    } push{s.n, s.cin, s.h, s.w, s.cout, s.oh(), s.ow(), dy.offset, w.offset, dx.offset, accumulate ? 1u : 0u};
    const uint64_t slots = uint64_t(s.n) * s.h * ((s.w + tiles_.tn - 1) / tiles_.tn);  // invocations
    pick(bwd_data_, "nn/conv2d_backward_data.comp", s, 1)
        .dispatch(cmd, {dy.buffer, w.buffer, dx.buffer}, push, groups_for(slots, tiles_.wg),
                  groups_for(s.cin, tiles_.tmb * tiles_.tms));
}

void Conv2d::backward_weight(CommandBuffer& cmd, const ConvShape& s, View x, View dy, View dw, View db, bool accumulate) {
    check_conv("conv2d.backward_weight", s);
    check_view("conv2d.backward_weight: x", x, s.x_count());
    check_view("conv2d.backward_weight: dy", dy, s.y_count());
    check_view("conv2d.backward_weight: dw", dw, s.w_count());
    if (db) check_view("conv2d.backward_weight: db", db, s.cout);
    struct {
        uint32_t N, Cin, H, W, Cout, OH, OW, x_off, dy_off, dw_off, db_off, has_bias, accumulate;
    } push{s.n,       s.cin,     s.h,       s.w, s.cout, s.oh(), s.ow(), x.offset, dy.offset, dw.offset, db ? db.offset : 0,
           db ? 1u : 0u, accumulate ? 1u : 0u};
    const uint32_t tci = s.k == 3 ? tiles_.tci3 : tiles_.tci1;
    pick(bwd_weight_, "nn/conv2d_backward_weight.comp", s, 2)
        .dispatch(cmd, {x.buffer, dy.buffer, dw.buffer, db ? db.buffer : dw.buffer}, push, groups_for(s.cin, tci),
                  groups_for(s.cout, tiles_.tco));
}

// ---- linear ------------------------------------------------------------------------------------------

Linear::Linear(engine::Context& ctx)
    : fwd_(ctx, {"nn/linear_forward.comp", 4, 8 * 4}), bwd_data_(ctx, {"nn/linear_backward_data.comp", 3, 7 * 4}),
      bwd_weight_(ctx, {"nn/linear_backward_weight.comp", 4, 9 * 4}) {}

static void check_linear(const char* what, const LinearShape& s) {
    check_dim(what, "N", s.n);
    check_dim(what, "In", s.in);
    check_dim(what, "Out", s.out);
}

void Linear::forward(CommandBuffer& cmd, const LinearShape& s, View x, View w, View b, View y) {
    check_linear("linear.forward", s);
    check_view("linear.forward: x", x, uint64_t(s.n) * s.in);
    check_view("linear.forward: w", w, uint64_t(s.out) * s.in);
    if (b) check_view("linear.forward: b", b, s.out);
    check_view("linear.forward: y", y, uint64_t(s.n) * s.out);
    struct {
        uint32_t N, In, Out, x_off, w_off, b_off, y_off, has_bias;
    } push{s.n, s.in, s.out, x.offset, w.offset, b ? b.offset : 0, y.offset, b ? 1u : 0u};
    fwd_.dispatch(cmd, {x.buffer, w.buffer, b ? b.buffer : w.buffer, y.buffer}, push, groups_for(uint64_t(s.n) * s.out, 64));
}

void Linear::backward_data(CommandBuffer& cmd, const LinearShape& s, View dy, View w, View dx, bool accumulate) {
    check_linear("linear.backward_data", s);
    check_view("linear.backward_data: dy", dy, uint64_t(s.n) * s.out);
    check_view("linear.backward_data: w", w, uint64_t(s.out) * s.in);
    check_view("linear.backward_data: dx", dx, uint64_t(s.n) * s.in);
    struct {
        uint32_t N, In, Out, dy_off, w_off, dx_off, accumulate;
    } push{s.n, s.in, s.out, dy.offset, w.offset, dx.offset, accumulate ? 1u : 0u};
    bwd_data_.dispatch(cmd, {dy.buffer, w.buffer, dx.buffer}, push, groups_for(uint64_t(s.n) * s.in, 64));
}

void Linear::backward_weight(CommandBuffer& cmd, const LinearShape& s, View x, View dy, View dw, View db, bool accumulate) {
    check_linear("linear.backward_weight", s);
    check_view("linear.backward_weight: x", x, uint64_t(s.n) * s.in);
    check_view("linear.backward_weight: dy", dy, uint64_t(s.n) * s.out);
    check_view("linear.backward_weight: dw", dw, uint64_t(s.out) * s.in);
    if (db) check_view("linear.backward_weight: db", db, s.out);
    struct {
        uint32_t N, In, Out, x_off, dy_off, dw_off, db_off, has_bias, accumulate;
    } push{s.n, s.in, s.out, x.offset, dy.offset, dw.offset, db ? db.offset : 0, db ? 1u : 0u, accumulate ? 1u : 0u};
    bwd_weight_.dispatch(cmd, {x.buffer, dy.buffer, dw.buffer, db ? db.buffer : dw.buffer}, push,
                         groups_for(uint64_t(s.out) * s.in + s.out, 64));
}

}  // namespace diffuscope::nn
