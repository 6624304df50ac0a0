// Conv throughput with GPU timestamps, for the record (not a pass/fail check; disabled by default):
//   ./tests/diffuscope_tests --gtest_also_run_disabled_tests --gtest_filter='*NnPerf*'
// Runs on its own context without validation. Prints GFLOP/s (GPU timestamps) and the process CPU time
// per pass (lavapipe's threads; on a machine shared with other jobs it shows the work the pass cost) of forward, backward-data and backward-weight
// for N=64, 32→32 channels, 28×28 (the UNet's widest level at batch 64), and a few other UNet shapes.
#include "diffusion/model/layers.hpp"
#include "engine/timestamps.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

namespace nn = diffuscope::nn;

namespace {

struct Timing {
    double ms[3];      // GPU timestamps, best of reps: forward, backward data, backward weight
    double cpu_ms[3];  // process CPU time per rep (all of lavapipe's threads), to see through a loaded machine
};

double cpu_now_ms() {
    timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

// A context without validation, quiet, on the device DIFFUSCOPE_TEST_DEVICE names (default: the usual choice).
engine::ContextOptions perf_context_options() {
    engine::ContextOptions o;
    o.quiet = true;
    if (const char* d = std::getenv("DIFFUSCOPE_TEST_DEVICE")) o.device_index = std::atoi(d);
    return o;
}

Timing time_conv(engine::Context& ctx, nn::Conv2d& conv, const nn::ConvShape& s, int reps, unsigned passes = 7) {
    engine::Buffer x(ctx, s.x_count() * 4), w(ctx, s.w_count() * 4), b(ctx, s.cout * 4), y(ctx, s.y_count() * 4),
        dx(ctx, s.x_count() * 4), dw(ctx, s.w_count() * 4), db(ctx, s.cout * 4);
    engine::one_shot(ctx, [&](engine::CommandBuffer& cmd) {
        cmd.fill(x, 0x3f800000u);  // 1.0f: the contents do not matter for timing, only that they are finite
        cmd.fill(w, 0x3c23d70au);  // 0.01f
        cmd.fill(b, 0);
        cmd.fill(y, 0x3f800000u);
    });
    Timing t{};
    for (int pass = 0; pass < 3; ++pass) {
        if (!(passes >> pass & 1)) continue;
        engine::Timestamps ts(ctx);
        engine::CommandBuffer cmd(ctx);
        cmd.begin();
        ts.reset(cmd);
        for (int r = 0; r < reps; ++r) {
            ts.begin(cmd, "pass");
            if (pass == 0) conv.forward(cmd, s, x, w, b, y);
            if (pass == 1) conv.backward_data(cmd, s, y, w, dx);
            if (pass == 2) conv.backward_weight(cmd, s, x, y, dw, db);
            ts.end(cmd);
            cmd.barrier();  // WAW between repetitions
        }
        cmd.end();
        cmd.submit_and_wait();  // warm-up: lavapipe finishes compiling a pipeline on its first run
        const double c0 = cpu_now_ms();
        cmd.submit_and_wait();
        t.cpu_ms[pass] = (cpu_now_ms() - c0) / reps;
        t.ms[pass] = 1e30;
        for (auto& p : ts.read()) t.ms[pass] = std::min(t.ms[pass], p.ms);
    }
    return t;
}

// A tile configuration to time, under the name its rows print.
struct Config {
    std::string name;
    nn::ConvTiles t;
};

// The device's tiles, and (unless NN_PERF_ONLY_DEFAULT) the paths they take switched off one at a time, for the
// ratio in the same process.
std::vector<Config> default_configs(const nn::ConvTiles& base) {
    std::vector<Config> configs{{"default", base}};
    const bool only_default = std::getenv("NN_PERF_ONLY_DEFAULT") != nullptr;
    if (base.wt4 && !only_default) {  // the broadcast path (no wt4), for the ratio
        nn::ConvTiles t = base;
        t.wt4 = false;
        configs.push_back({"bcast", t});
    }
    if (base.x4 && !only_default) {  // input rows one value a fetch, for the ratio
        nn::ConvTiles t = base;
        t.x4 = false;
        configs.push_back({"scalar-x", t});
    }
    if (base.tn_row && (!only_default || std::getenv("NN_PERF_ROWS"))) {
        nn::ConvTiles t = base;  // rows cut into tiles of 16 × 16, dead pixels and all, for the ratio
        t.tn_row = false;
        t.tn_wide = 16;
        t.acc_budget = 0;
        t.k1_scale = 1;
        configs.push_back({"tiled-rows", t});
    }
    return configs;
}

// NN_PERF_SWEEP=1: the forward/dX tiles and the channel-lane dW tiles.
void add_sweep_both(const nn::ConvTiles& base, std::vector<Config>& configs) {
    for (uint32_t tmb : {1u, 2u, 4u})
        for (uint32_t tn : {2u, 4u, 8u}) {
            nn::ConvTiles t = base;
            t.tmb = tmb;
            t.tn = tn, t.tn_wide = 0;
            configs.push_back({"tmb" + std::to_string(tmb) + "-tn" + std::to_string(tn), t});
        }
    for (uint32_t tco : {8u, 16u, 32u})
        for (uint32_t tn : {4u, 8u, 16u}) {
            nn::ConvTiles t = base;
            t.tco = tco;
            t.dw_px = false;  // the channel-lane dW: these tiles are its
            t.tn_weight = tn;
            t.wg_weight = tco == 32 ? 16 : 32;
            configs.push_back({"tco" + std::to_string(tco) + "-tnw" + std::to_string(tn), t});
        }
}

// NN_PERF_SWEEP=fwd: a wider sweep of the forward/dX tiles (tms up to the subgroup size `sg`) and workgroup sizes.
void add_sweep_fwd(const nn::ConvTiles& base, uint32_t sg, std::vector<Config>& configs) {
    for (uint32_t tms : {4u, 8u})
        for (uint32_t tmb : {1u, 2u, 4u})
            for (uint32_t tn : {2u, 4u, 8u}) {
                if (tms > sg || tms * tmb > 16 || (tms * tmb == 16 && tn == 8)) continue;
                nn::ConvTiles t = base;
                t.tms = tms, t.tmb = tmb, t.tn = tn, t.tn_wide = 0;
                configs.push_back({"tms" + std::to_string(tms) + "-tmb" + std::to_string(tmb) + "-tn" + std::to_string(tn), t});
            }
    for (uint32_t wg : {32u, 128u}) {
        nn::ConvTiles t = base;
        t.wg = wg;
        configs.push_back({"wg" + std::to_string(wg), t});
    }
}

// NN_PERF_SWEEP=list, NN_PERF_TILES="f:tms,tmb,tn,wg w:tco,tnw,wgw,cpl1[,cpl3] …": forward/dX tiles (f) or dW
// tiles (w) to time.
void add_sweep_list(const nn::ConvTiles& base, std::vector<Config>& configs) {
    std::string list = std::getenv("NN_PERF_TILES") ? std::getenv("NN_PERF_TILES") : "";
    for (size_t at = 0; at < list.size();) {
        size_t end = list.find(' ', at);
        if (end == std::string::npos) end = list.size();
        const std::string item = list.substr(at, end - at);
        at = end + 1;
        unsigned v[5] = {0, 0, 0, 0, base.cpl3};  // w: an optional fifth value is cpl3
        if (item.size() < 3 || std::sscanf(item.c_str() + 2, "%u,%u,%u,%u,%u", &v[0], &v[1], &v[2], &v[3], &v[4]) < 4) continue;
        nn::ConvTiles t = base;
        if (item[0] == 'f') t.tms = v[0], t.tmb = v[1], t.tn = v[2], t.tn_wide = 0, t.wg = v[3];
        else t.tco = v[0], t.tn_weight = v[1], t.wg_weight = v[2], t.cpl1 = v[3], t.cpl3 = v[4], t.dw_px = false;
        configs.push_back({item, t});
    }
}

// NN_PERF_SWEEP=dw: a wider sweep of the channel-lane dW tiles and of cpl1.
void add_sweep_dw(const nn::ConvTiles& base, std::vector<Config>& configs) {
    for (uint32_t tco : {4u, 8u, 16u})
        for (uint32_t tn : {2u, 4u, 8u})
            for (uint32_t wgw : {8u, 32u}) {
                nn::ConvTiles t = base;
                t.tco = tco, t.tn_weight = tn, t.wg_weight = wgw, t.dw_px = false;
                configs.push_back({"tco" + std::to_string(tco) + "-tnw" + std::to_string(tn) + "-wgw" + std::to_string(wgw), t});
            }
    for (uint32_t cpl : {1u, 2u, 4u}) {
        nn::ConvTiles t = base;
        t.cpl1 = cpl, t.dw_px = false;
        configs.push_back({"cpl" + std::to_string(cpl), t});
    }
}

// The shapes to time: NN_PERF_SHAPES=unet (the UNet's own conv shapes, base 16, batch 64), a list
// "n,cin,h,w,cout,k,s n,cin,…", or else a reference set.
std::vector<nn::ConvShape> conv_shapes_from_env() {
    const std::vector<nn::ConvShape> reference_shapes = {
        {64, 32, 28, 28, 32, 3, 1},  // the brief's reference shape
        {64, 64, 14, 14, 64, 3, 1},
        {64, 64, 7, 7, 64, 3, 1},
        {64, 32, 28, 28, 64, 3, 2},  // downsampling
        {64, 96, 14, 14, 32, 1, 1},  // a 1×1 skip projection
    };
    // The UNet's (base 16, batch 64; docs/model.md): conv_in, the blocks' convs and skips, the downsamplings.
    const std::vector<nn::ConvShape> unet_shapes = {
        {64, 1, 28, 28, 16, 3, 1},  {64, 16, 28, 28, 16, 3, 1}, {64, 16, 28, 28, 16, 3, 2}, {64, 16, 14, 14, 32, 3, 1},
        {64, 32, 14, 14, 32, 3, 1}, {64, 16, 14, 14, 32, 1, 1}, {64, 32, 14, 14, 32, 3, 2}, {64, 32, 7, 7, 64, 3, 1},
        {64, 64, 7, 7, 64, 3, 1},   {64, 32, 7, 7, 64, 1, 1},   {64, 96, 14, 14, 32, 3, 1}, {64, 96, 14, 14, 32, 1, 1},
        {64, 48, 28, 28, 16, 3, 1}, {64, 48, 28, 28, 16, 1, 1}, {64, 16, 28, 28, 1, 3, 1},
    };
    const char* which = std::getenv("NN_PERF_SHAPES");
    std::vector<nn::ConvShape> listed;
    for (const char* at = which; at && *at;) {
        nn::ConvShape cs;
        int used = 0;
        if (std::sscanf(at, "%u,%u,%u,%u,%u,%u,%u%n", &cs.n, &cs.cin, &cs.h, &cs.w, &cs.cout, &cs.k, &cs.stride, &used) != 7) break;
        listed.push_back(cs);
        at += used;
        while (*at == ' ') ++at;
    }
    if (!listed.empty()) return listed;
    return which && std::string(which) == "unet" ? unet_shapes : reference_shapes;
}

// Times every shape with one configuration: a line per shape (NN_PERF_FIRST: the first only), then the sums.
void time_config(engine::Context& ctx, const Config& c, const std::vector<nn::ConvShape>& shapes, int reps,
                 unsigned passes) {
    nn::Conv2d conv(ctx, c.t);
    double sum_ms[3] = {0, 0, 0}, sum_cpu[3] = {0, 0, 0};
    for (const auto& s : shapes) {
        Timing t = time_conv(ctx, conv, s, reps, passes);
        for (int p = 0; p < 3; ++p) sum_ms[p] += t.ms[p], sum_cpu[p] += t.cpu_ms[p];
        const double gf = s.flops() * 1e-9;
        std::printf("[perf] %-11s N=%u %3u->%-3u %2ux%-2u K=%u s=%u %.3f GFLOP |", c.name.c_str(), s.n, s.cin, s.cout,
                    s.h, s.w, s.k, s.stride, gf);
        const char* names[3] = {"fwd", "dX", "dW+db"};
        for (int p = 0; p < 3; ++p)
            if (passes >> p & 1)
                std::printf(" %s %6.1f ms %5.2f GFLOP/s (cpu %6.1f ms) |", names[p], t.ms[p], gf / (t.ms[p] * 1e-3),
                            t.cpu_ms[p]);
        std::printf("\n");
        if (std::getenv("NN_PERF_FIRST")) break;
    }
    std::printf("[sum]  %-22s fwd %7.1f ms  dX %7.1f ms  dW %7.1f ms | cpu: fwd %7.1f ms  dX %7.1f ms  dW %7.1f ms\n",
                c.name.c_str(), sum_ms[0], sum_ms[1], sum_ms[2], sum_cpu[0], sum_cpu[1], sum_cpu[2]);
}

// NN_PERF_REPS (default 3), NN_PERF_DW_SPLIT (0: never), NN_PERF_SWEEP=1|fwd|dw|list, NN_PERF_PASSES (bitmask of
// fwd 1, dX 2, dW 4: what is timed), NN_PERF_SHAPES: see the helpers above.
TEST(DISABLED_NnPerf, ConvGflops) {
    engine::Context ctx(perf_context_options());
    if (!engine::Timestamps(ctx).supported()) GTEST_SKIP() << "no timestamps";
    std::printf("device: %s\n", ctx.info().name.c_str());
    const int reps = std::getenv("NN_PERF_REPS") ? std::atoi(std::getenv("NN_PERF_REPS")) : 3;

    nn::ConvTiles base = nn::ConvTiles::for_device(ctx);
    if (const char* v = std::getenv("NN_PERF_DW_SPLIT")) base.dw_split_groups = unsigned(std::atoi(v));  // 0: never
    std::vector<Config> configs = default_configs(base);
    const std::string sweep = std::getenv("NN_PERF_SWEEP") ? std::getenv("NN_PERF_SWEEP") : "";
    if (sweep == "1") add_sweep_both(base, configs);
    else if (sweep == "fwd") add_sweep_fwd(base, ctx.info().subgroup_size, configs);
    else if (sweep == "list") add_sweep_list(base, configs);
    else if (sweep == "dw") add_sweep_dw(base, configs);
    const unsigned passes = std::getenv("NN_PERF_PASSES") ? unsigned(std::atoi(std::getenv("NN_PERF_PASSES"))) : 7u;
    const auto shapes = conv_shapes_from_env();
    for (const auto& c : configs) time_config(ctx, c, shapes, reps, passes);
}

}  // namespace

namespace {

// Milliseconds of the other layers at the UNet's widest level (N=64, 32 channels, 28×28), same method.
TEST(DISABLED_NnPerf, LayerMs) {
    engine::ContextOptions o;
    o.quiet = true;
    engine::Context ctx(o);
    if (!engine::Timestamps(ctx).supported()) GTEST_SKIP() << "no timestamps";
    // NN_PERF_LAYER_SHAPE="n,c,hw" times another shape (the UNet's 7×7 and 14×14 layers, say).
    uint32_t n = 64, c = 32, hw = 28 * 28;
    if (const char* v = std::getenv("NN_PERF_LAYER_SHAPE")) std::sscanf(v, "%u,%u,%u", &n, &c, &hw);
    const uint64_t cnt = uint64_t(n) * c * hw;
    engine::Buffer a(ctx, cnt * 4), b(ctx, cnt * 4), y(ctx, 2 * cnt * 4), g(ctx, (2 * cnt + 2ull * n * c * nn::GroupNormShape::k_lane_slots) * 4), p(ctx, (2048 + uint64_t(n) * c) * 4);
    engine::one_shot(ctx, [&](engine::CommandBuffer& cmd) {
        cmd.fill(a, 0x3f800000u);
        cmd.fill(b, 0x3f000000u);
        cmd.fill(g, 0x3f000000u);
        cmd.fill(p, 0x3f800000u);
    });
    nn::Layers L(ctx);
    nn::GroupNorm gn1(ctx, false);  // one value per access (L.group_norm etc. take 4 on CPU drivers)
    nn::BiasAdd bias1(ctx, false), bias_wg(ctx, true, false);
    nn::Add add1(ctx, false);
    nn::Concat cat1(ctx, false);
    nn::GroupNormShape gs{n, c, hw, 8};
    using Rec = std::function<void(engine::CommandBuffer&)>;
    const std::pair<const char*, Rec> passes[] = {
        {"group_norm.forward", [&](auto& cmd) { L.group_norm.forward(cmd, gs, a, p, p, y, {p, 100}); }},
        {"group_norm.backward", [&](auto& cmd) { L.group_norm.backward(cmd, gs, a, p, b, {p, 100}, y, {p, 1000}, {p, 1100}, g); }},
        {"group_norm.forward_silu", [&](auto& cmd) { L.group_norm.forward_silu(cmd, gs, a, p, p, y, {p, 100}); }},
        {"group_norm.backward_silu", [&](auto& cmd) {
             L.group_norm.backward_silu(cmd, gs, a, p, p, b, {p, 100}, y, {p, 1000}, {p, 1100}, g);
         }},
        {"group_norm.forward_silu (scalar)", [&](auto& cmd) { gn1.forward_silu(cmd, gs, a, p, p, y, {p, 100}); }},
        {"group_norm.backward_silu (scalar)", [&](auto& cmd) {
             gn1.backward_silu(cmd, gs, a, p, p, b, {p, 100}, y, {p, 1000}, {p, 1100}, g);
         }},
        {"silu.forward", [&](auto& cmd) { L.silu.forward(cmd, cnt, a, y); }},
        {"silu.backward", [&](auto& cmd) { L.silu.backward(cmd, cnt, a, b, y); }},
        {"bias_add.forward", [&](auto& cmd) { L.bias_add.forward(cmd, n * c, hw, a, p, y); }},
        {"bias_add.backward", [&](auto& cmd) { L.bias_add.backward(cmd, n * c, hw, a, y, {p, 2048}); }},
        {"bias_add.backward (scalar)", [&](auto& cmd) { bias1.backward(cmd, n * c, hw, a, y, {p, 2048}); }},
        {"bias_add.backward (workgroups)", [&](auto& cmd) { bias_wg.backward(cmd, n * c, hw, a, y, {p, 2048}); }},
        {"bias_add.backward, dv only", [&](auto& cmd) { L.bias_add.backward(cmd, n * c, hw, a, {}, {p, 2048}); }},
        {"bias_add.backward, dv only (workgroups)", [&](auto& cmd) { bias_wg.backward(cmd, n * c, hw, a, {}, {p, 2048}); }},
        {"add.forward", [&](auto& cmd) { L.add.forward(cmd, cnt, a, b, y); }},
        {"add.backward", [&](auto& cmd) { L.add.backward(cmd, cnt, a, y, {}, true); }},
        {"add.backward (scalar)", [&](auto& cmd) { add1.backward(cmd, cnt, a, y, {}, true); }},
        {"concat.forward", [&](auto& cmd) { L.concat.forward(cmd, n, c, c, hw, a, b, y); }},
        {"concat.backward", [&](auto& cmd) { L.concat.backward(cmd, n, c, c, hw, g, a, b); }},
        {"concat.forward (scalar)", [&](auto& cmd) { cat1.forward(cmd, n, c, c, hw, a, b, y); }},
        {"concat.backward (scalar)", [&](auto& cmd) { cat1.backward(cmd, n, c, c, hw, g, a, b); }},
        {"upsample2.forward (14→28)", [&](auto& cmd) { L.upsample.forward(cmd, n * c, 14, 14, a, y); }},
        {"upsample2.backward", [&](auto& cmd) { L.upsample.backward(cmd, n * c, 14, 14, g, a); }},
        // The UNet's fused pair: a [N,C,14,14] upsampled into the first C channels of y [N,2C,28,28].
        {"concat.forward_up (14→28)", [&](auto& cmd) { L.concat.forward_up(cmd, n, c, c, 28, 28, a, b, y); }},
        {"concat.backward_up", [&](auto& cmd) { L.concat.backward_up(cmd, n, c, c, 28, 28, g, a, b); }},
        {"mse.forward+backward", [&](auto& cmd) {
             L.mse.forward(cmd, cnt / c, a, b, {p, 0}, {p, 4000});
             cmd.barrier();  // WAW on p
             L.mse.backward(cmd, cnt / c, a, b, y);
         }},
    };
    std::printf("device: %s; N=%u, C=%u, H·W=%u (%.1f M floats)\n", ctx.info().name.c_str(), n, c, hw, cnt * 1e-6);
    const char* only = std::getenv("NN_PERF_ONLY");  // a prefix of the pass names to time
    for (auto& [name, rec] : passes) {
        if (only && std::string(name).rfind(only, 0) != 0) continue;
        engine::Timestamps ts(ctx);
        engine::CommandBuffer cmd(ctx);
        cmd.begin();
        ts.reset(cmd);
        for (int r = 0; r < 5; ++r) {
            ts.begin(cmd, name);
            rec(cmd);
            ts.end(cmd);
            cmd.barrier();  // WAW between repetitions
        }
        cmd.end();
        cmd.submit_and_wait();
        double best = 1e30;
        for (auto& t : ts.read()) best = std::min(best, t.ms);
        std::printf("[perf] %-28s %7.2f ms\n", name, best);
    }
}

}  // namespace

namespace {

// What a load costs on this device, per kind (shaders/test/load_micro.comp): ns per load per invocation.
TEST(DISABLED_NnPerf, LoadKinds) {
    engine::ContextOptions o;
    o.quiet = true;
    engine::Context ctx(o);
    if (!engine::Timestamps(ctx).supported()) GTEST_SKIP() << "no timestamps";
    const uint32_t n = 1u << 20, groups = 256, L = 2048;
    engine::Buffer x(ctx, n * 4, engine::Memory::Device,
                     VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
                         VK_BUFFER_USAGE_STORAGE_TEXEL_BUFFER_BIT),
        y(ctx, groups * 64 * 4, engine::Memory::Device, VK_BUFFER_USAGE_STORAGE_TEXEL_BUFFER_BIT);
    engine::BufferView o1(ctx, y, VK_FORMAT_R32_SFLOAT), o4(ctx, y, VK_FORMAT_R32G32B32A32_SFLOAT);
    engine::BufferView v1(ctx, x, VK_FORMAT_R32_SFLOAT), v4(ctx, x, VK_FORMAT_R32G32B32A32_SFLOAT);
    engine::one_shot(ctx, [&](engine::CommandBuffer& cmd) { cmd.fill(x, 0x3f800000u); });
    const char* names[] = {"ssbo per-lane", "ssbo uniform",   "ssbo vec4/lane", "shared per-lane", "fma only",
                           "ubo per-lane",  "ubo uniform",    "texel r32f",     "image r32f",      "texel rgba32f",
                           "ssbo store",    "image store r32f", "image store rgba32f", "ssbo store vec4"};
    for (uint32_t mode = 0; mode < 14; ++mode) {
        engine::PipelineDesc d{"test/load_micro.comp", 9, 8, {mode}};
        d.types = {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,      VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                   VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,      VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER,
                   VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER,
                   VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER,
                   VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER};
        engine::ComputePipeline p(ctx, d);
        auto set = p.bind({x, x, y, engine::BufferRange(x, 0, 65536), v1.range(), v1.range(), v4.range(), o1.range(),
                           o4.range()});
        struct { uint32_t L, mask; } push{L, n - 1};
        engine::Timestamps ts(ctx);
        engine::CommandBuffer cmd(ctx);
        cmd.begin();
        ts.reset(cmd);
        for (int r = 0; r < 3; ++r) {
            ts.begin(cmd, "p");
            cmd.dispatch(p, set, push, groups);
            ts.end(cmd);
            cmd.barrier();
        }
        cmd.end();
        cmd.submit_and_wait();
        double best = 1e30;
        for (auto& t : ts.read()) best = std::min(best, t.ms);
        std::printf("[load] %-16s %.3f ms  %.3f ns per load per invocation\n", names[mode], best,
                    best * 1e6 / (double(groups) * 64 * L));
    }
}

}  // namespace

#include "diffusion/model/unet.hpp"

#include <chrono>
#include <map>
#include <random>

namespace {

// The UNet (base 16) as `diffuscope bench` times it — forward at batch 16 and 64, forward + backward at
// batch 64 — in a few seconds, with the per-layer GPU times summed by kind (conv forward, dX, dW, GroupNorm,
// SiLU, the rest) and the wall time of the whole submission (which also holds the gaps between layers that
// per-layer timestamps miss on lavapipe). NN_PERF_LAYERS=1 also prints every layer.
TEST(DISABLED_NnPerf, UNetPasses) {
    engine::Context ctx(perf_context_options());
    if (!engine::Timestamps(ctx).supported()) GTEST_SKIP() << "no timestamps";
    const int reps = std::getenv("NN_PERF_REPS") ? std::atoi(std::getenv("NN_PERF_REPS")) : 3;
    nn::UNetConfig cfg;
    auto table = nn::unet_params(cfg);
    auto params = nn::unet_init(cfg, table, 1);
    std::mt19937 gen(5);
    std::normal_distribution<float> d(0.0f, 0.05f);
    for (auto& v : params) v += d(gen);  // no zero-initialised output layer: every path does real work
    auto kind = [](const std::string& n) -> std::string {
        const bool conv = n.find("conv") != std::string::npos || n.find("skip") != std::string::npos ||
                          n.find("downsample") != std::string::npos;
        const bool dw = n.size() > 3 && n.compare(n.size() - 3, 3, " dW") == 0;
        const bool dx = n.size() > 3 && n.compare(n.size() - 3, 3, " dX") == 0;
        if (conv) return dw ? "conv dW" : dx ? "conv dX" : "conv fwd";
        if (n.find("norm") != std::string::npos) return n.find("bwd") != std::string::npos ? "norm bwd" : "norm fwd";
        if (n.find("silu") != std::string::npos) return "silu";
        return "other";
    };
    std::printf("device: %s\n", ctx.info().name.c_str());
    for (auto [batch, training] : {std::pair{16u, false}, std::pair{64u, false}, std::pair{64u, true}}) {
        nn::UNet net(ctx, cfg, batch, training);
        net.param_buffer().upload(params);
        engine::Buffer x(ctx, batch * 784 * 4), level(ctx, batch * 4), label(ctx, batch * 4), y(ctx, batch * 784 * 4);
        std::vector<float> hx(batch * 784), hl(batch);
        std::vector<int32_t> hlab(batch);
        for (auto& v : hx) v = d(gen) * 20;
        for (uint32_t i = 0; i < batch; ++i) hl[i] = -8.0f + 16.0f * i / (batch - 1), hlab[i] = int32_t(i % 11);
        x.upload(hx);
        level.upload(hl);
        label.upload(hlab);
        engine::Timestamps ts(ctx, 512);
        engine::CommandBuffer plain(ctx), profiled(ctx);
        for (int pass = 0; pass < 2; ++pass) {
            engine::CommandBuffer& cmd = pass ? profiled : plain;
            net.set_profiler(pass ? &ts : nullptr);
            cmd.begin();
            if (pass) ts.reset(cmd);
            net.record_forward(cmd, x, level, label, y);
            if (training) {
                cmd.barrier();  // RAW: the backward reads the forward's activations (dout = x, any tensor will do)
                net.record_backward(cmd, x);
            }
            cmd.end();
        }
        plain.submit_and_wait();  // warm-up: pipelines finish compiling on their first run
        double wall = 1e30, total = 1e30;
        std::vector<engine::PassTime> best;
        for (int r = 0; r < reps; ++r) {
            const auto t0 = std::chrono::steady_clock::now();
            plain.submit_and_wait();
            wall = std::min(wall, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
            profiled.submit_and_wait();
            auto t = ts.read();
            double sum = 0;
            for (auto& p : t) sum += p.ms;
            if (sum < total) total = sum, best = t;
        }
        std::map<std::string, double> by_kind;
        for (auto& p : best) by_kind[kind(p.name)] += p.ms;
        std::printf("[unet] %s b%-2u wall %7.1f ms | layers %7.1f ms |", training ? "train" : "fwd  ", batch, wall, total);
        for (auto& [k, ms] : by_kind) std::printf(" %s %.1f |", k.c_str(), ms);
        std::printf("\n");
        if (std::getenv("NN_PERF_LAYERS"))
            for (auto& p : best) std::printf("    %-24s %8.2f ms\n", p.name.c_str(), p.ms);
    }
}

}  // namespace
