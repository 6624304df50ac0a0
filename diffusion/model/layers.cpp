// diffusion/model/layers.cpp — recording GroupNorm, the elementwise layers, the embeddings and the loss.
#include "diffusion/model/layers.hpp"

#include "diffusion/model/sinusoid.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace diffuscope::nn {

using engine::CommandBuffer;
using engine::groups_for;

// GroupNorm / bias-add reduction workgroups (shaders/nn/reduce.glsl): one subgroup on a CPU driver, where
// barriers and shared memory are dear; 128 invocations elsewhere.
static uint32_t reduce_wg(engine::Context& ctx) {
    const auto& info = ctx.info();
    if (!info.subgroup_arithmetic)
        throw std::runtime_error("this Vulkan device has no subgroup arithmetic, which the normalisation layers need");
    return info.type == VK_PHYSICAL_DEVICE_TYPE_CPU ? std::max(1u, info.subgroup_size) : 128u;
}
static constexpr uint32_t k_loss_wg = 256, k_loss_items = 16;

static uint32_t u32(uint64_t v, const char* what) {
    if (v > 0xffffffffull) throw std::invalid_argument(std::string(what) + ": more than 2³² elements");
    return uint32_t(v);
}

// ---- the 4-value paths (GroupNorm, Concat, the backward of BiasAdd and Add) ---------------------------
// On by default on CPU drivers, where an access costs about the same whatever its width; a layer built with
// vec4 takes the path for a pass when every size given is a multiple of 4 and every tensor (empty views are
// not bound) starts at a multiple of 4 floats. Its inputs are then read through extra RGBA32F bindings.
static bool vec4_by_default(const engine::Context& ctx) { return ctx.info().type == VK_PHYSICAL_DEVICE_TYPE_CPU; }

static bool vec4_fits(bool enabled, std::initializer_list<uint64_t> sizes, std::initializer_list<View> tensors) {
    if (!enabled) return false;
    for (uint64_t n : sizes)
        if (n % 4) return false;
    for (const View& v : tensors)
        if (v && v.offset % 4) return false;
    return true;
}

// A pipeline whose bindings with bit i set in `rgba32f` get RGBA32F views.
static engine::PipelineDesc desc_rgba(std::string shader, uint32_t bindings, uint32_t push_bytes,
                                      std::vector<uint32_t> spec, uint32_t rgba32f) {
    engine::PipelineDesc d{std::move(shader), bindings, push_bytes, std::move(spec)};
    d.rgba32f_bindings = rgba32f;
    return d;
}

// ---- GroupNorm ---------------------------------------------------------------------------------------

// The GroupNorm backward's per-lane sums (its LANES): on CPU drivers each lane of the one-subgroup workgroup
// writes its own per-channel sums and the params pass adds them, so a group takes one subgroup reduction
// instead of one per channel. llvmpipe runs subgroupAdd as a loop over the lanes, ~0.1 µs a call, so at 7×7
// per-channel reductions would be half the pass. 0: GPUs, and workgroups wider than the scratch's lane slots,
// reduce per channel.
// On llvmpipe (64·64 channels of 7×7) the pass takes 0.8 ms with per-lane sums against 1.6 ms per channel.
static uint32_t gn_lanes(engine::Context& ctx) {
    const uint32_t wg = reduce_wg(ctx);
    return ctx.info().type == VK_PHYSICAL_DEVICE_TYPE_CPU && wg <= GroupNormShape::k_lane_slots ? wg : 0u;
}

// The GroupNorm pipelines: forward (7 bindings, x's RGBA32F view at 5) or backward (10, x and dy at 7 and 8),
// with the SiLU or not, on one of the paths: one value per access, 4 per access channel by channel (vec4), or
// 4 per access over the whole group (flat).
enum GnPath : uint32_t { gn_scalar, gn_vec4, gn_flat };
static engine::PipelineDesc gn_desc(engine::Context& ctx, bool backward, bool silu, uint32_t path, uint32_t lanes) {
    return desc_rgba(backward ? "nn/groupnorm_backward.comp" : "nn/groupnorm_forward.comp", backward ? 10u : 7u,
                     backward ? 12u * 4 : 10u * 4,
                     {reduce_wg(ctx), silu ? 1u : 0u, path != gn_scalar ? 1u : 0u, lanes, path == gn_flat ? 1u : 0u},
                     backward ? (1u << 7 | 1u << 8) : 1u << 5);
}

