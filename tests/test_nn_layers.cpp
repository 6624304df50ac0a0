// The layer table: every UNet layer's shaders, forward and backward, against the double-precision reference
// (tests/reference/) on random inputs at odd sizes — batch 1, 3, 17; channels 3, 5, 12, 33; spatial 28, 14,
// 7 and 9 — and the reference's backward against central finite differences, so a wrong derivation cannot
// hide behind a shader that matches it. One row = {op, shape, seed, forward tol, backward tol}.
//
// Errors are nncheck::max_rel_err: |got − ref| / (|ref| + 1e-3·max|ref|), worst element (NaN → ∞), except
// "sinusoidal" (largest absolute error; its values are bounded by 1). The backward error is the worst over
// every gradient tensor, written once and then accumulated once (checked against 2× the reference). The
// finite-difference error of the reference must stay under 1e-6 for layers linear in their inputs and 1e-5
// for the rest (GroupNorm, SiLU). Each runner packs its tensors at odd offsets in one NaN-poisoned buffer
// and fails when a guard between them was written. The test runs on a validated context (test::GpuTest).
//
// Tolerances, per op. The error of a float32 sum of k terms near a zero crossing, measured against a floor
// of 1e-3·max|ref|, reaches ~k·6e-8·|term|/floor, so the bounds grow with the reduction length:
//   conv (Cin·K² ≤ 300 terms forward, N·OH·OW ≤ 2400 for dw): 5e-4     linear (≤ 128 terms): 2e-4
//   GroupNorm (statistics over ≤ 3136 values), also fused with SiLU: 3e-4 SiLU (exp): 2e-5
//   bias_add dv, label_embed dtable, upsample dx (sums): 1e-4–2e-4      MSE (a sum, then a quotient): 1e-5
//   copies (concat, label_embed forward, upsample forward, add's backward): 0 — they are exact
//   sinusoidal: 6e-4 absolute (≈ 10 ulp of its largest argument, 1000)
#include "tests/nn_table.hpp"

#include <cstdio>

using namespace nntable;

