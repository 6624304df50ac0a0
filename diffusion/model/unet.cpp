#include "diffusion/model/unet.hpp"

#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>

namespace diffuscope::nn {

// ---- configuration -------------------------------------------------------------------------------
std::map<std::string, std::string> UNetConfig::to_metadata() const {
    return {{"format", "diffuscope-unet"}, {"version", "1"}, {"base", std::to_string(base)},
            {"emb_dim", std::to_string(emb_dim)}, {"cond_dim", std::to_string(cond_dim)},
            {"groups", std::to_string(groups)}, {"prediction", prediction == Prediction::v ? "v" : "eps"}};
}

UNetConfig UNetConfig::from_metadata(const std::map<std::string, std::string>& m, const std::string& file) {
    UNetConfig c;
    auto number = [&](const char* key, uint32_t& out, uint32_t lo, uint32_t hi) {
        auto it = m.find(key);
        if (it == m.end()) return;  // absent: the default
        char* end = nullptr;
        unsigned long v = std::strtoul(it->second.c_str(), &end, 10);
        if (it->second.empty() || *end || v < lo || v > hi)
            throw std::runtime_error(file + ": metadata \"" + key + "\" = \"" + it->second + "\" is not an integer in [" +
                                     std::to_string(lo) + ", " + std::to_string(hi) + "]");
        out = uint32_t(v);
    };
    number("base", c.base, 8, 256);
    number("emb_dim", c.emb_dim, 4, 1024);
    number("cond_dim", c.cond_dim, 4, 2048);
    number("groups", c.groups, 1, 64);
    if (auto it = m.find("prediction"); it != m.end()) {
        if (it->second == "eps") c.prediction = Prediction::eps;
        else if (it->second == "v") c.prediction = Prediction::v;
        else throw std::runtime_error(file + ": metadata \"prediction\" = \"" + it->second + "\", expected eps or v");
    }
    if (c.emb_dim % 2) throw std::runtime_error(file + ": emb_dim must be even");
    if (c.base % c.groups)
        throw std::runtime_error(file + ": groups = " + std::to_string(c.groups) + " does not divide base = " +
                                 std::to_string(c.base));
    return c;
}

// ---- parameter table -----------------------------------------------------------------------------
uint32_t ParamTable::add(std::string name, std::vector<int64_t> shape) {
    uint64_t count = 1;
    for (auto d : shape) count *= uint64_t(d);
    ParamInfo p{std::move(name), std::move(shape), total_, uint32_t(count)};
    total_ += uint32_t((count + 3) / 4 * 4);  // keep every tensor 16-byte aligned
    index_[p.name] = params_.size();
    params_.push_back(std::move(p));
    return params_.back().offset;
}

const ParamInfo& ParamTable::operator[](const std::string& name) const {
    auto it = index_.find(name);
    if (it == index_.end()) throw std::out_of_range("UNet has no parameter \"" + name + "\"");
    return params_[it->second];
}

namespace {
struct BlockSpec {
    const char* name;
    uint32_t cin, cout, res;  // res: spatial size (28, 14, 7)
};
std::vector<BlockSpec> block_specs(const UNetConfig& c) {
    uint32_t c0 = c.base, c1 = 2 * c.base, c2 = 4 * c.base;
    return {{"down0", c0, c0, 28}, {"down1", c0, c1, 14}, {"mid0", c1, c2, 7},
            {"mid1", c2, c2, 7},   {"up1", c2 + c1, c1, 14}, {"up0", c1 + c0, c0, 28}};
}
}  // namespace

ParamTable unet_params(const UNetConfig& c) {
    ParamTable t;
    int64_t E = c.emb_dim, D = c.cond_dim, c0 = c.base, c1 = 2 * c.base;
    t.add("time_mlp.0.weight", {D, E});
    t.add("time_mlp.0.bias", {D});
    t.add("time_mlp.2.weight", {D, D});
    t.add("time_mlp.2.bias", {D});
    t.add("label_emb.weight", {UNetConfig::labels, D});
    t.add("conv_in.weight", {c0, 1, 3, 3});
    t.add("conv_in.bias", {c0});
    auto block = [&](const BlockSpec& b) {
        std::string n = b.name;
        int64_t ci = b.cin, co = b.cout;
        t.add(n + ".norm1.weight", {ci});
        t.add(n + ".norm1.bias", {ci});
        t.add(n + ".conv1.weight", {co, ci, 3, 3});
        t.add(n + ".conv1.bias", {co});
        t.add(n + ".cond.weight", {co, D});
        t.add(n + ".cond.bias", {co});
        t.add(n + ".norm2.weight", {co});
        t.add(n + ".norm2.bias", {co});
        t.add(n + ".conv2.weight", {co, co, 3, 3});
        t.add(n + ".conv2.bias", {co});
        if (ci != co) {
            t.add(n + ".skip.weight", {co, ci, 1, 1});
            t.add(n + ".skip.bias", {co});
        }
    };
    auto specs = block_specs(c);
    block(specs[0]);
    t.add("downsample0.weight", {c0, c0, 3, 3});
    t.add("downsample0.bias", {c0});
    block(specs[1]);
    t.add("downsample1.weight", {c1, c1, 3, 3});
    t.add("downsample1.bias", {c1});
    for (size_t i = 2; i < specs.size(); ++i) block(specs[i]);
    t.add("norm_out.weight", {c0});
    t.add("norm_out.bias", {c0});
    t.add("conv_out.weight", {1, c0, 3, 3});
    t.add("conv_out.bias", {1});
    return t;
}

std::vector<float> unet_init(const UNetConfig&, const ParamTable& t, uint64_t seed) {
    std::vector<float> p(t.total(), 0.0f);
    std::mt19937_64 gen(seed);
    for (const auto& info : t.all()) {
        const std::string& n = info.name;
        float* w = p.data() + info.offset;
        auto ends_with = [&](const char* s) { return n.size() >= std::strlen(s) && n.compare(n.size() - std::strlen(s), std::string::npos, s) == 0; };
        if (n.find("norm") != std::string::npos) {
            std::fill(w, w + info.count, ends_with(".weight") ? 1.0f : 0.0f);
        } else if (n == "label_emb.weight") {
            std::normal_distribution<float> d(0.0f, 1.0f);
            for (uint32_t i = 0; i < info.count; ++i) w[i] = d(gen);
        } else if (n.rfind("conv_out.", 0) == 0) {
            std::fill(w, w + info.count, 0.0f);
        } else {
            // fan_in of the layer this tensor belongs to: the weight's in × kh × kw.
            const auto& wshape = t[n.substr(0, n.rfind('.')) + ".weight"].shape;
            int64_t fan_in = 1;
            for (size_t i = 1; i < wshape.size(); ++i) fan_in *= wshape[i];
            float bound = 1.0f / std::sqrt(float(fan_in));
            std::uniform_real_distribution<float> d(-bound, bound);
            for (uint32_t i = 0; i < info.count; ++i) w[i] = d(gen);
        }
    }
    return p;
}

double unet_flops_per_image(const UNetConfig& c) {
    auto conv = [](double cin, double cout, double res, double k) { return 2.0 * cin * cout * k * k * res * res; };
    double f = 2.0 * c.emb_dim * c.cond_dim + 2.0 * c.cond_dim * c.cond_dim;
    f += conv(1, c.base, 28, 3) + conv(c.base, 1, 28, 3);
    f += conv(c.base, c.base, 14, 3) + conv(2 * c.base, 2 * c.base, 7, 3);  // downsamples (output res)
    for (const auto& b : block_specs(c)) {
        f += conv(b.cin, b.cout, b.res, 3) + conv(b.cout, b.cout, b.res, 3) + 2.0 * c.cond_dim * b.cout;
        if (b.cin != b.cout) f += conv(b.cin, b.cout, b.res, 1);
    }
    return f;
}

// ---- the GPU model -------------------------------------------------------------------------------
// Every saved tensor lives in one arena buffer and every gradient in one flat buffer, each bound whole; so
// two dispatches touching the same buffer are a hazard to the synchronization validator even when their
// ranges differ. Hence one barrier after every layer call. On the devices measured it costs little next
// to the kernels (see `diffuscope bench`).
struct UNet::Block {
    BlockSpec spec;
    View x;                               // input (not owned)
    Tensor a1, h1, pvec, a2, skip, out;  // a1, a2: SiLU(GroupNorm(·)) of x and h1; h1 = conv1(a1) + pvec
    View stats1, stats2;
    Tensor da1, dh1, dpvec, da2;  // gradient scratch (training)
};

struct UNet::Saved {
    Tensor u, e, t1, t1a, t2, lab, c, c_act, h_in, ds0, ds1, cat1, cat0, aout;
    View stats_out;
    std::vector<Block> blocks;  // down0, down1, mid0, mid1, up1, up0
    // gradients
    Tensor d_c_act, d_c, d_t1a, d_t1, d_h_in, d_s0, d_ds0, d_s1, d_ds1, d_m0, d_m1, d_cat1, d_u1,
        d_cat0, d_u0, d_aout;
    Tensor gn_scratch;  // GroupNorm backward's per-(n, c) sums, reused by every norm (barriers between)
};

UNet::Tensor UNet::alloc(uint64_t count) {
    const uint64_t padded = (count + 3) / 4 * 4;
    if (padded > chunk_floats_)
        throw std::runtime_error("UNet: one activation of " + std::to_string(count * 4 >> 20) +
                                 " MiB exceeds the device's storage-buffer range; use a smaller batch");
    if (chunk_used_.empty() || chunk_used_.back() + padded > chunk_floats_) chunk_used_.push_back(0);
    const size_t chunk = chunk_used_.size() - 1;
    const uint64_t at = chunk_used_[chunk];
    chunk_used_[chunk] += padded;
    // While planning (no buffers yet) the view is a placeholder; the second pass lays out the same offsets.
    static const engine::Buffer none;
    return {View(chunk < arena_.size() ? arena_[chunk] : none, uint32_t(at)), count};
}

UNet::UNet(engine::Context& ctx, const UNetConfig& cfg, uint32_t batch, bool training)
    : ctx_(&ctx), cfg_(cfg), table_(unet_params(cfg)), batch_(batch), training_(training), conv_(ctx),
      linear_(ctx), norm_(ctx), silu_(ctx), concat_(ctx), bias_(ctx), add_(ctx), sin_(ctx), label_(ctx),
      level_(ctx, {"nn/noise_level.comp", 2, 20}) {
    if (batch == 0) throw std::invalid_argument("UNet: batch is 0");
    params_ = engine::Buffer(ctx, uint64_t(table_.total()) * 4);
    if (training) grads_ = engine::Buffer(ctx, uint64_t(table_.total()) * 4);
    // The 16-byte padding between tensors is never written by a layer, yet the gradient norm and AdamW run
    // over the whole flat buffer: it must start (and stay) zero, or fresh memory's garbage leaks into the
    // clip scale and a resumed run diverges from a straight one.
    engine::one_shot(ctx, [&](engine::CommandBuffer& cmd) {
        cmd.fill(params_, 0);
        if (training) cmd.fill(grads_, 0);
    });

    // Plan the arena twice: first to measure, then (with the chunks made) to lay out the same views.
    chunk_floats_ = std::min<uint64_t>(ctx.info().max_storage_buffer_range, 64ull << 20) / 4;
    for (int pass = 0; pass < 2; ++pass) {
        chunk_used_.clear();
        s_ = std::make_unique<Saved>();
        Saved& s = *s_;
        const uint64_t N = batch, E = cfg.emb_dim, D = cfg.cond_dim, c0 = cfg.base, c1 = 2 * c0, c2 = 4 * c0;
        const uint64_t P28 = 28 * 28, P14 = 14 * 14, P7 = 7 * 7;
        s.u = alloc(N);
        s.e = alloc(N * E);
        s.t1 = alloc(N * D);
        s.t1a = alloc(N * D);
        s.t2 = alloc(N * D);
        s.lab = alloc(N * D);
        s.c = alloc(N * D);
        s.c_act = alloc(N * D);
        s.h_in = alloc(N * c0 * P28);
        s.ds0 = alloc(N * c0 * P14);
        s.ds1 = alloc(N * c1 * P7);
        s.cat1 = alloc(N * (c2 + c1) * P14);
        s.cat0 = alloc(N * (c1 + c0) * P28);
        s.aout = alloc(N * c0 * P28);
        s.stats_out = alloc(2 * N * cfg.groups).v;
        for (const auto& spec : block_specs(cfg)) {
            Block b;
            b.spec = spec;
            uint64_t in = N * spec.cin * spec.res * spec.res, o = N * spec.cout * spec.res * spec.res;
            b.a1 = alloc(in);
            b.h1 = alloc(o);
            b.pvec = alloc(N * spec.cout);
            b.a2 = alloc(o);
            // the skip path's output, unless conv2 accumulates the skip into its own tile (ConvEpilogue::skip_x)
            if (spec.cin != spec.cout && !conv_.fuses_skip({uint32_t(N), spec.cout, spec.res, spec.res, spec.cout, 3, 1}))
                b.skip = alloc(o);
            b.out = alloc(o);
            b.stats1 = alloc(2 * N * cfg.groups).v;
            b.stats2 = alloc(2 * N * cfg.groups).v;
            if (training) {
                b.da1 = alloc(in);
                b.dh1 = alloc(o);
                b.dpvec = alloc(N * spec.cout);
                b.da2 = alloc(o);
            }
            s.blocks.push_back(b);
        }
        auto& B = s.blocks;
        B[0].x = s.h_in.v;
        B[1].x = s.ds0.v;
        B[2].x = s.ds1.v;
        B[3].x = B[2].out.v;
        B[4].x = s.cat1.v;
        B[5].x = s.cat0.v;
        if (training) {
            s.d_c_act = alloc(N * D);
            s.d_c = alloc(N * D);
            s.d_t1a = alloc(N * D);
            s.d_t1 = alloc(N * D);
            s.d_h_in = alloc(N * c0 * P28);
            s.d_s0 = alloc(N * c0 * P28);
            s.d_ds0 = alloc(N * c0 * P14);
            s.d_s1 = alloc(N * c1 * P14);
            s.d_ds1 = alloc(N * c1 * P7);
            s.d_m0 = alloc(N * c2 * P7);
            s.d_m1 = alloc(N * c2 * P7);
            s.d_cat1 = alloc(N * (c2 + c1) * P14);
            s.d_u1 = alloc(N * c1 * P14);
            s.d_cat0 = alloc(N * (c1 + c0) * P28);
            s.d_u0 = alloc(N * c0 * P28);
            s.d_aout = alloc(N * c0 * P28);
            s.gn_scratch = alloc(nn::GroupNormShape{uint32_t(N), uint32_t(c2 + c1), 1, 1}.scratch_count());  // the widest norm, up1.norm1
        }
        if (pass == 0)
            for (uint64_t used : chunk_used_) arena_.emplace_back(ctx, std::max<uint64_t>(used, 4) * 4);
    }
}

UNet::~UNet() = default;

engine::Buffer& UNet::grad_buffer() {
    if (!training_) throw std::logic_error("UNet: built for inference, it has no gradients");
    return grads_;
}

View UNet::p(const std::string& name) const { return View(params_, table_[name].offset); }
View UNet::g(const std::string& name) const { return View(grads_, table_[name].offset); }

void UNet::block_forward(engine::CommandBuffer& cmd, Block& b, View x) {
    const auto& sp = b.spec;
    const std::string n = sp.name;
    const uint32_t N = batch_, hw = sp.res * sp.res;
    const Saved& s = *s_;
    // Each GroupNorm and the SiLU after it are one pass; the backward recomputes the GroupNorm output it needs.
    mark(cmd, n + ".norm1");
    norm_.forward_silu(cmd, {N, sp.cin, hw, cfg_.groups}, x, p(n + ".norm1.weight"), p(n + ".norm1.bias"), b.a1.v, b.stats1);
    cmd.barrier();
    mark(cmd, n + ".cond");
    linear_.forward(cmd, {N, cfg_.cond_dim, sp.cout}, s.c_act.v, p(n + ".cond.weight"), p(n + ".cond.bias"), b.pvec.v);
    cmd.barrier();  // RAW: conv1 reads a1 and pvec
    // The conditioning is added in conv1's epilogue, the residual in conv2's: no passes of their own.
    mark(cmd, n + ".conv1");
    conv_.forward(cmd, {N, sp.cin, sp.res, sp.res, sp.cout, 3, 1}, b.a1.v, p(n + ".conv1.weight"), p(n + ".conv1.bias"),
                  b.h1.v, {.v = b.pvec.v});
    cmd.barrier();
    mark(cmd, n + ".norm2");
    norm_.forward_silu(cmd, {N, sp.cout, hw, cfg_.groups}, b.h1.v, p(n + ".norm2.weight"), p(n + ".norm2.bias"), b.a2.v,
                       b.stats2);
    cmd.barrier();
    const ConvShape c2{N, sp.cout, sp.res, sp.res, sp.cout, 3, 1};
    ConvEpilogue e{.residual = x};  // out = conv2(a2) + x, or + skip(x), a 1×1 conv where the widths differ
    if (sp.cin != sp.cout && conv_.fuses_skip(c2)) {
        e = {.skip_x = x, .skip_w = p(n + ".skip.weight"), .skip_b = p(n + ".skip.bias"), .skip_cin = sp.cin};
    } else if (sp.cin != sp.cout) {
        mark(cmd, n + ".skip");
        conv_.forward(cmd, {N, sp.cin, sp.res, sp.res, sp.cout, 1, 1}, x, p(n + ".skip.weight"), p(n + ".skip.bias"),
                      b.skip.v);
        cmd.barrier();  // RAW: conv2 reads the skip path's output
        e = {.residual = b.skip.v};
    }
    mark(cmd, n + ".conv2");
    conv_.forward(cmd, c2, b.a2.v, p(n + ".conv2.weight"), p(n + ".conv2.bias"), b.out.v, e);
    cmd.barrier();
}

void UNet::record_forward(engine::CommandBuffer& cmd, View x, View level, View label, View out) {
    Saved& s = *s_;
    const uint32_t N = batch_, c0 = cfg_.base, c1 = 2 * c0, c2 = 4 * c0;
    check_view("unet.forward: x", x, uint64_t(N) * 784);
    check_view("unet.forward: level", level, N);
    check_view("unet.forward: label", label, N);
    check_view("unet.forward: out", out, uint64_t(N) * 784);

    // Conditioning: c_act = SiLU(time_mlp(embed(u(λ))) + label_emb[label]).
    struct { uint32_t n, in_off, out_off; float lo, hi; } lp{N, level.offset, s.u.v.offset, UNetConfig::level_lo,
                                                             UNetConfig::level_hi};
    mark(cmd, "level");
    level_.dispatch(cmd, {level.buffer, s.u.v.buffer}, lp, engine::groups_for(N, 64));
    cmd.barrier();
    mark(cmd, "label_emb");
    label_.forward(cmd, N, UNetConfig::labels, cfg_.cond_dim, label, p("label_emb.weight"), s.lab.v);
    cmd.barrier();
    mark(cmd, "conv_in");
    conv_.forward(cmd, {N, 1, 28, 28, c0, 3, 1}, x, p("conv_in.weight"), p("conv_in.bias"), s.h_in.v);
    cmd.barrier();  // RAW: the embedding reads u
    mark(cmd, "embed");
    sin_.forward(cmd, N, cfg_.emb_dim, 1.0f, s.u.v, s.e.v);
    cmd.barrier();
    mark(cmd, "time_mlp.0");
    linear_.forward(cmd, {N, cfg_.emb_dim, cfg_.cond_dim}, s.e.v, p("time_mlp.0.weight"), p("time_mlp.0.bias"), s.t1.v);
    cmd.barrier();
    mark(cmd, "silu");
    silu_.forward(cmd, s.t1.count, s.t1.v, s.t1a.v);
    cmd.barrier();
    mark(cmd, "time_mlp.2");
    linear_.forward(cmd, {N, cfg_.cond_dim, cfg_.cond_dim}, s.t1a.v, p("time_mlp.2.weight"), p("time_mlp.2.bias"),
                    s.t2.v);
    cmd.barrier();
    mark(cmd, "add");
    add_.forward(cmd, s.c.count, s.t2.v, s.lab.v, s.c.v);
    cmd.barrier();
    mark(cmd, "silu");
    silu_.forward(cmd, s.c.count, s.c.v, s.c_act.v);
    cmd.barrier();

    auto& B = s.blocks;
    block_forward(cmd, B[0], s.h_in.v);                                                           // s0
    mark(cmd, "downsample0");
    conv_.forward(cmd, {N, c0, 28, 28, c0, 3, 2}, B[0].out.v, p("downsample0.weight"), p("downsample0.bias"), s.ds0.v);
    cmd.barrier();
    block_forward(cmd, B[1], s.ds0.v);                                                            // s1
    mark(cmd, "downsample1");
    conv_.forward(cmd, {N, c1, 14, 14, c1, 3, 2}, B[1].out.v, p("downsample1.weight"), p("downsample1.bias"), s.ds1.v);
    cmd.barrier();
    block_forward(cmd, B[2], s.ds1.v);
    block_forward(cmd, B[3], B[2].out.v);                                                         // m
    // The upsampling and the skip concatenation together: the upsampled tensor is never written (Concat::forward_up).
    mark(cmd, "upsample+concat");
    concat_.forward_up(cmd, N, c2, c1, 14, 14, B[3].out.v, B[1].out.v, s.cat1.v);
    cmd.barrier();
    block_forward(cmd, B[4], s.cat1.v);                                                           // u1
    mark(cmd, "upsample+concat");
    concat_.forward_up(cmd, N, c1, c0, 28, 28, B[4].out.v, B[0].out.v, s.cat0.v);
    cmd.barrier();
    block_forward(cmd, B[5], s.cat0.v);                                                           // u0
    mark(cmd, "norm_out");
    norm_.forward_silu(cmd, {N, c0, 784, cfg_.groups}, B[5].out.v, p("norm_out.weight"), p("norm_out.bias"), s.aout.v,
                       s.stats_out);
    cmd.barrier();
    mark(cmd, "conv_out");
    conv_.forward(cmd, {N, c0, 28, 28, 1, 3, 1}, s.aout.v, p("conv_out.weight"), p("conv_out.bias"), out);
    end_marks(cmd);
    saved_x_ = x;
    saved_label_ = label;
}

void UNet::block_backward(engine::CommandBuffer& cmd, Block& b, View dout, View dx, bool accumulate_dx,
                          bool first_cond) {
    const auto& sp = b.spec;
    const std::string n = sp.name;
    const uint32_t N = batch_, hw = sp.res * sp.res;
    Saved& s = *s_;
    ConvShape c2{N, sp.cout, sp.res, sp.res, sp.cout, 3, 1}, c1{N, sp.cin, sp.res, sp.res, sp.cout, 3, 1};
    mark(cmd, n + ".conv2 dX");
    conv_.backward_data(cmd, c2, dout, p(n + ".conv2.weight"), b.da2.v);
    cmd.barrier();
    mark(cmd, n + ".conv2 dW");
    conv_.backward_weight(cmd, c2, b.a2.v, dout, g(n + ".conv2.weight"), g(n + ".conv2.bias"));
    cmd.barrier();  // RAW: the GroupNorm + SiLU backward reads da2
    mark(cmd, n + ".norm2 bwd");
    norm_.backward_silu(cmd, {N, sp.cout, hw, cfg_.groups}, b.h1.v, p(n + ".norm2.weight"), p(n + ".norm2.bias"), b.da2.v,
                        b.stats2, b.dh1.v, g(n + ".norm2.weight"), g(n + ".norm2.bias"), s.gn_scratch.v);
    cmd.barrier();
    // h1 = conv1(a1) + pvec: the gradient reaches conv1 as dh1 itself, and dpvec = Σ_hw dh1.
    mark(cmd, n + ".cond sum");
    bias_.backward(cmd, N * sp.cout, hw, b.dh1.v, View{}, b.dpvec.v);
    cmd.barrier();
    mark(cmd, n + ".cond dX");
    linear_.backward_data(cmd, {N, cfg_.cond_dim, sp.cout}, b.dpvec.v, p(n + ".cond.weight"), s.d_c_act.v, !first_cond);
    cmd.barrier();
    mark(cmd, n + ".cond dW");
    linear_.backward_weight(cmd, {N, cfg_.cond_dim, sp.cout}, s.c_act.v, b.dpvec.v, g(n + ".cond.weight"),
                            g(n + ".cond.bias"));
    cmd.barrier();
    mark(cmd, n + ".conv1 dX");
    conv_.backward_data(cmd, c1, b.dh1.v, p(n + ".conv1.weight"), b.da1.v);
    cmd.barrier();
    mark(cmd, n + ".conv1 dW");
    conv_.backward_weight(cmd, c1, b.a1.v, b.dh1.v, g(n + ".conv1.weight"), g(n + ".conv1.bias"));
    cmd.barrier();
    mark(cmd, n + ".norm1 bwd");
    norm_.backward_silu(cmd, {N, sp.cin, hw, cfg_.groups}, b.x, p(n + ".norm1.weight"), p(n + ".norm1.bias"), b.da1.v,
                        b.stats1, dx, g(n + ".norm1.weight"), g(n + ".norm1.bias"), s.gn_scratch.v, accumulate_dx);
    cmd.barrier();  // WAW: the skip path adds into dx too
    if (sp.cin != sp.cout) {
        ConvShape cs{N, sp.cin, sp.res, sp.res, sp.cout, 1, 1};
        mark(cmd, n + ".skip dX");
        conv_.backward_data(cmd, cs, dout, p(n + ".skip.weight"), dx, /*accumulate=*/true);
        cmd.barrier();
        mark(cmd, n + ".skip dW");
        conv_.backward_weight(cmd, cs, b.x, dout, g(n + ".skip.weight"), g(n + ".skip.bias"));
        cmd.barrier();
    } else {
        mark(cmd, n + ".add bwd");
        add_.backward(cmd, b.out.count, dout, dx, View{}, /*acc_a=*/true);
        cmd.barrier();
    }
    cmd.barrier();
}

void UNet::record_backward(engine::CommandBuffer& cmd, View dout, View dx) {
    if (!training_) throw std::logic_error("UNet::record_backward: built for inference");
    Saved& s = *s_;
    auto& B = s.blocks;
    const uint32_t N = batch_, c0 = cfg_.base, c1 = 2 * c0, c2 = 4 * c0;
    check_view("unet.backward: dout", dout, uint64_t(N) * 784);

    ConvShape out_shape{N, c0, 28, 28, 1, 3, 1};
    mark(cmd, "conv_out dX");
    conv_.backward_data(cmd, out_shape, dout, p("conv_out.weight"), s.d_aout.v);
    cmd.barrier();
    mark(cmd, "conv_out dW");
    conv_.backward_weight(cmd, out_shape, s.aout.v, dout, g("conv_out.weight"), g("conv_out.bias"));
    cmd.barrier();
    mark(cmd, "norm_out bwd");
    norm_.backward_silu(cmd, {N, c0, 784, cfg_.groups}, B[5].out.v, p("norm_out.weight"), p("norm_out.bias"), s.d_aout.v,
                        s.stats_out, s.d_u0.v, g("norm_out.weight"), g("norm_out.bias"), s.gn_scratch.v);
    cmd.barrier();
    block_backward(cmd, B[5], s.d_u0.v, s.d_cat0.v, false, /*first_cond=*/true);
    mark(cmd, "upsample+concat bwd");
    concat_.backward_up(cmd, N, c1, c0, 28, 28, s.d_cat0.v, s.d_u1.v, s.d_s0.v);
    cmd.barrier();
    block_backward(cmd, B[4], s.d_u1.v, s.d_cat1.v, false, false);
    mark(cmd, "upsample+concat bwd");
    concat_.backward_up(cmd, N, c2, c1, 14, 14, s.d_cat1.v, s.d_m1.v, s.d_s1.v);
    cmd.barrier();
    block_backward(cmd, B[3], s.d_m1.v, s.d_m0.v, false, false);
    block_backward(cmd, B[2], s.d_m0.v, s.d_ds1.v, false, false);
    ConvShape dn1{N, c1, 14, 14, c1, 3, 2}, dn0{N, c0, 28, 28, c0, 3, 2};
    mark(cmd, "downsample1 dX");
    conv_.backward_data(cmd, dn1, s.d_ds1.v, p("downsample1.weight"), s.d_s1.v, /*accumulate=*/true);
    cmd.barrier();
    mark(cmd, "downsample1 dW");
    conv_.backward_weight(cmd, dn1, B[1].out.v, s.d_ds1.v, g("downsample1.weight"), g("downsample1.bias"));
    cmd.barrier();
    block_backward(cmd, B[1], s.d_s1.v, s.d_ds0.v, false, false);
    mark(cmd, "downsample0 dX");
    conv_.backward_data(cmd, dn0, s.d_ds0.v, p("downsample0.weight"), s.d_s0.v, /*accumulate=*/true);
    cmd.barrier();
    mark(cmd, "downsample0 dW");
    conv_.backward_weight(cmd, dn0, B[0].out.v, s.d_ds0.v, g("downsample0.weight"), g("downsample0.bias"));
    cmd.barrier();
    block_backward(cmd, B[0], s.d_s0.v, s.d_h_in.v, false, false);
    ConvShape in_shape{N, 1, 28, 28, c0, 3, 1};
    if (dx) {
        mark(cmd, "conv_in dX");
        conv_.backward_data(cmd, in_shape, s.d_h_in.v, p("conv_in.weight"), dx);
    }
    mark(cmd, "conv_in dW");
    conv_.backward_weight(cmd, in_shape, saved_x_, s.d_h_in.v, g("conv_in.weight"), g("conv_in.bias"));
    cmd.barrier();

    // Conditioning: every block added into d_c_act.
    mark(cmd, "silu bwd");
    silu_.backward(cmd, s.c.count, s.c.v, s.d_c_act.v, s.d_c.v);
    cmd.barrier();
    mark(cmd, "label_emb bwd");
    label_.backward(cmd, N, UNetConfig::labels, cfg_.cond_dim, saved_label_, s.d_c.v, g("label_emb.weight"));
    cmd.barrier();
    mark(cmd, "time_mlp.2 dX");
    linear_.backward_data(cmd, {N, cfg_.cond_dim, cfg_.cond_dim}, s.d_c.v, p("time_mlp.2.weight"), s.d_t1a.v);
    cmd.barrier();
    mark(cmd, "time_mlp.2 dW");
    linear_.backward_weight(cmd, {N, cfg_.cond_dim, cfg_.cond_dim}, s.t1a.v, s.d_c.v, g("time_mlp.2.weight"),
                            g("time_mlp.2.bias"));
    cmd.barrier();
    mark(cmd, "silu bwd");
    silu_.backward(cmd, s.t1.count, s.t1.v, s.d_t1a.v, s.d_t1.v);
    cmd.barrier();
    mark(cmd, "time_mlp.0 dW");
    linear_.backward_weight(cmd, {N, cfg_.emb_dim, cfg_.cond_dim}, s.e.v, s.d_t1.v, g("time_mlp.0.weight"),
                            g("time_mlp.0.bias"));
    cmd.barrier();
    end_marks(cmd);
}

void UNet::mark(engine::CommandBuffer& cmd, std::string name) {
    if (!prof_) return;
    if (prof_open_) prof_->end(cmd);
    prof_->begin(cmd, std::move(name));
    prof_open_ = true;
}

void UNet::end_marks(engine::CommandBuffer& cmd) {
    if (prof_ && prof_open_) prof_->end(cmd);
    prof_open_ = false;
}

}  // namespace diffuscope::nn