GroupNorm::GroupNorm(engine::Context& ctx) : GroupNorm(ctx, vec4_by_default(ctx)) {}
GroupNorm::GroupNorm(engine::Context& ctx, bool vec4, bool lane_sums)
    : vec4_(vec4), lanes_(lane_sums ? gn_lanes(ctx) : 0u), bwd_params_(ctx, {"nn/groupnorm_backward_params.comp", 3, 7 * 4}) {
    kernels_.reserve(12);
    for (bool backward : {false, true})
        for (bool silu : {false, true})
            for (uint32_t path : {gn_scalar, gn_vec4, gn_flat}) kernels_.emplace_back(ctx, gn_desc(ctx, backward, silu, path, lanes_));
}

Kernel& GroupNorm::kernel(bool backward, bool silu, const GroupNormShape& s, std::initializer_list<View> tensors) {
    uint32_t path = gn_scalar;
    if (vec4_fits(vec4_, {s.hw}, tensors))
        path = gn_vec4;
    else if (s.hw >= 4 && vec4_fits(vec4_, {uint64_t(s.c / s.groups) * s.hw}, tensors))
        path = gn_flat;  // a texel straddles at most two channels
    vec4_recorded_ += path == gn_vec4;
    flat_recorded_ += path == gn_flat;
    return kernels_[(uint32_t(backward) * 2 + uint32_t(silu)) * 3 + path];
}

static void check_gn(const char* what, const GroupNormShape& s) {
    check_dim(what, "N", s.n);
    check_dim(what, "C", s.c);
    check_dim(what, "H·W", s.hw);
    check_dim(what, "groups", s.groups);
    if (s.c % s.groups)
        throw std::invalid_argument(std::string(what) + ": " + std::to_string(s.groups) + " groups do not divide " +
                                    std::to_string(s.c) + " channels");
    if (!(s.eps > 0)) throw std::invalid_argument(std::string(what) + ": eps must be > 0");
}

void GroupNorm::forward(CommandBuffer& cmd, const GroupNormShape& s, View x, View gamma, View beta, View y, View stats) {
    record_forward(cmd, s, x, gamma, beta, y, stats, false);
}

void GroupNorm::forward_silu(CommandBuffer& cmd, const GroupNormShape& s, View x, View gamma, View beta, View y, View stats) {
    record_forward(cmd, s, x, gamma, beta, y, stats, true);
}

void GroupNorm::record_forward(CommandBuffer& cmd, const GroupNormShape& s, View x, View gamma, View beta, View y, View stats,
                               bool silu) {
    check_gn("group_norm.forward", s);
    check_view("group_norm.forward: x", x, s.count());
    check_view("group_norm.forward: gamma", gamma, s.c);
    check_view("group_norm.forward: beta", beta, s.c);
    check_view("group_norm.forward: y", y, s.count());
    check_view("group_norm.forward: stats", stats, s.stats_count());
    struct {
        uint32_t N, C, HW, G, x_off, gamma_off, beta_off, y_off, stats_off;
        float eps;
    } push{s.n, s.c, s.hw, s.groups, x.offset, gamma.offset, beta.offset, y.offset, stats.offset, s.eps};
    kernel(false, silu, s, {x, y})
        .dispatch(cmd, {x.buffer, gamma.buffer, beta.buffer, y.buffer, stats.buffer, x.buffer, y.buffer}, push, s.n * s.groups);
}

void GroupNorm::backward(CommandBuffer& cmd, const GroupNormShape& s, View x, View gamma, View dy, View stats, View dx,
                         View dgamma, View dbeta, View scratch, bool accumulate) {
    record_backward(cmd, s, x, gamma, View{}, dy, stats, dx, dgamma, dbeta, scratch, accumulate);
}

void GroupNorm::backward_silu(CommandBuffer& cmd, const GroupNormShape& s, View x, View gamma, View beta, View dy,
                              View stats, View dx, View dgamma, View dbeta, View scratch, bool accumulate) {
    check_view("group_norm.backward_silu: beta", beta, s.c);
    record_backward(cmd, s, x, gamma, beta, dy, stats, dx, dgamma, dbeta, scratch, accumulate);
}

