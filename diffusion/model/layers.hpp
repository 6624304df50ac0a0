// diffusion/model/layers.hpp — the UNet's layers as GPU kernels with hand-derived gradients, recorded into
// command buffers. One struct per layer family; it owns the family's pipelines (compiled on first use) and
// records forward and backward passes given shapes and Views (see kernel.hpp). The math and the derivation
// of every backward open the shaders in shaders/nn/; the double-precision mirror is tests/reference/.
//
// Conventions
// - Tensors are float32, NCHW, contiguous from their View's offset. Parameter layouts are PyTorch's:
//   conv weight [Cout,Cin,K,K], linear weight [Out,In], GroupNorm γ/β [C], label table [rows,D].
// - Record once, replay many: nothing here reads the host at run time; per-step values live in buffers.
// - A record call puts no barrier before its first dispatch or after its last: the caller records
//   cmd.barrier() between dependent calls (naming the hazard). Calls that dispatch twice barrier inside;
//   Conv2d on CPU drivers also barriers before its rearranging pass (ConvTiles::wt4).
// - Backward calls *write* their gradients, or add to them when `accumulate` is set: a tensor read by two
//   layers (a skip, a residual input, the conditioning vector) gets the sum of both gradients that way.
// - Skips are explicit Concat copies (convs read one input); residuals are explicit Add.
// - Shapes and Views are checked: a zero dimension or a View running past its buffer throws
//   std::invalid_argument naming the layer and the tensor.
#pragma once
#include "diffusion/model/kernel.hpp"

#include <array>
#include <map>
#include <memory>
#include <tuple>

