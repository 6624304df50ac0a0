// diffusion/model/linear.cpp — recording the linear layer (shaders/nn/linear_{forward,backward_data,
// backward_weight}.comp): one invocation per 4 × 4 output tile in all three passes.
#include "diffusion/model/layers.hpp"

#include <stdexcept>

namespace diffuscope::nn {

using engine::CommandBuffer;
using engine::groups_for;

Linear::Linear(engine::Context& ctx)
    : fwd_(ctx, {"nn/linear_forward.comp", 4, 8 * 4}), bwd_data_(ctx, {"nn/linear_backward_data.comp", 3, 7 * 4}),
      bwd_weight_(ctx, {"nn/linear_backward_weight.comp", 4, 9 * 4}) {}

// Invocations of the linear kernels: one per 4 × 4 tile of their [rows, cols] output.
static uint64_t tiles4(uint64_t rows, uint64_t cols) { return (rows + 3) / 4 * ((cols + 3) / 4); }

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
    fwd_.dispatch(cmd, {x.buffer, w.buffer, b ? b.buffer : w.buffer, y.buffer}, push, groups_for(tiles4(s.n, s.out), 64));
}

void Linear::backward_data(CommandBuffer& cmd, const LinearShape& s, View dy, View w, View dx, bool accumulate) {
    check_linear("linear.backward_data", s);
    check_view("linear.backward_data: dy", dy, uint64_t(s.n) * s.out);
    check_view("linear.backward_data: w", w, uint64_t(s.out) * s.in);
    check_view("linear.backward_data: dx", dx, uint64_t(s.n) * s.in);
    struct {
        uint32_t N, In, Out, dy_off, w_off, dx_off, accumulate;
    } push{s.n, s.in, s.out, dy.offset, w.offset, dx.offset, accumulate ? 1u : 0u};
    bwd_data_.dispatch(cmd, {dy.buffer, w.buffer, dx.buffer}, push, groups_for(tiles4(s.n, s.in), 64));
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
                         groups_for(tiles4(s.out, s.in), 64));
}

}  // namespace diffuscope::nn