void GroupNorm::record_backward(CommandBuffer& cmd, const GroupNormShape& s, View x, View gamma, View beta, View dy,
                                View stats, View dx, View dgamma, View dbeta, View scratch, bool accumulate) {
    check_gn("group_norm.backward", s);
    check_view("group_norm.backward: x", x, s.count());
    check_view("group_norm.backward: gamma", gamma, s.c);
    check_view("group_norm.backward: dy", dy, s.count());
    check_view("group_norm.backward: stats", stats, s.stats_count());
    check_view("group_norm.backward: dx", dx, s.count());
    check_view("group_norm.backward: dgamma", dgamma, s.c);
    check_view("group_norm.backward: dbeta", dbeta, s.c);
    check_view("group_norm.backward: scratch", scratch, s.scratch_count());
    struct {
        uint32_t N, C, HW, G, x_off, gamma_off, dy_off, stats_off, dx_off, partial_off, accumulate, beta_off;
    } pd{s.n, s.c, s.hw, s.groups, x.offset, gamma.offset, dy.offset, stats.offset, dx.offset, scratch.offset,
         accumulate ? 1u : 0u, beta ? beta.offset : 0u};
    kernel(true, bool(beta), s, {x, dy, dx})
        .dispatch(cmd, {x.buffer, gamma.buffer, dy.buffer, stats.buffer, dx.buffer, scratch.buffer,
                        beta ? beta.buffer : gamma.buffer, x.buffer, dy.buffer, dx.buffer},
                  pd, s.n * s.groups);
    cmd.barrier();  // RAW: dγ, dβ are sums of the per-(n, c) partials just written
    struct {
        uint32_t N, C, P, partial_off, dgamma_off, dbeta_off, accumulate;
    } pp{s.n, s.c, std::max(lanes_, 1u), scratch.offset, dgamma.offset, dbeta.offset, accumulate ? 1u : 0u};
    bwd_params_.dispatch(cmd, {scratch.buffer, dgamma.buffer, dbeta.buffer}, pp, groups_for(s.c, 64));
}

// ---- SiLU, upsampling, concat, bias add, add ---------------------------------------------------------

SiLU::SiLU(engine::Context& ctx)
    : fwd_(ctx, {"nn/silu_forward.comp", 2, 3 * 4}), bwd_(ctx, {"nn/silu_backward.comp", 3, 5 * 4}) {}

void SiLU::forward(CommandBuffer& cmd, uint64_t count, View x, View y) {
    check_dim("silu.forward", "count", count);
    check_view("silu.forward: x", x, count);
    check_view("silu.forward: y", y, count);
    struct { uint32_t n, x_off, y_off; } push{u32(count, "silu"), x.offset, y.offset};
    fwd_.dispatch(cmd, {x.buffer, y.buffer}, push, groups_for(count, 256));
}

void SiLU::backward(CommandBuffer& cmd, uint64_t count, View x, View dy, View dx, bool accumulate) {
    check_dim("silu.backward", "count", count);
    check_view("silu.backward: x", x, count);
    check_view("silu.backward: dy", dy, count);
    check_view("silu.backward: dx", dx, count);
    struct { uint32_t n, x_off, dy_off, dx_off, accumulate; } push{u32(count, "silu"), x.offset, dy.offset, dx.offset,
                                                                   accumulate ? 1u : 0u};
    bwd_.dispatch(cmd, {x.buffer, dy.buffer, dx.buffer}, push, groups_for(count, 256));
}

// nn/concat_up.comp in one of its modes (binding 1: the input's RGBA32F view). It also serves Upsample2: modes 0
// and 2 with no second input are the plain upsampling and its backward.
static engine::PipelineDesc concat_up_desc(uint32_t mode, bool vec4) {
    return desc_rgba("nn/concat_up.comp", 4, 8 * 4, {mode, vec4 ? 1u : 0u}, 1u << 1);
}
namespace {
struct ConcatUpPush {
    uint32_t N, Ca, Cb, H, W, in_off, out_off, accumulate;  // H, W: the upsampled size
};
}  // namespace

Upsample2::Upsample2(engine::Context& ctx) : fwd_(ctx, concat_up_desc(0, false)), bwd_(ctx, concat_up_desc(2, false)) {}