namespace diffuscope::nn {

// ---- conv2d ------------------------------------------------------------------------------------------
struct ConvShape {
    uint32_t n = 1, cin = 1, h = 1, w = 1, cout = 1;
    uint32_t k = 3, stride = 1;  // K ∈ {1,3}, stride ∈ {1,2}; padding K/2
    uint32_t pad() const { return k / 2; }
    uint32_t oh() const { return (h + 2 * pad() - k) / stride + 1; }
    uint32_t ow() const { return (w + 2 * pad() - k) / stride + 1; }
    uint64_t x_count() const { return uint64_t(n) * cin * h * w; }
    uint64_t y_count() const { return uint64_t(n) * cout * oh() * ow(); }
    uint64_t w_count() const { return uint64_t(cout) * cin * k * k; }
    // Multiply-adds ×2 of the forward (each backward pass — data, weight — costs the same).
    double flops() const { return 2.0 * double(y_count()) * cin * k * k; }
};

// Register tiles of the conv kernels; for_device picks them from the device type and subgroup size. The tiles
// maximise FMAs per value loaded or shared (forward and dX: 16 channels × 8–16 pixels per invocation; dW: 16
// output channels' dy shared by every lane). On llvmpipe a texel fetch costs ~0.7–0.9 ns, a subgroupBroadcast
// ~1 ns and an FMA ~0.07 ns (docs/PERFORMANCE.md). Each tile set is a separate pipeline.
struct ConvTiles {
    uint32_t wg = 64;             // invocations per workgroup (forward, backward data)
    uint32_t tms = 8;             // channels per subgroupBroadcast block (≤ subgroup size)
    uint32_t tmb = 2;             // blocks per invocation: an invocation owns tmb·tms channels
    uint32_t tn = 8;              // consecutive pixels of a row per invocation (even: stride-2 dX needs it)
    uint32_t tn_wide = 0;         // the same for rows ≥ 14 wide (0: tn); 32 on CPU drivers (conv.cpp)
    // A row no wider than the tile (tn, or tn_wide where that applies) is one invocation's whole row: TN = its
    // width, odd too except in stride-2 dX. In tiles of 16 a 14-wide row computes 2 dead pixels, in tiles of 8 a
    // 7-wide one 1: an eighth of the UNet's 14² and 7² convs. On for CPU drivers.
    bool tn_row = false;
    // Forward and dX: at most this many accumulators (TM·TN) per invocation, fewer channel blocks where a tile is
    // wider (0: no limit). They live in memory on a CPU; 28-wide rows whole (TN 28) run ~8 % faster with
    // 8 channels than with 16 (llvmpipe, conv.cpp). 256 on CPU drivers.
    uint32_t acc_budget = 0;
    // K = 1 convs take this many times tmb and acc_budget: their steps give each accumulator 4 FMAs, not 9, so
    // each x row they load should feed more channels. 2 on CPU drivers (conv.cpp).
    uint32_t k1_scale = 1;
    bool subgroup = true;         // false: no broadcasts, each invocation loads its weights itself
    uint32_t wg_weight = 32;      // invocations per workgroup of the dW kernel (shared memory: wg·(cpl·tco·K²+tco) floats)
    uint32_t tco = 16;            // dW tile: output channels per workgroup (the dy values shared per step)
    uint32_t tn_weight = 8;       // dW: consecutive pixels of a row per step
    uint32_t cpl1 = 8;            // dW: input channels per lane for K = 1
    uint32_t cpl3 = 1;            // dW: the same for K = 3
    uint32_t dw_split_groups = 0; // dW: split the pixel sum along z until ~this many workgroups (0: never; GPUs)
    // Forward and dX read the weights pre-transposed (nn/conv2d_weight_t.comp, one small pass before each) as
    // RGBA32F texels that every lane shares: 4 channels a fetch instead of a broadcast per channel. Blocks are
    // tmb·tms channels rounded to 4; layers with fewer than 4 channels keep the broadcasts. dW likewise reads dy
    // rewritten channel-last (nn/conv2d_nhwc.comp, a pass over dy) when Cout ≥ 4 and its tco is a multiple of 4.
    // The rearranged copies live in per-tensor scratch (Conv2d::scratch): in training about one more copy of
    // every conv's dy. On for CPU drivers.
    bool wt4 = false;
    // Forward, dX and the dw_px dW read their input rows (x, dy) as RGBA32F texels, 4 values a fetch, where the
    // row width, the tensor's offset and the pixels per step are multiples of 4 (the UNet's 28-wide layers). On
    // for CPU drivers, where a fetch costs about the same at any width.
    bool x4 = false;
    // dW with the pixels split across lanes, every lane owning the workgroup's whole tile
    // (nn/conv2d_backward_weight_px.comp). Taken on CPU drivers only, with subgroup arithmetic: the kernel
    // assumes its workgroup (subgroup-size invocations) is one subgroup, which a GPU need not honour.
    bool dw_px = false;
    static ConvTiles for_device(const engine::Context&);
    // Pixels per invocation for `rows` rows `width` wide (`even`: stride-2 dX, whose taps need an even TN):
    // tn_wide on rows ≥ 14 wide unless that leaves fewer than 2 workgroups of pixels (at batch 1 a 28×28 layer
    // would run as one workgroup, on one core of a CPU driver), else tn; with tn_row the row's width when that is
    // no more. A bound of 4 workgroups would give sampling's batch 16 8 pixels on 14-wide rows, not 14.
    // On llvmpipe (NnPerf, the 14² forwards at batch 16) 14 pixels are 10 % faster than 8.
    uint32_t pixels_for(uint64_t rows, uint32_t width, bool even) const;
    // Channel blocks per invocation at TN = tn for a K × K conv: tmb, fewer where tmb·tms·tn would pass
    // acc_budget (at least 1); both × k1_scale at K = 1.
    uint32_t blocks_at(uint32_t tn, uint32_t k) const;
};

// What the conv forward adds to its output in the same pass (fused epilogues): a per-sample channel
// vector v [N,Cout] (the UNet's conditioning) and a residual r of y's shape. View{}: not added.
struct ConvEpilogue {
    View v, residual;
    // The residual block's skip path, y += skip_w · skip_x + skip_b (a 1×1 conv, skip_w [Cout,skip_cin,1,1],
    // skip_x [N,skip_cin,OH,OW], skip_b [Cout]) accumulated into the conv's own tile: its output is never written
    // and read back. Stride 1 on the WT4 path only (Conv2d::fuses_skip); with skip_x View{}: none.
    View skip_x, skip_w, skip_b;
    uint32_t skip_cin = 0;
};

class Conv2d {
public:
    explicit Conv2d(engine::Context&);
    Conv2d(engine::Context&, const ConvTiles&);
    // y = conv(x, w) + b (+ v[n,co]) (+ residual).   x [N,Cin,H,W], w [Cout,Cin,K,K], b [Cout] or View{} for
    // none, y [N,Cout,OH,OW]. Neither v nor the residual may overlap y (throws).
    void forward(engine::CommandBuffer&, const ConvShape&, View x, View w, View b, View y, const ConvEpilogue& = {});
    // dx (+)= the transposed convolution of dy by w.
    void backward_data(engine::CommandBuffer&, const ConvShape&, View dy, View w, View dx, bool accumulate = false);
    // dw (+)= Σ_{n,oy,ox} dy ⊗ im2col(x);  db (+)= Σ dy (db = View{}: no bias). Independent of
    // backward_data (both only read dy and w/x), so no barrier is needed between the two as long as dx lives
    // in another buffer than x, dw and db (bindings are whole buffers: sharing one looks like a hazard). (With
    // wt4 each still barriers around its own rearranging pass.)
    void backward_weight(engine::CommandBuffer&, const ConvShape&, View x, View dy, View dw, View db,
                         bool accumulate = false);
    const ConvTiles& tiles() const { return tiles_; }
    // How many passes recorded so far read x (forward, dW) or dy (dX) as texels (tests check that a row exercises it).
    uint32_t x4_recorded() const { return x4_recorded_; }
    // Forwards and dXs recorded so far that wrote y (dx) 4 values a store (CPU drivers, rows a multiple of 4 wide).
    uint32_t y4_recorded() const { return y4_recorded_; }
    // Whether backward_weight takes the dw_px kernel on this device with these tiles.
    bool px_path() const;
    // Whether forward can take ConvEpilogue's skip for this shape: stride 1, on the WT4 path (CPU drivers).
    bool fuses_skip(const ConvShape&) const;
    // How many ways backward_weight splits its pixel sum for this shape (1: not split; see dw_split_groups).
    uint32_t weight_splits(const ConvShape&) const;

private:
    // The pipeline of `kind` (0 forward, 1 backward data, 2 backward weight, 3 the dw_px backward weight) for (K,
    // stride, channel blocks, channels per block, pixels per invocation, the WT4 path or not); for kind 2, tmb is
    // the output channels per workgroup (TCO); for kind 3, tmb and tms are TCO and TCI, wt4 reads dy as texels.
    // x4: x (dX: dy) as RGBA32F texels (ConvTiles::x4).
    // skip: the forward's fused 1×1 (ConvEpilogue::skip_x).
    Kernel& pick(int kind, const ConvShape&, uint32_t tmb, uint32_t tms, uint32_t tn, bool wt4, bool x4 = false, bool y4 = false,
                 uint32_t par = 0, bool skip = false);
    uint32_t dw_splits(const ConvShape&, uint64_t groups) const;  // weight_splits for gx·gy workgroups
    bool rows4(uint32_t width, uint32_t offset, uint32_t step) const;  // conv.cpp
    struct DwPush;  // conv.cpp
    void backward_weight_px(engine::CommandBuffer&, const ConvShape&, View x, View dy, View dw, View db, const DwPush&);
    // Records dW kernel k over gx × gy workgroups; with splits > 1, its pixel sum split along z into partial tiles
    // in scratch, then their sum in order into dw, db (nn/conv2d_dw_reduce.comp).
    void record_dw(engine::CommandBuffer&, Kernel& k, const ConvShape&, const engine::Buffer* x, const engine::Buffer* dy,
                   View dw, View db, DwPush push, uint32_t gx, uint32_t gy, uint32_t splits);
    uint32_t px_splits(const ConvShape&) const;                    // weight_splits on that path
    uint32_t dw_tco(const ConvShape&, bool* dt4) const;  // dW's output channels per workgroup; *dt4: channel-last dy
    // Scratch of `floats` for the tensor at `v`, one buffer per (tensor, use) so two layers' passes recorded
    // without a barrier between them never share one: the split dW's partial tiles (use 0, v = dw) and the
    // transposed weights of the forward (1) and dX (2) (v = w), dW's channel-last dy (3, v = dy). Kept for the family's lifetime (a recorded
    // command buffer may be replayed); a larger need retires the old one rather than freeing it.
    const engine::Buffer& scratch(const View& v, uint32_t use, uint64_t floats);
    // The weights as the forward (dx = false) or dX kernel reads them, and its channel blocks: w itself with
    // the broadcast blocks, or on the WT4 path its transpose (recorded now) with blocks of whole texels.
    struct WeightTiles {
        const engine::Buffer* buffer;
        uint32_t offset, stride;  // the shader's w_off and wt_stride (texels with wt4)
        uint32_t tmb, tms;
        bool wt4;
    };
    WeightTiles weight_tiles(engine::CommandBuffer&, const ConvShape&, View w, bool dx, uint32_t tn);
    // Records w's transpose for the WT4 path of the forward (dx = false) or dX, channel rows padded to `pad`,
    // between barriers (an earlier pass may still read the scratch; the conv reads what this writes).
    const engine::Buffer& transposed_weights(engine::CommandBuffer&, const ConvShape&, View w, bool dx, uint32_t pad);
    // Records dy [N,Cout,OH,OW] rewritten as [N,OH,OW,Cpad] (Cpad: Cout rounded up to `pad`) for dW's WT4 path,
    // between barriers as above.
    const engine::Buffer& channel_last_dy(engine::CommandBuffer&, const ConvShape&, View dy, uint32_t pad);
    engine::Context* ctx_;
    ConvTiles tiles_;
    std::map<std::array<uint32_t, 11>, std::unique_ptr<Kernel>> kernels_;
    uint32_t x4_recorded_ = 0, y4_recorded_ = 0;
    Kernel dw_reduce_, weight_t_, nhwc_;
    // By VkBuffer handle, not Buffer::id(): a new tensor that gets a destroyed one's handle takes over its scratch
    // (always rewritten before it is read) instead of leaving it allocated for the family's lifetime.
    std::map<std::tuple<VkBuffer, uint32_t, uint32_t>, std::unique_ptr<engine::Buffer>> scratch_;
    std::vector<std::unique_ptr<engine::Buffer>> scratch_retired_;
};

// ---- linear ------------------------------------------------------------------------------------------
struct LinearShape {
    uint32_t n = 1, in = 1, out = 1;
};
class Linear {
public:
    explicit Linear(engine::Context&);
    // y = x·wᵀ + b.   x [N,In], w [Out,In], b [Out] or View{}, y [N,Out]
    void forward(engine::CommandBuffer&, const LinearShape&, View x, View w, View b, View y);
    // dx (+)= dy·w
    void backward_data(engine::CommandBuffer&, const LinearShape&, View dy, View w, View dx, bool accumulate = false);
    // dw (+)= dyᵀ·x, db (+)= Σ_n dy (db = View{}: none)
    void backward_weight(engine::CommandBuffer&, const LinearShape&, View x, View dy, View dw, View db,
                         bool accumulate = false);

private:
    Kernel fwd_, bwd_data_, bwd_weight_;
};

// ---- GroupNorm ---------------------------------------------------------------------------------------
struct GroupNormShape {
    uint32_t n = 1, c = 1, hw = 1, groups = 1;  // groups divides c
    float eps = 1e-5f;
    uint64_t count() const { return uint64_t(n) * c * hw; }
    uint64_t stats_count() const { return 2ull * n * groups; }  // (μ, 1/σ) per (n, group)
    // The backward's per-(n, c) sums, one pair per lane of a workgroup on CPU drivers (GroupNorm::lane_sums(); a
    // GPU uses the first pair of each slot, so the scratch is 16× what it needs there: ~0.2 MB at the UNet's size).
    uint64_t scratch_count() const { return 2ull * n * c * k_lane_slots; }
    // Room for the per-lane sums of workgroups up to this wide (llvmpipe's subgroup: 4, 8 or 16 lanes).
    static constexpr uint32_t k_lane_slots = 16;
};
class GroupNorm {
public:
    explicit GroupNorm(engine::Context&);
    // vec4: read and write 4 values per access when H·W and the tensors' offsets are multiples of 4 (the
    // default on CPU drivers, where an access costs about the same whatever its width; GPUs keep scalars).
    // lane_sums: the backward's per-lane channel sums where the device takes them (CPU drivers, layers.cpp:
    // gn_lanes); false: one subgroup reduction per channel, as on GPUs.
    GroupNorm(engine::Context&, bool vec4, bool lane_sums = true);
    // y = (x − μ)/σ·γ + β per (n, group); writes (μ, 1/σ) to `stats` for the backward.
    void forward(engine::CommandBuffer&, const GroupNormShape&, View x, View gamma, View beta, View y, View stats);
    // y = SiLU(GroupNorm(x)) in one pass (its backward is backward_silu).
    void forward_silu(engine::CommandBuffer&, const GroupNormShape&, View x, View gamma, View beta, View y, View stats);
    // dx (+)= …, dγ (+)= Σ dy·x̂, dβ (+)= Σ dy. Two dispatches with a barrier between them: the first writes
    // dx and, into `scratch` (scratch_count() floats), the per-(n, c) sums the second turns into dγ, dβ.
    void backward(engine::CommandBuffer&, const GroupNormShape&, View x, View gamma, View dy, View stats, View dx,
                  View dgamma, View dbeta, View scratch, bool accumulate = false);
    // The same for a = SiLU(GroupNorm(x)) (forward_silu's layer) given dy = ∂L/∂a: the SiLU's derivative is taken
    // at GroupNorm(x), recomputed from x, γ, β and the statistics, so training stores neither it nor runs a
    // separate SiLU backward.
    void backward_silu(engine::CommandBuffer&, const GroupNormShape&, View x, View gamma, View beta, View dy, View stats,
                       View dx, View dgamma, View dbeta, View scratch, bool accumulate = false);

