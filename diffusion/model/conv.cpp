// diffusion/model/conv.cpp — recording conv2d (shaders/nn/conv2d_*.comp); the linear layer is in linear.cpp.
#include "diffusion/model/layers.hpp"

#include <algorithm>
#include <stdexcept>
#include <thread>

namespace diffuscope::nn {

using engine::CommandBuffer;
using engine::groups_for;

// The push constants of both dW kernels (conv2d_backward_weight.comp, conv2d_backward_weight_px.comp).
struct Conv2d::DwPush {
    uint32_t N, Cin, H, W, Cout, OH, OW, x_off, dy_off, dw_off, db_off, has_bias, accumulate;
    uint32_t split_stride;  // floats between partial tiles (0: not split)
    uint32_t dt_stride;     // conv2d_backward_weight.comp with DT4: texels per pixel of the channel-last dy
};

ConvTiles ConvTiles::for_device(const engine::Context& ctx) {
    ConvTiles t;
    const auto& info = ctx.info();
    t.subgroup = info.subgroup_ballot && info.subgroup_size >= 2;
    t.tms = t.subgroup ? std::min(8u, info.subgroup_size) : 8u;
    // dW on a CPU driver: one-subgroup workgroups, so the tile needs no shared-memory reduction between subgroups
    // and no barrier. A GPU keeps 32-invocation workgroups (a multiple of tms either way).
    // On llvmpipe (NnPerf.ConvGflops, NN_PERF_SHAPES=unet) this is ~25 % less dW time than 32-invocation groups.
    if (info.type == VK_PHYSICAL_DEVICE_TYPE_CPU) {
        t.wg_weight = t.subgroup ? std::max(t.tms, info.subgroup_size) : t.tms;  // tms divides the subgroup size
        // dW takes the dw_px kernel below; these tiles serve its fallback (no subgroup arithmetic), with dy as
        // shared texels: 8 pixels a step and 2 input channels per lane at K = 3, so each shared dy texel feeds
        // 2·K² FMAs per lane.
        // On llvmpipe (NnPerf.ConvGflops) this is ~13 % less CPU time for that kernel than 4 pixels and 1 channel.
        t.tn_weight = 8;
        t.cpl3 = 2;
        // Split dW's pixel sum until there are ~4 workgroups per core: unsplit, a 16 → 16 layer is one or two
        // tiles, on one of the driver's threads. With dw_px, 8 to 32 workgroups per core time alike.
        // On llvmpipe (2 cores, 28² at batch 64, fallback tiles) split/unsplit: 8.5/11.4 ms 16 → 16, 7.9/11.1 conv_in.
        t.dw_split_groups = 4 * std::max(1u, std::thread::hardware_concurrency());
        // dW with the pixels across lanes (ConvTiles::dw_px).
        // On llvmpipe (the UNet's 15 conv shapes, batch 64) its dW takes 57–63 ms against 108 ms for channel lanes.
        t.dw_px = true;
        // Forward and dX: more pixels per invocation on rows ≥ 14 wide halves the weight reads per FMA (one
        // weight feeds TN FMAs); 7-wide rows keep 8 at most. On a GPU 16 × 16 accumulators would not fit the
        // register file. Small batches keep 8 (pixels_for).
        // On llvmpipe (NnPerf, wt4, rows cut into tiles) 16 pixels is the best of the tn/tmb sweep, within noise.
        // A row that fits the tile is one invocation's (ConvTiles::tn_row): 28-wide rows too, in 8 channels, not
        // 16 (acc_budget). 16 × 28 is no faster than 16 × 16, and 8 × 14 slower than 16 × 14 on the 14² shapes.
        // On llvmpipe (NnPerf.ConvGflops, 28² at batch 64, fwd + dX CPU ms) 8 × 28 takes 75–76, 16 × 16 tiles 82–84.
        t.tn_wide = 32;
        t.tn_row = true;
        t.acc_budget = 256;
        // K = 1 layers in twice the channels (up to 32 of 28-wide rows' pixels, 32 channels of 14).
        // On llvmpipe (NnPerf, the 1×1 shapes, batch 64, CPU ms) ×2 vs ×1: fwd 13.0–13.5 vs 13.9–14.1, dX 15.8–16.5 vs 18.0–20.2.
        t.k1_scale = 2;
        // Weights as shared RGBA32F texels instead of a broadcast per channel (ConvTiles::wt4).
        t.wt4 = true;
        t.x4 = true;
    } else {
        // dW on a GPU: unsplit, a 16 → 16 channel layer is 2 workgroups of 32 invocations, each summing 50,000
        // pixels at batch 64. Split the pixel sum until ~1024 workgroups.
        // On an NVIDIA H200 (diffuscope bench) the unsplit 16 → 16 dW takes 12.6 ms.
        t.dw_split_groups = 1024;
    }
    return t;
}

Conv2d::Conv2d(engine::Context& ctx) : Conv2d(ctx, ConvTiles::for_device(ctx)) {}
Conv2d::Conv2d(engine::Context& ctx, const ConvTiles& t)
    : ctx_(&ctx), tiles_(t), dw_reduce_(ctx, {"nn/conv2d_dw_reduce.comp", 3, 8 * 4}),
      weight_t_(ctx, {"nn/conv2d_weight_t.comp", 2, 6 * 4}), nhwc_(ctx, {"nn/conv2d_nhwc.comp", 2, 5 * 4}) {
    if (t.subgroup && (t.tms < 1 || t.tms > ctx.info().subgroup_size))
        throw std::invalid_argument("Conv2d: tms = " + std::to_string(t.tms) + " must be between 1 and the subgroup size " +
                                    std::to_string(ctx.info().subgroup_size));
    if (t.tn < 2 || t.tn % 2 || (t.tn_wide && (t.tn_wide < 2 || t.tn_wide % 2)) || t.tmb < 1 || t.wg < 1 || t.tco < 1 || t.tn_weight < 1 || t.cpl1 < 1 || t.cpl3 < 1 || t.k1_scale < 1 || t.wg_weight % t.tms)
        throw std::invalid_argument("Conv2d: tiles need tn (and tn_wide unless 0) even and ≥ 2, tmb, tco, tn_weight, cpl1, cpl3, k1_scale ≥ 1, wg_weight a multiple of tms");
    const uint64_t shared = uint64_t(t.wg_weight) * (t.tco * std::max(9u * t.cpl3, t.cpl1) + t.tco) * 4;
    if (shared > ctx.info().shared_memory_bytes)
        throw std::invalid_argument("Conv2d: the dW tile needs " + std::to_string(shared) + " bytes of shared memory, the device has " +
                                    std::to_string(ctx.info().shared_memory_bytes) + "; lower wg_weight or tco");
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

// Whether rows `width` wide of the tensor at `offset`, taken `step` values at a time, are whole RGBA32F texels (or
// vec4 stores): the x4/y4 paths (ConvTiles::x4, CPU drivers).
bool Conv2d::rows4(uint32_t width, uint32_t offset, uint32_t step) const {
    return tiles_.x4 && width % 4 == 0 && offset % 4 == 0 && step % 4 == 0;
}

Kernel& Conv2d::pick(int kind, const ConvShape& s, uint32_t tmb, uint32_t tms, uint32_t tn, bool wt4_path, bool x4_path,
                     bool y4_path, uint32_t par, bool skip_path) {
    const uint32_t wt4 = wt4_path ? 1u : 0u, x4 = x4_path ? 1u : 0u, y4 = y4_path ? 1u : 0u, skip = skip_path ? 1u : 0u;
    auto& k = kernels_[{uint32_t(kind), s.k, s.stride, tmb, tms, tn, wt4, x4, y4, par, skip}];
    if (!k) {
        if (kind == 3) {  // dW, pixels across lanes: tmb = TCO, tms = TCI, wt4 = dy as texels (D4)
            engine::PipelineDesc d{"nn/conv2d_backward_weight_px.comp", 4u, uint32_t(sizeof(DwPush)), {}};
            d.rgba32f_bindings = x4 | wt4 << 1;
            d.spec = {std::max(ctx_->info().subgroup_size, 1u), tmb, tn, s.k, s.stride, tms, x4, wt4};
            k = std::make_unique<Kernel>(*ctx_, d);
            return *k;
        }
        static const char* const shader[3] = {"nn/conv2d_forward.comp", "nn/conv2d_backward_data.comp",
                                              "nn/conv2d_backward_weight.comp"};
        const uint32_t sub = tiles_.subgroup && !wt4 ? 1u : 0u;  // forward and dX
        engine::PipelineDesc d{shader[kind], kind == 0 ? 9u : kind == 1 ? 3u : 4u,
                               kind == 0 ? 20u * 4 : kind == 1 ? 12u * 4 : uint32_t(sizeof(DwPush)), {}};
        d.rgba32f_bindings = wt4 << 1 | x4;  // binding 1: the transposed weights (forward, dX) or channel-last dy (dW)
        if (kind == 0) d.rgba32f_bindings |= wt4 << 7 | x4 << 6;  // the skip's transposed weights and x2
        if (kind == 0)
            d.spec = {tiles_.wg, tmb, tn, s.k, s.stride, tms, sub, wt4, x4, y4, skip};
        else if (kind == 1)
            d.spec = {tiles_.wg, tmb, tn, s.k, s.stride, tms, sub, wt4, x4, y4, par};
        else  // tmb is the dW kernel's TCO here
            d.spec = {tiles_.wg_weight, tmb, tiles_.tn_weight, s.k, s.stride, tiles_.tms, tiles_.subgroup ? 1u : 0u,
                      s.k == 1 ? tiles_.cpl1 : tiles_.cpl3, wt4};
        k = std::make_unique<Kernel>(*ctx_, d);
    }
    return *k;
}

// Channels per block: fewer when the layer has fewer channels than one block (conv_out has one output
// channel: a block of 8 would compute 7 channels only to drop them). Any tms ≤ the subgroup size is valid.
static uint32_t block_size_for(uint32_t channels, const ConvTiles& t) { return std::min(t.tms, channels); }
uint32_t ConvTiles::pixels_for(uint64_t rows, uint32_t width, bool even) const {
    uint32_t px = tn;
    if (tn_wide && width >= 14 && rows * ((width + tn_wide - 1) / tn_wide) >= 2ull * wg) px = tn_wide;
    if (tn_row && width <= px && (!even || width % 2 == 0)) return width;
    return px;
}

uint32_t ConvTiles::blocks_at(uint32_t pixels, uint32_t k) const {
    const uint32_t scale = k == 1 ? k1_scale : 1u;
    if (!acc_budget) return tmb * scale;
    return std::clamp(scale * acc_budget / (tms * pixels), 1u, scale * tmb);
}
// Channel blocks per invocation: fewer when the layer has fewer channels.
static uint32_t blocks_for(uint32_t channels, const ConvTiles& t) {
    const uint32_t tms = block_size_for(channels, t);
    return std::min(t.tmb, (channels + tms - 1) / tms);
}
// Workgroups of the grid-stride rearranging passes (any tensor size fits the group-count limit).
constexpr uint32_t k_stride_groups = 4096;

// Whether the forward (dX) of a layer with `channels` output (input) channels takes the WT4 path: not below 4
// channels, where a texel would carry 3 dead channels.
// On llvmpipe conv_out (1 output channel) takes 6.7 ms on the WT4 path against 4.8 ms with broadcasts.
static bool wt4_for(uint32_t channels, const ConvTiles& t) { return t.wt4 && channels >= 4; }
// The WT4 path's channels per invocation: tmb·tms, no more than the layer's channels, both rounded up to 4 (one
// texel); the transposed weights' channel rows are padded to a multiple of it.
static uint32_t wt4_block(uint32_t channels, const ConvTiles& t) {
    const auto up4 = [](uint32_t v) { return (v + 3) / 4 * 4; };
    return std::min(up4(t.tmb * t.tms), up4(channels));
}

const engine::Buffer& Conv2d::channel_last_dy(CommandBuffer& cmd, const ConvShape& s, View dy, uint32_t pad) {
    const uint32_t hw = s.oh() * s.ow(), cpad = (s.cout + pad - 1) / pad * pad;
    const uint64_t floats = uint64_t(s.n) * hw * cpad;
    const engine::Buffer& t = scratch(dy, 3, floats);
    struct {
        uint32_t N, C, HW, Cpad, x_off;
    } push{s.n, s.cout, hw, cpad, dy.offset};
    cmd.barrier();  // WAR: an earlier pass reading this scratch → its rewrite
    nhwc_.dispatch(cmd, {dy.buffer, &t}, push, std::min(groups_for(floats, 64), k_stride_groups));
    cmd.barrier();  // RAW: the channel-last dy → dW
    return t;
}

const engine::Buffer& Conv2d::transposed_weights(CommandBuffer& cmd, const ConvShape& s, View w, bool dx, uint32_t pad) {
    const uint32_t a = dx ? s.cout : s.cin, b = dx ? s.cin : s.cout, kk = s.k * s.k;
    const uint32_t bpad = (b + pad - 1) / pad * pad;
    const uint64_t floats = uint64_t(a) * kk * bpad;
    const engine::Buffer& t = scratch(w, dx ? 2u : 1u, floats);
    struct {
        uint32_t A, B, Bpad, KK, w_off, dx;
    } push{a, b, bpad, kk, w.offset, dx ? 1u : 0u};
    cmd.barrier();  // WAR: an earlier pass reading this scratch → its rewrite
    weight_t_.dispatch(cmd, {w.buffer, &t}, push, std::min(groups_for(floats, 64), k_stride_groups));
    cmd.barrier();  // RAW: the transposed weights → the conv
    return t;
}

Conv2d::WeightTiles Conv2d::weight_tiles(CommandBuffer& cmd, const ConvShape& s, View w, bool dx, uint32_t tn) {
    const uint32_t channels = dx ? s.cin : s.cout;  // the channels an invocation's block spans
    ConvTiles t = tiles_;
    t.tmb = tiles_.blocks_at(tn, s.k);
    if (!wt4_for(channels, t))
        return {w.buffer, w.offset, 0, blocks_for(channels, t), block_size_for(channels, t), false};
    const uint32_t tm = wt4_block(channels, t);
    return {&transposed_weights(cmd, s, w, dx, tm), 0, groups_for(channels, tm) * tm / 4, tm / 4, 4, true};
}

void Conv2d::forward(CommandBuffer& cmd, const ConvShape& s, View x, View w, View b, View y, const ConvEpilogue& e) {
    check_conv("conv2d.forward", s);
    check_view("conv2d.forward: x", x, s.x_count());
    check_view("conv2d.forward: w", w, s.w_count());
    if (b) check_view("conv2d.forward: b", b, s.cout);
    check_view("conv2d.forward: y", y, s.y_count());
    // Invocations would read what others write: neither input of the epilogue may overlap y.
    auto disjoint = [&](const char* what, const View& v, uint64_t count) {
        check_view(what, v, count);
        const uint64_t v0 = v.offset, y0 = y.offset;
        if (v.buffer == y.buffer && v0 < y0 + s.y_count() && y0 < v0 + count)
            throw std::invalid_argument(std::string(what) + " overlaps y");
    };
    if (e.v) disjoint("conv2d.forward: v", e.v, uint64_t(s.n) * s.cout);
    if (e.residual) disjoint("conv2d.forward: residual", e.residual, s.y_count());
    const ConvShape ss{s.n, e.skip_cin, s.oh(), s.ow(), s.cout, 1, 1};  // the skip's 1×1
    if (e.skip_x) {
        if (!fuses_skip(s)) throw std::invalid_argument("conv2d.forward: a fused skip needs stride 1 on the WT4 path");
        check_dim("conv2d.forward", "skip channels", e.skip_cin);
        disjoint("conv2d.forward: skip x", e.skip_x, ss.x_count());
        check_view("conv2d.forward: skip w", e.skip_w, ss.w_count());
        check_view("conv2d.forward: skip b", e.skip_b, s.cout);
    }
    struct {
        uint32_t N, Cin, H, W, Cout, OH, OW, x_off, w_off, b_off, y_off, has_bias, wt_stride, v_off, r_off, epilogue;
        uint32_t Cin2, x2_off, w2_off, b2_off;
    } push{s.n,      s.cin,    s.h,          s.w,      s.cout, s.oh(), s.ow(), x.offset, w.offset, b ? b.offset : 0,
           y.offset, b ? 1u : 0u, 0u, e.v ? e.v.offset : 0, e.residual ? e.residual.offset : 0,
           (e.v ? 1u : 0u) | (e.residual ? 2u : 0u), e.skip_cin, e.skip_x ? e.skip_x.offset : 0, 0u,
           e.skip_b ? e.skip_b.offset : 0};
    const uint32_t tn = tiles_.pixels_for(uint64_t(s.n) * s.oh(), s.ow(), false);
    const uint64_t slots = uint64_t(s.n) * s.oh() * ((s.ow() + tn - 1) / tn);  // invocations
    const WeightTiles wt = weight_tiles(cmd, s, w, false, tn);
    push.w_off = wt.offset, push.wt_stride = wt.stride;
    const engine::Buffer* unused = x.buffer;  // bound to the epilogue's slots it does not read
    // x4: the invocations' first output pixels, `step` apart (one invocation per row: all at 0), and so their
    // first input pixels step·S apart, at multiples of 4; the skip's x2 rows (OW wide) as texels too
    const uint32_t step = tn >= s.ow() ? 0 : tn;
    const bool x4 = rows4(s.w, x.offset, step * s.stride) && (!e.skip_x || rows4(s.ow(), e.skip_x.offset, step));
    const bool y4 = rows4(s.ow(), y.offset, tn);
    x4_recorded_ += x4;
    y4_recorded_ += y4;
    const engine::Buffer* w2 = unused;
    // the skip's weights transposed as w's, padded to the same channel blocks: rows of the same wt_stride texels
    if (e.skip_x) w2 = &transposed_weights(cmd, ss, e.skip_w, false, wt.tmb * wt.tms);
    pick(0, s, wt.tmb, wt.tms, tn, wt.wt4, x4, y4, 0, bool(e.skip_x))
        .dispatch(cmd, {x.buffer, wt.buffer, b ? b.buffer : unused, y.buffer, e.v ? e.v.buffer : unused,
                        e.residual ? e.residual.buffer : unused, e.skip_x ? e.skip_x.buffer : unused, w2,
                        e.skip_b ? e.skip_b.buffer : unused},
                  push, groups_for(slots, tiles_.wg), groups_for(s.cout, wt.tmb * wt.tms));
}

void Conv2d::backward_data(CommandBuffer& cmd, const ConvShape& s, View dy, View w, View dx, bool accumulate) {
    check_conv("conv2d.backward_data", s);
    check_view("conv2d.backward_data: dy", dy, s.y_count());
    check_view("conv2d.backward_data: w", w, s.w_count());
    check_view("conv2d.backward_data: dx", dx, s.x_count());
    struct {
        uint32_t N, Cin, H, W, Cout, OH, OW, dy_off, w_off, dx_off, accumulate, wt_stride;
    } push{s.n, s.cin, s.h, s.w, s.cout, s.oh(), s.ow(), dy.offset, w.offset, dx.offset, accumulate ? 1u : 0u, 0u};
    const uint32_t tn = tiles_.pixels_for(uint64_t(s.n) * s.h, s.w, s.stride == 2);
    const WeightTiles wt = weight_tiles(cmd, s, w, true, tn);
    push.w_off = wt.offset, push.wt_stride = wt.stride;
    const bool x4 = tn % s.stride == 0 && rows4(s.ow(), dy.offset, tn / s.stride), y4 = rows4(s.w, dx.offset, tn);
    // Stride 2: one dispatch per row parity (the shader's PAR), each of which skips the taps that miss dy at
    // compile time. They write disjoint rows of dx; the barrier between them is for the validation layer, which
    // sees each binding as the whole buffer.
    for (uint32_t par = 0; par < s.stride; ++par) {
        const uint32_t rows = s.stride == 2 ? (s.h + 1 - par) / 2 : s.h;
        if (rows == 0) continue;  // H = 1: no odd rows
        if (par > 0) cmd.barrier();
        const uint64_t slots = uint64_t(s.n) * rows * ((s.w + tn - 1) / tn);  // invocations
        x4_recorded_ += x4;
        y4_recorded_ += y4;
        pick(1, s, wt.tmb, wt.tms, tn, wt.wt4, x4, y4, par)
            .dispatch(cmd, {dy.buffer, wt.buffer, dx.buffer}, push, groups_for(slots, tiles_.wg), groups_for(s.cin, wt.tmb * wt.tms));
    }
}

void Conv2d::backward_weight(CommandBuffer& cmd, const ConvShape& s, View x, View dy, View dw, View db, bool accumulate) {
    check_conv("conv2d.backward_weight", s);
    check_view("conv2d.backward_weight: x", x, s.x_count());
    check_view("conv2d.backward_weight: dy", dy, s.y_count());
    check_view("conv2d.backward_weight: dw", dw, s.w_count());
    if (db) check_view("conv2d.backward_weight: db", db, s.cout);
    DwPush push{s.n,      s.cin,     s.h,       s.w, s.cout, s.oh(), s.ow(), x.offset, dy.offset, dw.offset, db ? db.offset : 0,
                db ? 1u : 0u, accumulate ? 1u : 0u, 0u, 0u};
    if (px_path()) {
        backward_weight_px(cmd, s, x, dy, dw, db, push);
        return;
    }
    const uint32_t cin_per_group = tiles_.tms * (s.k == 1 ? tiles_.cpl1 : tiles_.cpl3);
    bool dt4 = false;
    const uint32_t tco = dw_tco(s, &dt4);
    const engine::Buffer* dybuf = dy.buffer;
    if (dt4) {
        dybuf = &channel_last_dy(cmd, s, dy, tco);
        push.dy_off = 0;
        push.dt_stride = groups_for(s.cout, tco) * tco / 4;
    }
    const uint32_t gx = groups_for(s.cin, cin_per_group), gy = groups_for(s.cout, tco);
    record_dw(cmd, pick(2, s, tco, 0, 0, dt4), s, x.buffer, dybuf, dw, db, push, gx, gy, dw_splits(s, uint64_t(gx) * gy));
}

void Conv2d::record_dw(CommandBuffer& cmd, Kernel& k, const ConvShape& s, const engine::Buffer* x, const engine::Buffer* dy,
                       View dw, View db, DwPush push, uint32_t gx, uint32_t gy, uint32_t splits) {
    if (splits == 1) {
        k.dispatch(cmd, {x, dy, dw.buffer, db ? db.buffer : dw.buffer}, push, gx, gy);
        return;
    }
    // Partial tiles [splits][nw + nb] in scratch (this dw's alone), then their sum in order into dw, db.
    const uint32_t nw = uint32_t(s.w_count()), stride = nw + s.cout;
    const engine::Buffer& part = scratch(dw, 0, uint64_t(splits) * stride);
    const bool accumulate = push.accumulate != 0;
    push.dw_off = 0;
    push.db_off = nw;
    push.accumulate = 0;
    push.split_stride = stride;
    k.dispatch(cmd, {x, dy, &part, &part}, push, gx, gy, splits);
    cmd.barrier();  // RAW: the partial tiles → their sum
    struct {
        uint32_t nw, nb, splits, stride, dw_off, db_off, has_bias, accumulate;
    } r{nw, s.cout, splits, stride, dw.offset, db ? db.offset : 0, db ? 1u : 0u, accumulate ? 1u : 0u};
    dw_reduce_.dispatch(cmd, {&part, dw.buffer, db ? db.buffer : dw.buffer}, r, groups_for(uint64_t(nw) + s.cout, 256));
}

uint32_t Conv2d::dw_tco(const ConvShape& s, bool* dt4) const {
    // The channel-last dy path needs whole texels: tco (no wider than Cout rounded to 4) a multiple of 4.
    const uint32_t tco4 = std::min(tiles_.tco, (s.cout + 3) / 4 * 4);
    *dt4 = wt4_for(s.cout, tiles_) && tco4 % 4 == 0;
    return *dt4 ? tco4 : std::min(tiles_.tco, s.cout);  // conv_out has one output channel, not 16
}

// The dw_px path's tile: TCO output × TCI input channels per workgroup, TN pixels a step.
// On llvmpipe (the UNet's 15 conv shapes, batch 64, dW GPU / CPU ms) 8 × 4 × TN 8 takes 57–63 / 113–118;
// TN 16 79–87 / 157–165; TCO 16 69 / 127; TCI 2 70–71 / 128–130.
// Layers with fewer channels than a tile take a narrower one (conv_out's one output channel, conv_in's one
// input): the tile's other channels would be clamped copies, computed and dropped.
// On llvmpipe (batch 64) a full tile spends 7/8 of conv_out's 2.9 ms dW and 3/4 of conv_in's 2.5 ms on copies.
constexpr uint32_t k_px_tco = 8, k_px_tn = 8;
// With tn_row a row narrower than a step is one step: 7 pixels, not 8 with one dead. 14-wide rows keep two
// steps of 8.
// On llvmpipe (NnPerf) 7-pixel steps cut the 7² layers' dW CPU time 8 %; steps of 14 or 16 take 10 % longer than two of 8.
static uint32_t px_tn(const ConvShape& s, const ConvTiles& t) { return t.tn_row && s.ow() < k_px_tn ? s.ow() : k_px_tn; }
static uint32_t px_tco(const ConvShape& s) { return std::min(k_px_tco, s.cout); }
static uint32_t px_tci(const ConvShape& s) { return std::min(s.k == 1 ? 16u : 4u, s.cin); }

bool Conv2d::fuses_skip(const ConvShape& s) const { return s.stride == 1 && wt4_for(s.cout, tiles_); }

bool Conv2d::px_path() const {
    const auto& info = ctx_->info();
    return tiles_.dw_px && tiles_.subgroup && info.subgroup_arithmetic && info.type == VK_PHYSICAL_DEVICE_TYPE_CPU;
}

uint32_t Conv2d::px_splits(const ConvShape& s) const {
    const uint64_t tiles = uint64_t(groups_for(s.cin, px_tci(s))) * groups_for(s.cout, px_tco(s));
    const uint64_t lanes = std::max(ctx_->info().subgroup_size, 1u);
    const uint32_t tn = px_tn(s, tiles_);
    const uint64_t pixel_groups = uint64_t(s.n) * s.oh() * ((s.ow() + tn - 1) / tn);
    const uint64_t want = tiles_.dw_split_groups ? (tiles_.dw_split_groups + tiles - 1) / tiles : 1;
    // at least one pixel group per lane in every split
    return uint32_t(std::clamp<uint64_t>(std::min(want, pixel_groups / lanes), 1, 256));
}

void Conv2d::backward_weight_px(CommandBuffer& cmd, const ConvShape& s, View x, View dy, View dw, View db, const DwPush& push) {
    const uint32_t tci = px_tci(s);
    const uint32_t tn = px_tn(s, tiles_);
    const bool x4 = rows4(s.w, x.offset, tn * s.stride), d4 = rows4(s.ow(), dy.offset, tn);
    x4_recorded_ += x4;
    const uint32_t tco = px_tco(s);
    record_dw(cmd, pick(3, s, tco, tci, tn, d4, x4), s, x.buffer, dy.buffer, dw, db, push, groups_for(s.cin, tci),
              groups_for(s.cout, tco), px_splits(s));
}

uint32_t Conv2d::weight_splits(const ConvShape& s) const {
    if (px_path()) return px_splits(s);
    bool dt4 = false;
    const uint32_t cin_per_group = tiles_.tms * (s.k == 1 ? tiles_.cpl1 : tiles_.cpl3);
    return dw_splits(s, uint64_t(groups_for(s.cin, cin_per_group)) * groups_for(s.cout, dw_tco(s, &dt4)));
}

uint32_t Conv2d::dw_splits(const ConvShape& s, uint64_t groups) const {
    if (!tiles_.dw_split_groups || groups >= tiles_.dw_split_groups) return 1;
    // Subgroups per workgroup (the shader's NSG), and at least 4 pixel groups for each in every split.
    const uint32_t lanes = tiles_.subgroup ? std::max(ctx_->info().subgroup_size, 1u) : tiles_.tms;
    const uint64_t nsg = std::max(1u, tiles_.wg_weight / lanes);
    const uint64_t pixel_groups = uint64_t(s.n) * s.oh() * ((s.ow() + tiles_.tn_weight - 1) / tiles_.tn_weight);
    const uint64_t want = (tiles_.dw_split_groups + groups - 1) / groups;
    return uint32_t(std::clamp<uint64_t>(std::min(want, pixel_groups / (4 * nsg)), 1, 256));
}

const engine::Buffer& Conv2d::scratch(const View& v, uint32_t use, uint64_t floats) {
    auto& slot = scratch_[{v.buffer->handle(), v.offset, use}];
    if (!slot || slot->size() < floats * 4) {
        if (slot) scratch_retired_.push_back(std::move(slot));
        slot = std::make_unique<engine::Buffer>(*ctx_, floats * 4);
    }
    return *slot;
}

}  // namespace diffuscope::nn