void Upsample2::forward(CommandBuffer& cmd, uint32_t nc, uint32_t h, uint32_t w, View x, View y) {
    check_dim("upsample2.forward", "N·C", nc);
    check_dim("upsample2.forward", "H", h);
    check_dim("upsample2.forward", "W", w);
    const uint64_t count = uint64_t(nc) * h * w;
    check_view("upsample2.forward: x", x, count);
    check_view("upsample2.forward: y", y, 4 * count);
    fwd_.dispatch(cmd, {x.buffer, x.buffer, y.buffer, y.buffer}, ConcatUpPush{1, nc, 0, 2 * h, 2 * w, x.offset, y.offset, 0},
                  groups_for(count, 256));
}

void Upsample2::backward(CommandBuffer& cmd, uint32_t nc, uint32_t h, uint32_t w, View dy, View dx, bool accumulate) {
    check_dim("upsample2.backward", "N·C", nc);
    check_dim("upsample2.backward", "H", h);
    check_dim("upsample2.backward", "W", w);
    const uint64_t count = uint64_t(nc) * h * w;
    check_view("upsample2.backward: dy", dy, 4 * count);
    check_view("upsample2.backward: dx", dx, count);
    bwd_.dispatch(cmd, {dy.buffer, dy.buffer, dx.buffer, dx.buffer},
                  ConcatUpPush{1, nc, 0, 2 * h, 2 * w, dy.offset, dx.offset, accumulate ? 1u : 0u}, groups_for(count, 256));
}

// Concat's pipelines: 6 bindings, the 4-value path's RGBA32F views at 3 and 4 (forward) or 3 (backward).
static engine::PipelineDesc concat_desc(bool backward, bool vec4) {
    return desc_rgba(backward ? "nn/concat_backward.comp" : "nn/concat_forward.comp", 6, backward ? 9u * 4 : 7u * 4,
                     {vec4 ? 1u : 0u}, backward ? 1u << 3 : (1u << 3 | 1u << 4));
}

Concat::Concat(engine::Context& ctx) : Concat(ctx, vec4_by_default(ctx)) {}
Concat::Concat(engine::Context& ctx, bool vec4)
    : vec4_(vec4), fwd_(ctx, concat_desc(false, false)), bwd_(ctx, concat_desc(true, false)),
      fwd4_(ctx, concat_desc(false, true)), bwd4_(ctx, concat_desc(true, true)),
      up_a_(ctx, concat_up_desc(0, false)), up_b_(ctx, concat_up_desc(1, false)), up_b4_(ctx, concat_up_desc(1, true)),
      up_da_(ctx, concat_up_desc(2, false)), up_db_(ctx, concat_up_desc(3, false)), up_db4_(ctx, concat_up_desc(3, true)) {}

static void check_concat(const char* what, uint32_t n, uint32_t ca, uint32_t cb, uint32_t hw) {
    check_dim(what, "N", n);
    check_dim(what, "Ca", ca);
    check_dim(what, "Cb", cb);
    check_dim(what, "H·W", hw);
}
// The upsampling variants need y's height and width even (a is half of each).
static void check_up(const char* what, uint32_t h, uint32_t w) {
    if (h == 0 || w == 0 || h % 2 || w % 2)
        throw std::invalid_argument(std::string(what) + ": y is " + std::to_string(h) + "×" + std::to_string(w) +
                                    "; upsampling ×2 needs an even, non-zero height and width");
}

void Concat::forward(CommandBuffer& cmd, uint32_t n, uint32_t ca, uint32_t cb, uint32_t hw, View a, View b, View y) {
    check_concat("concat.forward", n, ca, cb, hw);
    check_view("concat.forward: a", a, uint64_t(n) * ca * hw);
    check_view("concat.forward: b", b, uint64_t(n) * cb * hw);
    check_view("concat.forward: y", y, uint64_t(n) * (ca + cb) * hw);
    struct { uint32_t N, Ca, Cb, HW, a_off, b_off, y_off; } push{n, ca, cb, hw, a.offset, b.offset, y.offset};
    const bool v4 = vec4_fits(vec4_, {uint64_t(ca) * hw, uint64_t(cb) * hw}, {a, b, y});
    vec4_recorded_ += v4;
    (v4 ? fwd4_ : fwd_).dispatch(cmd, {a.buffer, b.buffer, y.buffer, a.buffer, b.buffer, y.buffer}, push,
                                 groups_for(uint64_t(n) * (ca + cb) * hw / (v4 ? 4 : 1), 256));
}