    // Dispatches recorded on the 4-value paths so far (tests check which path ran): channel by channel (H·W a
    // multiple of 4), and over the whole group (flat: H·W is not, the group's Cg·H·W is, the 7×7 layers).
    uint32_t vec4_recorded() const { return vec4_recorded_; }
    uint32_t flat_recorded() const { return flat_recorded_; }
    // Lanes whose channel sums the backward writes separately (0: one sum per channel).
    uint32_t lane_sums() const { return lanes_; }

private:
    void record_forward(engine::CommandBuffer&, const GroupNormShape&, View x, View gamma, View beta, View y, View stats,
                        bool silu);
    // The pipeline for a pass on these tensors (and counts the path it takes).
    Kernel& kernel(bool backward, bool silu, const GroupNormShape&, std::initializer_list<View> tensors);
    void record_backward(engine::CommandBuffer&, const GroupNormShape&, View x, View gamma, View beta, View dy, View stats,
                         View dx, View dgamma, View dbeta, View scratch, bool accumulate);  // beta: the SiLU kernel
    bool vec4_;
    uint32_t vec4_recorded_ = 0, flat_recorded_ = 0;
    uint32_t lanes_;  // the backward's per-lane sums (layers.cpp: gn_lanes); 0: one sum per channel
    Kernel bwd_params_;
    std::vector<Kernel> kernels_;  // [backward][silu][path] (layers.cpp: GnPath)
};

// ---- elementwise and data movement -------------------------------------------------------------------
class SiLU {
public:
    explicit SiLU(engine::Context&);
    void forward(engine::CommandBuffer&, uint64_t count, View x, View y);  // y = x·σ(x); y may be x
    void backward(engine::CommandBuffer&, uint64_t count, View x, View dy, View dx, bool accumulate = false);

private:
    Kernel fwd_, bwd_;
};

class Upsample2 {
public:
    explicit Upsample2(engine::Context&);
    // nearest ×2: x [NC,H,W] → y [NC,2H,2W]; the backward sums each 2×2 block of dy (nn/concat_up.comp with no
    // second input; the UNet itself upsamples inside Concat::forward_up)
    void forward(engine::CommandBuffer&, uint32_t nc, uint32_t h, uint32_t w, View x, View y);
    void backward(engine::CommandBuffer&, uint32_t nc, uint32_t h, uint32_t w, View dy, View dx, bool accumulate = false);

private:
    Kernel fwd_, bwd_;
};

class Concat {
public:
    explicit Concat(engine::Context&);
    // vec4: 4 values per invocation when Ca·HW, Cb·HW and the offsets are multiples of 4 (default: CPU drivers)
    Concat(engine::Context&, bool vec4);
    // y [N,Ca+Cb,HW] = (a [N,Ca,HW], b [N,Cb,HW]) along channels; the backward splits dy into da, db
    void forward(engine::CommandBuffer&, uint32_t n, uint32_t ca, uint32_t cb, uint32_t hw, View a, View b, View y);
    void backward(engine::CommandBuffer&, uint32_t n, uint32_t ca, uint32_t cb, uint32_t hw, View dy, View da,
                  View db, bool acc_a = false, bool acc_b = false);
    // The same with a [N,Ca,h/2,w/2] upsampled ×2 (nearest) on the way in, y [N,Ca+Cb,h,w] (h, w even): the UNet's
    // upsample and concat without the upsampled tensor, two dispatches each way (a's part, b's part). The
    // backward sums each da over its 2×2 block of dy.
    void forward_up(engine::CommandBuffer&, uint32_t n, uint32_t ca, uint32_t cb, uint32_t h, uint32_t w, View a, View b,
                    View y);
    void backward_up(engine::CommandBuffer&, uint32_t n, uint32_t ca, uint32_t cb, uint32_t h, uint32_t w, View dy,
                     View da, View db, bool acc_a = false, bool acc_b = false);