namespace {

nn::ConvTiles tiles_for(std::string op, const engine::Context& ctx) {
    nn::ConvTiles t = nn::ConvTiles::for_device(ctx);
    // "…_split": dW's pixel sum split along z and reduced (what GPUs do), forced on even for these small layers.
    if (op.size() > 6 && op.ends_with("_split")) {
        op.resize(op.size() - 6);
        t.dw_split_groups = 64;
    }
    if (op == "conv_plain") {  // no subgroup broadcasts, small tiles
        t.subgroup = false;
        t.wt4 = false;
        t.tn = 2;
        t.tmb = 1;
    } else if (op == "conv_wide") {  // rows ≥ 14 wide in tiles of 16 pixels (with the CPU drivers' tn_row, 14-wide
                                      // rows whole)
        t.tn_wide = 16;
        t.wg = 8;  // so that these small batches still get ≥ 2 workgroups of pixels with tn_wide (see pixels_for)
    } else if (op == "conv_tiled") {  // narrow rows in whole tiles of tn_wide or tn, dead pixels and all (GPUs)
        t.tn_row = false;
        t.tn_wide = 16;
        t.wg = 8;
    } else if (op == "conv_odd") {  // tiles that divide nothing
        t.wg = 32;
        t.tms = std::min(5u, ctx.info().subgroup_size);
        t.tmb = 3;
        t.tn = 6;
        t.wg_weight = 40;
        t.tco = 3;
        t.tn_weight = 3;
        t.cpl1 = 2;
        t.cpl3 = 3;
        t.dw_px = false;  // the channel-lane dW with odd tiles on every device (CPU drivers' default takes dw_px)
    } else if (op == "conv_bcast") {  // weights shared by subgroupBroadcast (what GPUs run)
        t.wt4 = false;
    } else if (op == "conv_wt4_nosub") {  // the CPU path on a device without subgroup operations
        t.wt4 = true;
        t.dw_px = false;  // (it needs subgroup arithmetic)
        t.subgroup = false;
        t.wg_weight = 16;
    } else if (op.starts_with("conv_x4")) {  // input rows (x, dy) as RGBA32F texels (CPU drivers)
        t.wt4 = true;
        t.x4 = true;
        t.dw_px = true;  // dW with pixels across lanes, rows as texels too
        if (op == "conv_x4_wide") t.tn_wide = 16, t.wg = 8, t.tn_row = false;  // rows of 28 in tiles of 16
        if (op == "conv_x4_row28") {  // rows up to 32 wide whole, 8 channels where 16 × TN would pass 256
            t.tn_wide = 32;
            t.tn_row = true;
            t.acc_budget = 256;
            t.wg = 8;
        }
    } else if (op == "conv_wt4") {  // weights pre-transposed, dW's dy channel-last, shared as RGBA32F texels
                                     // (what CPU drivers run)
        t.wt4 = true;
        t.dw_px = false;  // dW's channel-last dy path (conv_x4 and the CPU's default rows take dw_px)
        t.tms = std::min(2u, ctx.info().subgroup_size);  // dW's block; forward and dX: 3·2 → blocks of 8
        t.tmb = 3;
        t.tn = 6;
        t.tco = 8;  // dW: channel-last dy padded to multiples of 8
        t.tn_weight = 3;
    }
    return t;
}

Errors run_row(engine::Context& ctx, const Row& r) {
    if (r.op.rfind("conv", 0) == 0) return run_conv(ctx, r, tiles_for(r.op, ctx));
    if (r.op == "linear") return run_linear(ctx, r);
    if (r.op.rfind("groupnorm", 0) == 0) return run_groupnorm(ctx, r);
    if (r.op == "silu") return run_silu(ctx, r);
    if (r.op == "upsample2") return run_upsample(ctx, r);
    if (r.op.starts_with("concat")) return run_concat(ctx, r);
    if (r.op.starts_with("bias_add")) return run_bias_add(ctx, r);
    if (r.op.starts_with("add")) return run_add(ctx, r);
    if (r.op == "sinusoidal") return run_sinusoidal(ctx, r);
    if (r.op == "label_embed") return run_label_embed(ctx, r);
    if (r.op == "mse") return run_mse(ctx, r);
    if (r.op == "xent") return run_xent(ctx, r);
    throw std::runtime_error("no runner for op " + r.op);
}

// clang-format off
const Row k_table[] = {
    // conv2d {N, Cin, H, W, Cout, K, stride, bias}
    {"conv", {1, 3, 9, 9, 5, 3, 1, 1}, 1, 5e-4, 5e-4},
    {"conv", {3, 5, 7, 7, 12, 3, 1, 1}, 2, 5e-4, 5e-4},
    {"conv", {17, 3, 9, 9, 5, 3, 1, 0}, 3, 5e-4, 5e-4},
    {"conv", {3, 5, 9, 9, 12, 3, 2, 1}, 4, 5e-4, 5e-4},
    {"conv", {2, 12, 14, 14, 5, 3, 2, 1}, 5, 5e-4, 5e-4},
    {"conv", {3, 12, 7, 7, 5, 1, 1, 1}, 6, 5e-4, 5e-4},
    {"conv", {1, 5, 9, 9, 3, 1, 2, 1}, 7, 5e-4, 5e-4},
    {"conv", {2, 1, 28, 28, 16, 3, 1, 1}, 8, 5e-4, 5e-4},
    {"conv", {2, 16, 28, 28, 1, 3, 1, 1}, 9, 5e-4, 5e-4},
    {"conv", {3, 33, 28, 28, 17, 3, 1, 1}, 10, 5e-4, 5e-4},
    {"conv_plain", {3, 5, 9, 9, 12, 3, 1, 1}, 11, 5e-4, 5e-4},
    {"conv_plain", {3, 5, 9, 9, 12, 3, 2, 0}, 12, 5e-4, 5e-4},
    {"conv_odd", {3, 12, 9, 9, 17, 3, 1, 1}, 13, 5e-4, 5e-4},
    {"conv_odd", {3, 12, 14, 14, 7, 3, 2, 1}, 14, 5e-4, 5e-4},
    {"conv_odd", {17, 7, 7, 7, 12, 1, 1, 1}, 15, 5e-4, 5e-4},
    {"conv_wide", {2, 5, 28, 28, 6, 3, 1, 1}, 16, 5e-4, 5e-4},
    {"conv_wide", {2, 12, 14, 14, 5, 3, 2, 1}, 17, 5e-4, 5e-4},
    {"conv_wide", {3, 7, 14, 14, 12, 1, 1, 0}, 18, 5e-4, 5e-4},
    // a 14-wide row as one invocation's 14 pixels (CPU drivers' tn_row), forward and dX; stride 2: dX's 14, the
    // forward's odd 7
    {"conv_wide", {3, 5, 14, 14, 6, 3, 1, 1}, 85, 5e-4, 5e-4},
    {"conv_wide", {3, 6, 14, 14, 5, 3, 2, 1}, 86, 5e-4, 5e-4},
    {"conv_x4_row28", {2, 6, 28, 28, 19, 3, 1, 1}, 89, 5e-4, 5e-4},
    {"conv_x4_row28", {3, 5, 28, 28, 7, 3, 2, 1}, 90, 5e-4, 5e-4},
    {"conv_x4_row28", {2, 13, 28, 28, 6, 1, 1, 0}, 91, 5e-4, 5e-4},
    {"conv_x4_row28", {2, 20, 28, 28, 18, 1, 1, 1}, 92, 5e-4, 5e-4},  // K = 1: 16 channels of 28 pixels, 2 blocks
    {"conv", {3, 40, 14, 14, 36, 1, 1, 1}, 93, 5e-4, 5e-4},            // K = 1 (CPU: 32 channels of 8), partial blocks
    {"conv_tiled", {3, 5, 7, 7, 12, 3, 1, 1}, 87, 5e-4, 5e-4},
    {"conv_tiled", {3, 6, 14, 14, 5, 3, 2, 1}, 88, 5e-4, 5e-4},
    {"conv_split", {17, 3, 9, 9, 5, 3, 1, 0}, 24, 5e-4, 5e-4},
    {"conv_split", {3, 33, 28, 28, 17, 3, 1, 1}, 25, 5e-4, 5e-4},
    {"conv_split", {5, 12, 14, 14, 7, 3, 2, 1}, 26, 5e-4, 5e-4},
    {"conv_split", {9, 12, 7, 7, 5, 1, 1, 1}, 27, 5e-4, 5e-4},
    {"conv_odd_split", {6, 12, 9, 9, 17, 3, 1, 1}, 28, 5e-4, 5e-4},
    {"conv_plain_split", {8, 5, 18, 18, 12, 3, 2, 1}, 29, 5e-4, 5e-4},  // big enough to split with GPU tiles too
    {"conv_bcast", {3, 5, 7, 7, 12, 3, 1, 1}, 70, 5e-4, 5e-4},
    {"conv_bcast", {2, 12, 14, 14, 5, 3, 2, 1}, 71, 5e-4, 5e-4},
    {"conv_bcast", {3, 33, 28, 28, 17, 3, 1, 1}, 72, 5e-4, 5e-4},
    {"conv_bcast", {2, 16, 28, 28, 1, 3, 1, 1}, 73, 5e-4, 5e-4},
    {"conv_wt4", {3, 12, 9, 9, 17, 3, 1, 1}, 74, 5e-4, 5e-4},
    {"conv_wt4", {3, 13, 14, 14, 7, 3, 2, 1}, 75, 5e-4, 5e-4},
    {"conv_wt4", {17, 7, 7, 7, 13, 1, 1, 1}, 76, 5e-4, 5e-4},
    {"conv_wt4", {2, 16, 28, 28, 1, 3, 1, 1}, 77, 5e-4, 5e-4},
    {"conv_wt4_nosub", {3, 12, 14, 14, 9, 3, 2, 1}, 78, 5e-4, 5e-4},
    // x4: widths a multiple of 4, rows ending inside a pixel group (12 = 8 + 4), stride 2 both ways, K = 1 with
    // channel counts that leave a partial step of 4 (13 in, 7 out), and 3 in / 2 out: the broadcast branches
    // (fewer than 4 channels) with texel rows.
    {"conv_x4", {3, 12, 12, 12, 17, 3, 1, 1}, 79, 5e-4, 5e-4},
    {"conv_x4", {3, 5, 16, 16, 12, 3, 2, 1}, 80, 5e-4, 5e-4},
    {"conv_x4", {5, 13, 8, 8, 7, 1, 1, 0}, 81, 5e-4, 5e-4},
    {"conv_x4", {3, 6, 8, 8, 5, 1, 2, 1}, 82, 5e-4, 5e-4},
    {"conv_x4", {2, 3, 12, 12, 2, 3, 1, 1}, 84, 5e-4, 5e-4},
    {"conv_x4_wide", {2, 6, 28, 28, 9, 3, 1, 1}, 83, 5e-4, 5e-4},
    // linear {N, In, Out}
    {"linear", {1, 7, 5}, 20, 2e-4, 2e-4},
    {"linear", {3, 64, 33}, 21, 2e-4, 2e-4},
    {"linear", {17, 13, 128}, 22, 2e-4, 2e-4},
    {"linear", {128, 32, 128}, 23, 2e-4, 2e-4},
    // GroupNorm {N, C, H, W, G}
    {"groupnorm", {1, 12, 9, 9, 4}, 30, 3e-4, 3e-4},
    {"groupnorm", {3, 5, 7, 7, 5}, 31, 3e-4, 3e-4},
    {"groupnorm", {17, 12, 7, 7, 3}, 32, 3e-4, 3e-4},
    {"groupnorm", {2, 32, 28, 28, 8}, 33, 3e-4, 3e-4},
    {"groupnorm", {3, 6, 14, 14, 1}, 34, 3e-4, 3e-4},
    {"groupnorm", {3, 12, 7, 7, 1}, 36, 3e-4, 3e-4},  // 12 channels in one group
    {"groupnorm_offset", {3, 12, 9, 9, 4}, 35, 3e-4, 3e-4},
    // GroupNorm with the fused SiLU (forward_silu, backward_silu) checked too; the same tolerance
    {"groupnorm_silu", {3, 5, 7, 7, 5}, 37, 3e-4, 3e-4},
    {"groupnorm_silu", {17, 12, 9, 9, 3}, 38, 3e-4, 3e-4},
    {"groupnorm_silu", {3, 20, 14, 14, 4}, 39, 3e-4, 3e-4},
    // … and 4 values per access (tensors at multiples of 4 floats), with and without the SiLU
    {"groupnorm_vec4", {3, 6, 14, 14, 2}, 80, 3e-4, 3e-4},
    {"groupnorm_vec4", {2, 16, 28, 28, 4}, 84, 3e-4, 3e-4},
    {"groupnorm_silu_vec4", {17, 12, 2, 2, 3}, 82, 3e-4, 3e-4},
    {"groupnorm_silu_vec4", {3, 20, 6, 6, 4}, 83, 3e-4, 3e-4},
    // … over whole groups where H·W is not a multiple of 4 (7×7) but Cg·H·W is: texels straddling two channels
    {"groupnorm_flat", {3, 8, 7, 7, 2}, 96, 3e-4, 3e-4},
    {"groupnorm_silu_flat", {3, 12, 5, 5, 3}, 97, 3e-4, 3e-4},
    {"groupnorm_silu_flat", {2, 16, 7, 7, 2}, 98, 3e-4, 3e-4},
    // (seed 100: with 99 the double reference's own finite-difference check read 1.7e-5 against its 1e-5)
    {"groupnorm_silu_flat_chan", {3, 8, 7, 7, 2}, 100, 3e-4, 3e-4},
    {"groupnorm_chan", {3, 12, 7, 7, 3}, 94, 3e-4, 3e-4},  // the per-channel reductions (GPUs) on every device
    {"groupnorm_silu_vec4_chan", {2, 16, 6, 6, 4}, 95, 3e-4, 3e-4},
    // elementwise, data movement {N, C, H, W} (concat {N, Ca, Cb, H, W})
    {"silu", {3, 5, 9, 9}, 40, 2e-5, 2e-5},
    {"silu", {17, 3, 7, 7}, 41, 2e-5, 2e-5},
    {"upsample2", {3, 5, 7, 7}, 42, 0, 1e-4},
    {"upsample2", {1, 12, 14, 14}, 43, 0, 1e-4},
    {"concat", {3, 5, 12, 7, 7}, 44, 0, 0},
    {"concat", {17, 3, 5, 9, 9}, 45, 0, 0},
    {"concat_vec4", {3, 4, 12, 7, 7}, 85, 0, 0},   // Ca·HW = 196, Cb·HW = 588
    {"concat_vec4", {5, 3, 2, 2, 2}, 86, 0, 0},    // 12 and 8
    {"concat_vec4", {2, 16, 8, 28, 28}, 87, 0, 0},
    {"concat_up", {3, 5, 7, 6, 10}, 96, 0, 1e-4},    // a 3×5 → 6×10 (da: sums of 4, as upsample2)
    {"concat_up", {2, 3, 4, 14, 14}, 97, 0, 1e-4},   // 7×7 → 14×14: rows not a multiple of 4
    {"concat_up_vec4", {3, 4, 2, 14, 14}, 98, 0, 1e-4}, // the UNet's 7 → 14, texels spanning rows
    {"concat_up_vec4", {2, 8, 4, 28, 28}, 99, 0, 1e-4}, // and 14 → 28
    {"bias_add", {3, 5, 9, 9}, 46, 1e-6, 2e-4},
    {"bias_add", {17, 12, 7, 7}, 47, 1e-6, 2e-4},
    {"bias_add", {1, 3, 28, 28}, 48, 1e-6, 2e-4},
    {"bias_add_vec4", {3, 5, 6, 6}, 88, 1e-6, 2e-4},
    {"bias_add_vec4", {2, 7, 14, 14}, 89, 1e-6, 2e-4},
    {"bias_add_wg", {17, 12, 7, 7}, 92, 1e-6, 2e-4},
    {"bias_add_vec4_wg", {2, 7, 14, 14}, 93, 1e-6, 2e-4},
    {"add", {3, 5, 9, 9}, 49, 1e-6, 0},
    {"add_vec4", {3, 5, 2, 2}, 90, 1e-6, 0},
    {"add_vec4", {2, 3, 14, 14}, 91, 1e-6, 0},
    // conditioning: sinusoidal {N, D, scale·100} (abs error), label embedding {N, D}
    {"sinusoidal", {1, 4, 100}, 50, 6e-4, 0},
    {"sinusoidal", {17, 64, 100}, 51, 6e-4, 0},
    {"sinusoidal", {128, 32, 25}, 52, 6e-4, 0},
    {"label_embed", {1, 8}, 53, 0, 1e-4},
    {"label_embed", {17, 12}, 54, 0, 1e-4},
    {"label_embed", {128, 64}, 55, 0, 1e-4},
    // loss {N, C, H, W}
    {"mse", {1, 1, 28, 28}, 60, 1e-5, 1e-6},
    {"mse", {17, 1, 28, 28}, 61, 1e-5, 1e-6},
    {"mse", {3, 5, 9, 9}, 62, 1e-5, 1e-6},
    // softmax cross-entropy {N, K}
    {"xent", {1, 10}, 63, 2e-5, 2e-5},
    {"xent", {17, 10}, 64, 2e-5, 2e-5},
    {"xent", {3, 7}, 65, 2e-5, 2e-5},
    {"xent", {130, 11}, 66, 2e-5, 2e-5},
};
// clang-format on

class NnLayers : public test::GpuTest, public ::testing::WithParamInterface<Row> {};

TEST_P(NnLayers, ShaderMatchesReferenceAndReferenceMatchesFiniteDifferences) {
    const Row& r = GetParam();
    Errors e = run_row(ctx, r);
    std::printf("[nn] %-16s %-22s seed %-3llu fwd %.2e  bwd %.2e  fd %.2e\n", r.op.c_str(), shape_str(r.shape).c_str(),
                (unsigned long long)r.seed, e.fwd, e.bwd, e.fd);
    EXPECT_LE(e.fwd, r.fwd_tol) << "forward";
    EXPECT_LE(e.bwd, r.bwd_tol) << "backward (written, then accumulated)";
    EXPECT_LE(e.fd, e.fd_tol) << "the reference backward disagrees with finite differences";
    EXPECT_TRUE(e.guards) << "a kernel wrote outside its output tensors";
}

INSTANTIATE_TEST_SUITE_P(Table, NnLayers, ::testing::ValuesIn(k_table), [](const auto& info) {
    std::string s = info.param.op + "_" + shape_str(info.param.shape) + "_s" + std::to_string(info.param.seed);
    return s;
});

}  // namespace