void Concat::backward(CommandBuffer& cmd, uint32_t n, uint32_t ca, uint32_t cb, uint32_t hw, View dy, View da, View db,
                      bool acc_a, bool acc_b) {
    check_concat("concat.backward", n, ca, cb, hw);
    check_view("concat.backward: dy", dy, uint64_t(n) * (ca + cb) * hw);
    check_view("concat.backward: da", da, uint64_t(n) * ca * hw);
    check_view("concat.backward: db", db, uint64_t(n) * cb * hw);
    struct {
        uint32_t N, Ca, Cb, HW, dy_off, da_off, db_off, acc_a, acc_b;
    } push{n, ca, cb, hw, dy.offset, da.offset, db.offset, acc_a ? 1u : 0u, acc_b ? 1u : 0u};
    const bool v4 = vec4_fits(vec4_, {uint64_t(ca) * hw, uint64_t(cb) * hw}, {dy, da, db});
    vec4_recorded_ += v4;
    (v4 ? bwd4_ : bwd_).dispatch(cmd, {dy.buffer, da.buffer, db.buffer, dy.buffer, da.buffer, db.buffer}, push,
                                 groups_for(uint64_t(n) * (ca + cb) * hw / (v4 ? 4 : 1), 256));
}

void Concat::forward_up(CommandBuffer& cmd, uint32_t n, uint32_t ca, uint32_t cb, uint32_t h, uint32_t w, View a, View b,
                        View y) {
    check_up("concat.forward_up", h, w);
    const uint64_t hw = uint64_t(h) * w;
    check_concat("concat.forward_up", n, ca, cb, uint32_t(hw));
    check_view("concat.forward_up: a", a, uint64_t(n) * ca * hw / 4);
    check_view("concat.forward_up: b", b, uint64_t(n) * cb * hw);
    check_view("concat.forward_up: y", y, uint64_t(n) * (ca + cb) * hw);
    // a's part, then b's: disjoint parts of y (the barrier is for the validation layer, which sees whole buffers).
    up_a_.dispatch(cmd, {a.buffer, a.buffer, y.buffer, y.buffer}, ConcatUpPush{n, ca, cb, h, w, a.offset, y.offset, 0},
                   groups_for(uint64_t(n) * ca * hw / 4, 256));
    cmd.barrier();
    const bool v4 = vec4_fits(vec4_, {uint64_t(ca) * hw, uint64_t(cb) * hw}, {b, y});
    vec4_recorded_ += v4;
    (v4 ? up_b4_ : up_b_).dispatch(cmd, {b.buffer, b.buffer, y.buffer, y.buffer},
                                   ConcatUpPush{n, ca, cb, h, w, b.offset, y.offset, 0},
                                   groups_for(uint64_t(n) * cb * hw / (v4 ? 4 : 1), 256));
}

void Concat::backward_up(CommandBuffer& cmd, uint32_t n, uint32_t ca, uint32_t cb, uint32_t h, uint32_t w, View dy,
                         View da, View db, bool acc_a, bool acc_b) {
    check_up("concat.backward_up", h, w);
    const uint64_t hw = uint64_t(h) * w;
    check_concat("concat.backward_up", n, ca, cb, uint32_t(hw));
    check_view("concat.backward_up: dy", dy, uint64_t(n) * (ca + cb) * hw);
    check_view("concat.backward_up: da", da, uint64_t(n) * ca * hw / 4);
    check_view("concat.backward_up: db", db, uint64_t(n) * cb * hw);
    up_da_.dispatch(cmd, {dy.buffer, dy.buffer, da.buffer, da.buffer},
                    ConcatUpPush{n, ca, cb, h, w, dy.offset, da.offset, acc_a ? 1u : 0u},
                    groups_for(uint64_t(n) * ca * hw / 4, 256));
    cmd.barrier();  // da and db may share a buffer (validation sees whole buffers)
    const bool v4 = vec4_fits(vec4_, {uint64_t(ca) * hw, uint64_t(cb) * hw}, {dy, db});
    vec4_recorded_ += v4;
    (v4 ? up_db4_ : up_db_).dispatch(cmd, {dy.buffer, dy.buffer, db.buffer, db.buffer},
                                     ConcatUpPush{n, ca, cb, h, w, dy.offset, db.offset, acc_b ? 1u : 0u},
                                     groups_for(uint64_t(n) * cb * hw / (v4 ? 4 : 1), 256));
}