    // Dispatches recorded on the 4-value path so far (tests check which path ran).
    uint32_t vec4_recorded() const { return vec4_recorded_; }

private:
    bool vec4_;
    uint32_t vec4_recorded_ = 0;
    Kernel fwd_, bwd_, fwd4_, bwd4_;
    Kernel up_a_, up_b_, up_b4_, up_da_, up_db_, up_db4_;  // nn/concat_up.comp's modes 0–3 (and 4-value copies)
};

class BiasAdd {
public:
    explicit BiasAdd(engine::Context&);
    // vec4: the backward reads and writes 4 values per access when H·W and the offsets allow (default: CPU drivers)
    BiasAdd(engine::Context&, bool vec4);
    // serial: the backward sums each (n, c) in one invocation, with no subgroup reduction (default: CPU drivers,
    // where a reduction is a loop over the lanes); false: one workgroup per (n, c), as on GPUs.
    BiasAdd(engine::Context&, bool vec4, bool serial);
    // y [NC,HW] = x + v[nc] broadcast over HW (v [N,C]); y may be x
    void forward(engine::CommandBuffer&, uint32_t nc, uint32_t hw, View x, View v, View y);
    // dx (+)= dy, dv (+)= Σ_hw dy (one dispatch); dx = View{}: dv only (the caller uses dy as dx)
    void backward(engine::CommandBuffer&, uint32_t nc, uint32_t hw, View dy, View dx, View dv, bool acc_x = false,
                  bool acc_v = false);