namespace {

// Which pixels per invocation a conv takes (no device needed): the table's conv_wide / conv_tiled rows check the
// shaders at the widths this picks.
TEST(ConvTiles, NarrowRowsAreOneInvocationsWholeRow) {
    nn::ConvTiles t;  // tn 8, wg 64
    t.tn_wide = 16;
    t.tn_row = true;
    EXPECT_EQ(t.pixels_for(64 * 7, 7, false), 7u);     // 7 wide: 7, not 8 with one dead
    EXPECT_EQ(t.pixels_for(64 * 7, 7, true), 8u);      // stride-2 dX needs an even count
    EXPECT_EQ(t.pixels_for(64 * 14, 14, false), 14u);  // 14 wide: 14, not 16
    EXPECT_EQ(t.pixels_for(64 * 14, 14, true), 14u);
    EXPECT_EQ(t.pixels_for(64 * 28, 28, false), 16u);  // wider than a tile: tiles of tn_wide
    EXPECT_EQ(t.pixels_for(14, 14, false), 8u);        // batch 1: tiles of tn keep ≥ 2 workgroups
    EXPECT_EQ(t.pixels_for(16 * 14, 14, false), 14u);  // batch 16 (sampling's): 224 invocations, 3.5 workgroups
    EXPECT_EQ(t.pixels_for(1, 5, false), 5u);
    EXPECT_EQ(t.blocks_at(28, 3), 2u);  // no budget: tmb
    t.tn_wide = 32;
    t.tms = 8;
    t.acc_budget = 256;
    EXPECT_EQ(t.pixels_for(64 * 28, 28, false), 28u);  // 28 wide: one invocation's whole row …
    EXPECT_EQ(t.blocks_at(28, 3), 1u);                     // … in 8 channels (16 × 28 > 256)
    EXPECT_EQ(t.blocks_at(14, 3), 2u);
    EXPECT_EQ(t.blocks_at(7, 3), 2u);  // at most tmb
    t.k1_scale = 2;
    EXPECT_EQ(t.blocks_at(28, 1), 2u);  // K = 1: twice the budget and tmb
    EXPECT_EQ(t.blocks_at(14, 1), 4u);
    EXPECT_EQ(t.blocks_at(28, 3), 1u);
    EXPECT_EQ(t.pixels_for(64 * 56, 56, false), 32u);
    EXPECT_EQ(t.pixels_for(4 * 28, 28, false), 8u);  // batch 4: 28-wide rows whole would be 1.75 workgroups
    t.tn_row = false;
    t.tn_wide = 16;
    EXPECT_EQ(t.pixels_for(64 * 7, 7, false), 8u);
    EXPECT_EQ(t.pixels_for(64 * 14, 14, false), 16u);
    EXPECT_EQ(t.pixels_for(64 * 28, 28, false), 16u);
}

}  // namespace