// The backward kernels of BiasAdd and Add (5 and 6 bindings) read dy's RGBA32F view at 3 on the 4-value path.
BiasAdd::BiasAdd(engine::Context& ctx) : BiasAdd(ctx, vec4_by_default(ctx)) {}
BiasAdd::BiasAdd(engine::Context& ctx, bool vec4)
    : BiasAdd(ctx, vec4, ctx.info().type == VK_PHYSICAL_DEVICE_TYPE_CPU) {}
BiasAdd::BiasAdd(engine::Context& ctx, bool vec4, bool serial)
    : vec4_(vec4), serial_(serial), wg_(reduce_wg(ctx)), fwd_(ctx, {"nn/bias_add_forward.comp", 3, 5 * 4}),
      bwd_(ctx, desc_rgba("nn/bias_add_backward.comp", 5, 8 * 4, {wg_, 0, serial}, 1u << 3)),
      bwd4_(ctx, desc_rgba("nn/bias_add_backward.comp", 5, 8 * 4, {wg_, 1, serial}, 1u << 3)) {}

void BiasAdd::forward(CommandBuffer& cmd, uint32_t nc, uint32_t hw, View x, View v, View y) {
    check_dim("bias_add.forward", "N·C", nc);
    check_dim("bias_add.forward", "H·W", hw);
    check_view("bias_add.forward: x", x, uint64_t(nc) * hw);
    check_view("bias_add.forward: v", v, nc);
    check_view("bias_add.forward: y", y, uint64_t(nc) * hw);
    struct { uint32_t NC, HW, x_off, v_off, y_off; } push{nc, hw, x.offset, v.offset, y.offset};
    fwd_.dispatch(cmd, {x.buffer, v.buffer, y.buffer}, push, groups_for(uint64_t(nc) * hw, 256));
}

void BiasAdd::backward(CommandBuffer& cmd, uint32_t nc, uint32_t hw, View dy, View dx, View dv, bool acc_x, bool acc_v) {
    check_dim("bias_add.backward", "N·C", nc);
    check_dim("bias_add.backward", "H·W", hw);
    check_view("bias_add.backward: dy", dy, uint64_t(nc) * hw);
    if (dx) check_view("bias_add.backward: dx", dx, uint64_t(nc) * hw);
    check_view("bias_add.backward: dv", dv, nc);
    struct {
        uint32_t NC, HW, dy_off, dx_off, dv_off, acc_x, acc_v, has_dx;
    } push{nc, hw, dy.offset, dx ? dx.offset : 0, dv.offset, acc_x ? 1u : 0u, acc_v ? 1u : 0u, dx ? 1u : 0u};
    const bool v4 = vec4_fits(vec4_, {hw}, {dy, dx});
    vec4_recorded_ += v4;
    const engine::Buffer* dxb = dx ? dx.buffer : dv.buffer;
    (v4 ? bwd4_ : bwd_).dispatch(cmd, {dy.buffer, dxb, dv.buffer, dy.buffer, dxb}, push,
                                 serial_ ? groups_for(nc, wg_) : nc);
}

Add::Add(engine::Context& ctx) : Add(ctx, vec4_by_default(ctx)) {}
Add::Add(engine::Context& ctx, bool vec4)
    : vec4_(vec4), fwd_(ctx, {"nn/add_forward.comp", 3, 4 * 4}),
      bwd_(ctx, desc_rgba("nn/add_backward.comp", 6, 7 * 4, {0}, 1u << 3)),
      bwd4_(ctx, desc_rgba("nn/add_backward.comp", 6, 7 * 4, {1}, 1u << 3)) {}

void Add::forward(CommandBuffer& cmd, uint64_t count, View a, View b, View y) {
    check_dim("add.forward", "count", count);
    check_view("add.forward: a", a, count);
    check_view("add.forward: b", b, count);
    check_view("add.forward: y", y, count);
    struct { uint32_t n, a_off, b_off, y_off; } push{u32(count, "add"), a.offset, b.offset, y.offset};
    fwd_.dispatch(cmd, {a.buffer, b.buffer, y.buffer}, push, groups_for(count, 256));
}