    // Dispatches recorded on the 4-value path so far (tests check which path ran).
    uint32_t vec4_recorded() const { return vec4_recorded_; }

private:
    bool vec4_, serial_;
    uint32_t wg_;  // the backward's workgroup size
    uint32_t vec4_recorded_ = 0;
    Kernel fwd_, bwd_, bwd4_;
};

class Add {
public:
    explicit Add(engine::Context&);
    // vec4: the backward moves 4 values per invocation when the count and offsets allow (default: CPU drivers)
    Add(engine::Context&, bool vec4);
    void forward(engine::CommandBuffer&, uint64_t count, View a, View b, View y);  // y = a + b; y may alias
    // da (+)= dy, db (+)= dy (db = View{}: only da — a gradient copy)
    void backward(engine::CommandBuffer&, uint64_t count, View dy, View da, View db, bool acc_a = false,
                  bool acc_b = false);

    // Dispatches recorded on the 4-value path so far (tests check which path ran).
    uint32_t vec4_recorded() const { return vec4_recorded_; }

private:
    bool vec4_;
    uint32_t vec4_recorded_ = 0;
    Kernel fwd_, bwd_, bwd4_;
};

// ---- conditioning ------------------------------------------------------------------------------------
class SinusoidalEmbed {
public:
    explicit SinusoidalEmbed(engine::Context&);
    // e [N,D] from level [N]: e[n,k] = sin(scale·level[n]·f_k), e[n,D/2+k] = cos(…), f_k = 1000^(k/(D/2−1));
    // D even and ≥ 4. No backward (the level is an input).
    void forward(engine::CommandBuffer&, uint32_t n, uint32_t d, float scale, View level, View e);

private:
    Kernel fwd_;
};

class LabelEmbed {
public:
    explicit LabelEmbed(engine::Context&);
    // y [N,D] = table[label[n]] with label int32 [N], table [rows,D]; labels outside [0,rows) read row rows−1
    void forward(engine::CommandBuffer&, uint32_t n, uint32_t rows, uint32_t d, View label, View table, View y);
    // dtable (+)= scatter-add of dy by label (deterministic: one invocation per table entry)
    void backward(engine::CommandBuffer&, uint32_t n, uint32_t rows, uint32_t d, View label, View dy, View dtable,
                  bool accumulate = false);

private:
    Kernel fwd_, bwd_;
};

// ---- loss --------------------------------------------------------------------------------------------
class MseLoss {
public:
    explicit MseLoss(engine::Context&);
    // Floats of scratch the forward needs for `count` elements (its per-workgroup partial sums).
    static uint32_t scratch_count(uint64_t count);
    // loss[0] = mean((pred − target)²): two dispatches (partials, then their sum) with a barrier between.
    void forward(engine::CommandBuffer&, uint64_t count, View pred, View target, View scratch, View loss);
    // dpred = 2·(pred − target)/count (written)
    void backward(engine::CommandBuffer&, uint64_t count, View pred, View target, View dpred);

private:
    Kernel partial_, finalize_, bwd_;
};

// Softmax cross-entropy over K classes (the classifier's loss). Labels are int32 in [0, K).
class SoftmaxXent {
public:
    explicit SoftmaxXent(engine::Context&);
    // p [N,K] = softmax(z), loss [N] = −log p[n, label[n]] (per sample; the host or a caller averages)
    void forward(engine::CommandBuffer&, uint32_t n, uint32_t k, View z, View label, View p, View loss);
    // dz = scale·(p − onehot(label)) (written): the gradient of scale·Σ_n loss[n]
    void backward(engine::CommandBuffer&, uint32_t n, uint32_t k, View p, View label, View dz, float scale);

private:
    Kernel fwd_, bwd_;
};

// Every family, built once per context (pipelines compile lazily on first use).
struct Layers {
    explicit Layers(engine::Context& ctx)
        : conv(ctx), linear(ctx), group_norm(ctx), silu(ctx), upsample(ctx), concat(ctx), bias_add(ctx), add(ctx),
          sinusoidal(ctx), label_embed(ctx), mse(ctx) {}
    Conv2d conv;
    Linear linear;
    GroupNorm group_norm;
    SiLU silu;
    Upsample2 upsample;
    Concat concat;
    BiasAdd bias_add;
    Add add;
    SinusoidalEmbed sinusoidal;
    LabelEmbed label_embed;
    MseLoss mse;
};

}  // namespace diffuscope::nn