void Add::backward(CommandBuffer& cmd, uint64_t count, View dy, View da, View db, bool acc_a, bool acc_b) {
    check_dim("add.backward", "count", count);
    check_view("add.backward: dy", dy, count);
    check_view("add.backward: da", da, count);
    if (db) check_view("add.backward: db", db, count);
    struct {
        uint32_t n, dy_off, da_off, db_off, acc_a, acc_b, has_b;
    } push{u32(count, "add"), dy.offset, da.offset, db ? db.offset : 0, acc_a ? 1u : 0u, acc_b ? 1u : 0u, db ? 1u : 0u};
    const bool v4 = vec4_fits(vec4_, {count}, {dy, da, db});
    vec4_recorded_ += v4;
    const engine::Buffer* dbb = db ? db.buffer : da.buffer;
    (v4 ? bwd4_ : bwd_).dispatch(cmd, {dy.buffer, da.buffer, dbb, dy.buffer, da.buffer, dbb}, push,
                                 groups_for(v4 ? count / 4 : count, 256));
}

// ---- conditioning ------------------------------------------------------------------------------------

std::array<float, 2> sinusoid_log2_step(uint32_t half) {
    if (half < 2 || half > 1024) throw std::invalid_argument("sinusoidal: D/2 = " + std::to_string(half) + " must be in [2, 1024]");
    const double c = std::log2(1000.0) / double(half - 1);
    int e = 0;
    std::frexp(c, &e);  // c = m·2^e, m ∈ [0.5, 1)
    const double quantum = std::ldexp(1.0, e - 14);
    const double hi = std::round(c / quantum) * quantum;
    return {float(hi), float(c - hi)};
}

SinusoidalEmbed::SinusoidalEmbed(engine::Context& ctx) : fwd_(ctx, {"nn/sinusoidal_embed.comp", 2, 7 * 4}) {}

void SinusoidalEmbed::forward(CommandBuffer& cmd, uint32_t n, uint32_t d, float scale, View level, View e) {
    check_dim("sinusoidal.forward", "N", n);
    if (d < 4 || d % 2 || d > 2048)
        throw std::invalid_argument("sinusoidal.forward: D = " + std::to_string(d) + " must be even and in [4, 2048]");
    check_view("sinusoidal.forward: level", level, n);
    check_view("sinusoidal.forward: e", e, uint64_t(n) * d);
    const auto step = sinusoid_log2_step(d / 2);
    struct {
        uint32_t N, half_d, level_off, e_off;
        float scale, step_hi, step_lo;
    } push{n, d / 2, level.offset, e.offset, scale, step[0], step[1]};
    fwd_.dispatch(cmd, {level.buffer, e.buffer}, push, groups_for(uint64_t(n) * (d / 2), 64));
}

LabelEmbed::LabelEmbed(engine::Context& ctx)
    : fwd_(ctx, {"nn/label_embed_forward.comp", 3, 6 * 4}), bwd_(ctx, {"nn/label_embed_backward.comp", 3, 7 * 4}) {}

void LabelEmbed::forward(CommandBuffer& cmd, uint32_t n, uint32_t rows, uint32_t d, View label, View table, View y) {
    check_dim("label_embed.forward", "N", n);
    check_dim("label_embed.forward", "rows", rows);
    check_dim("label_embed.forward", "D", d);
    check_view("label_embed.forward: label", label, n);
    check_view("label_embed.forward: table", table, uint64_t(rows) * d);
    check_view("label_embed.forward: y", y, uint64_t(n) * d);
    struct { uint32_t N, rows, D, label_off, table_off, y_off; } push{n, rows, d, label.offset, table.offset, y.offset};
    fwd_.dispatch(cmd, {label.buffer, table.buffer, y.buffer}, push, groups_for(uint64_t(n) * d, 64));
}

void LabelEmbed::backward(CommandBuffer& cmd, uint32_t n, uint32_t rows, uint32_t d, View label, View dy, View dtable,
                          bool accumulate) {
    check_dim("label_embed.backward", "N", n);
    check_dim("label_embed.backward", "rows", rows);
    check_dim("label_embed.backward", "D", d);
    check_view("label_embed.backward: label", label, n);
    check_view("label_embed.backward: dy", dy, uint64_t(n) * d);
    check_view("label_embed.backward: dtable", dtable, uint64_t(rows) * d);
    struct {
        uint32_t N, rows, D, label_off, dy_off, dtable_off, accumulate;
    } push{n, rows, d, label.offset, dy.offset, dtable.offset, accumulate ? 1u : 0u};
    bwd_.dispatch(cmd, {label.buffer, dy.buffer, dtable.buffer}, push, groups_for(uint64_t(rows) * d, 64));
}

// ---- loss --------------------------------------------------------------------------------------------

MseLoss::MseLoss(engine::Context& ctx)
    : partial_(ctx, {"nn/mse_forward.comp", 3, 4 * 4, {k_loss_wg, k_loss_items}}),
      finalize_(ctx, {"nn/mse_forward_finalize.comp", 2, 4 * 4, {k_loss_wg}}),
      bwd_(ctx, {"nn/mse_backward.comp", 3, 4 * 4}) {}

uint32_t MseLoss::scratch_count(uint64_t count) { return groups_for(count, k_loss_wg * k_loss_items); }

void MseLoss::forward(CommandBuffer& cmd, uint64_t count, View pred, View target, View scratch, View loss) {
    check_dim("mse.forward", "count", count);
    check_view("mse.forward: pred", pred, count);
    check_view("mse.forward: target", target, count);
    const uint32_t groups = scratch_count(count);
    check_view("mse.forward: scratch", scratch, groups);
    check_view("mse.forward: loss", loss, 1);
    struct { uint32_t count, pred_off, target_off, partial_off; } p1{u32(count, "mse"), pred.offset, target.offset,
                                                                    scratch.offset};
    partial_.dispatch(cmd, {pred.buffer, target.buffer, scratch.buffer}, p1, groups);
    cmd.barrier();  // RAW: the sum reads the partials just written
    struct { uint32_t groups, count, partial_off, loss_off; } p2{groups, uint32_t(count), scratch.offset, loss.offset};
    finalize_.dispatch(cmd, {scratch.buffer, loss.buffer}, p2, 1);
}

void MseLoss::backward(CommandBuffer& cmd, uint64_t count, View pred, View target, View dpred) {
    check_dim("mse.backward", "count", count);
    check_view("mse.backward: pred", pred, count);
    check_view("mse.backward: target", target, count);
    check_view("mse.backward: dpred", dpred, count);
    struct { uint32_t count, pred_off, target_off, dpred_off; } push{u32(count, "mse"), pred.offset, target.offset,
                                                                     dpred.offset};
    bwd_.dispatch(cmd, {pred.buffer, target.buffer, dpred.buffer}, push, groups_for(count, 256));
}

// ---- softmax cross-entropy ---------------------------------------------------------------------------

SoftmaxXent::SoftmaxXent(engine::Context& ctx)
    : fwd_(ctx, {"nn/softmax_xent_forward.comp", 4, 6 * 4}), bwd_(ctx, {"nn/softmax_xent_backward.comp", 3, 6 * 4}) {}

void SoftmaxXent::forward(CommandBuffer& cmd, uint32_t n, uint32_t k, View z, View label, View p, View loss) {
    check_dim("softmax_xent.forward", "N", n);
    check_dim("softmax_xent.forward", "K", k);
    check_view("softmax_xent.forward: z", z, uint64_t(n) * k);
    check_view("softmax_xent.forward: label", label, n);
    check_view("softmax_xent.forward: p", p, uint64_t(n) * k);
    check_view("softmax_xent.forward: loss", loss, n);
    struct { uint32_t N, K, z_off, label_off, p_off, loss_off; } push{n, k, z.offset, label.offset, p.offset, loss.offset};
    fwd_.dispatch(cmd, {z.buffer, label.buffer, p.buffer, loss.buffer}, push, groups_for(n, 64));
}

void SoftmaxXent::backward(CommandBuffer& cmd, uint32_t n, uint32_t k, View p, View label, View dz, float scale) {
    check_dim("softmax_xent.backward", "N", n);
    check_dim("softmax_xent.backward", "K", k);
    check_view("softmax_xent.backward: p", p, uint64_t(n) * k);
    check_view("softmax_xent.backward: label", label, n);
    check_view("softmax_xent.backward: dz", dz, uint64_t(n) * k);
    struct { uint32_t N, K, p_off, label_off, dz_off; float scale; } push{n, k, p.offset, label.offset, dz.offset, scale};
    bwd_.dispatch(cmd, {p.buffer, label.buffer, dz.buffer}, push, groups_for(uint64_t(n) * k, 64));
}

}  // namespace diffuscope::nn
