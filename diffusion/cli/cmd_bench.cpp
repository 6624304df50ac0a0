// `diffuscope bench`: GPU-timestamped measurements with the device named on every figure.
// Engine section: the cost of an empty submit + fence wait, and of one small dispatch (+ barrier) inside a
// command buffer — the floor under every per-layer figure. Then the UNet (forward, a training step, sampling,
// 100 digits with the bundled weights) and, when a python with torch is at hand, the same work in PyTorch on
// the CPU (python/bench_torch.py, diffusion/cli/bench_torch.hpp) with diffuscope / PyTorch ratios.
#include "diffusion/cli/bench_torch.hpp"
#include "diffusion/cli/cli.hpp"
#include "diffusion/cli/sample_common.hpp"
#include "diffusion/data/assets.hpp"
#include "diffusion/model/classifier.hpp"
#include "diffusion/model/unet_denoiser.hpp"
#include "diffusion/model/unet.hpp"
#include "diffusion/train/unet_trainer.hpp"
#include "engine/timestamps.hpp"

#include <map>
#include <random>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include <sys/resource.h>
#include <unistd.h>

namespace diffuscope::cli {

namespace {
// The 1-minute load average (/proc/loadavg; −1 where there is none): how many runnable processes shared the CPU.
double load_average() {
    std::ifstream f("/proc/loadavg");
    double one = -1;
    return f >> one ? one : -1;
}

// CPU seconds spent by everything on the machine (/proc/stat: all but idle and iowait) and by this process and
// its waited-for children: their difference over a run is what other processes took from it.
struct CpuClock {
    double all = 0, ours = 0;
    static CpuClock now() {
        CpuClock c;
        std::ifstream f("/proc/stat");
        std::string cpu;
        double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
        if (f >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal && cpu == "cpu")
            c.all = (user + nice + system + irq + softirq + steal) / double(sysconf(_SC_CLK_TCK));
        for (int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
            rusage u{};
            getrusage(who, &u);
            c.ours += double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
        }
        return c;
    }
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

nlohmann::json bench_engine(engine::Context& ctx) {
    using clock = std::chrono::steady_clock;
    nlohmann::json out;
    engine::CommandBuffer cmd(ctx);

    // Submit + fence latency: an empty command buffer, submitted and waited on, many times.
    cmd.begin();
    cmd.end();
    std::vector<double> submit_us;
    for (int i = 0; i < 200; ++i) {
        auto t0 = clock::now();
        cmd.submit_and_wait();
        submit_us.push_back(std::chrono::duration<double, std::micro>(clock::now() - t0).count());
    }
    out["submit_fence_us_median"] = median(submit_us);

    // Dispatch overhead: K one-workgroup saxpy dispatches separated by barriers, timed on the GPU.
    engine::ComputePipeline saxpy(ctx, {"test/saxpy.comp", 2, 8});
    engine::Buffer x(ctx, 64 * 4), y(ctx, 64 * 4);
    auto set = saxpy.bind({x, y});
    struct { uint32_t n; float a; } push{64, 1.0f};
    engine::Timestamps ts(ctx);
    const int K = 1000;
    cmd.begin();
    ts.reset(cmd);
    cmd.fill(x, 0);
    cmd.fill(y, 0);
    cmd.barrier();
    ts.begin(cmd, "dispatches");
    for (int k = 0; k < K; ++k) {
        cmd.dispatch(saxpy, set, push, 1);
        cmd.barrier();  // RAW/WAW on y between consecutive dispatches
    }
    ts.end(cmd);
    cmd.end();
    std::vector<double> gpu_us, wall_us;
    for (int rep = 0; rep < 5; ++rep) {
        auto t0 = clock::now();
        cmd.submit_and_wait();
        wall_us.push_back(std::chrono::duration<double, std::micro>(clock::now() - t0).count() / K);
        auto t = ts.read();
        if (!t.empty()) gpu_us.push_back(t[0].ms * 1e3 / K);
    }
    out["dispatch_barrier_us_gpu_median"] = median(gpu_us);
    out["dispatch_barrier_us_wall_median"] = median(wall_us);
    return out;
}

// The ceilings every pass is measured against, from the same run: a register-tiled SGEMM and a vec4 copy.
constexpr uint32_t k_sgemm_tn = 16;  // columns per lane; measured on llvmpipe with texel loads: 4: 16.8, 8: 16.4, 16: 18.5 GFLOP/s
// sgemm_rows.comp: rows × columns per invocation and k steps per load (docs/PERFORMANCE.md, SGEMM).
constexpr uint32_t k_sgemm_rows_tm = 16, k_sgemm_rows_tn = 16, k_sgemm_rows_ku = 4;

nlohmann::json bench_ceilings(engine::Context& ctx) {
    nlohmann::json out;
    engine::Timestamps ts(ctx);
    engine::CommandBuffer cmd(ctx);
    // 512³ fills a CPU driver's cores; a big GPU needs 4096³ (2048 workgroups) before it stops being latency-bound
    // (an NVIDIA H200 read 1.6 TFLOP/s at 512³), and 512 MiB for its bandwidth to leave the caches.
    const bool gpu = ctx.info().type != VK_PHYSICAL_DEVICE_TYPE_CPU;
    {
        const uint32_t M = gpu ? 4096 : 512, N = M, K = M;
        engine::Buffer a(ctx, K * M * 4), b(ctx, K * N * 4), c(ctx, M * N * 4);
        // Small integers keep every partial sum exact in float, so the product is checked exactly below.
        std::vector<float> ha(K * M), hb(K * N);
        for (uint32_t i = 0; i < K * M; ++i) ha[i] = float(int(i * 7u % 5u) - 2);
        for (uint32_t i = 0; i < K * N; ++i) hb[i] = float(int(i * 3u % 7u) - 3);
        a.upload(ha);
        b.upload(hb);
        struct { uint32_t M, N, K; } push{M, N, K};
        // Best of 10 for one kernel (its result checked exactly), in ms.
        auto time_gemm = [&](const engine::PipelineDesc& desc, uint32_t groups) {
            engine::ComputePipeline gemm(ctx, desc);
            auto set = gemm.bind({a, b, c});
            cmd.begin();
            ts.reset(cmd);
            cmd.fill(c, 0x7fc00000u);  // NaN: a kernel that skips part of C fails the check
            cmd.barrier();
            // Best of 10: each run is ~4 ms on llvmpipe, and the ceiling moves every ratio with it.
            // On a busy 2-core llvmpipe host best of 3 reads anywhere from 32 to 70 GFLOP/s.
            for (int rep = 0; rep < 10; ++rep) {
                ts.begin(cmd, "sgemm");
                cmd.dispatch(gemm, set, push, groups);
                ts.end(cmd);
                cmd.barrier();  // WAW on c between repetitions
            }
            cmd.end();
            cmd.submit_and_wait();
            auto hc = c.download_as<float>();
            for (uint32_t m = 0; m < M; m += 37)
                for (uint32_t n = 0; n < N; n += 29) {
                    double ref = 0;
                    for (uint32_t k = 0; k < K; ++k) ref += double(ha[k * M + m]) * hb[k * N + n];
                    if (hc[m * N + n] != float(ref))
                        throw std::runtime_error("bench: the SGEMM kernel " + desc.shader + " is wrong at C[" +
                                                 std::to_string(m) + "," + std::to_string(n) + "]: " +
                                                 std::to_string(hc[m * N + n]) + " vs " + std::to_string(ref));
                }
            std::vector<double> ms;
            for (auto& t : ts.read()) ms.push_back(t.ms);
            return *std::min_element(ms.begin(), ms.end());
        };
        // Two kernels; the ceiling is the faster in this run. Lanes sharing rows by shuffles (what GPUs run
        // best), and shared RGBA32F row texels with KU FMAs per accumulator in a row (the conv kernels' CPU
        // path: on llvmpipe the shuffle kernel is the slower one and would understate the ceiling).
        engine::PipelineDesc shuffle{"bench/sgemm.comp", 3, 12, {k_sgemm_tn}};
        shuffle.rgba32f_bindings = 2;  // B is read as vec4 texels
        engine::PipelineDesc rows{"bench/sgemm_rows.comp", 3, 12, {k_sgemm_rows_tm, k_sgemm_rows_tn, k_sgemm_rows_ku}};
        rows.rgba32f_bindings = 3;  // Aᵀ and B as vec4 texels
        const double ms_shuffle = time_gemm(shuffle, (M / 8) * (N / (8 * k_sgemm_tn)) * 8 / 64);
        const double ms_rows = time_gemm(rows, engine::groups_for(uint64_t(M / k_sgemm_rows_tm) * (N / k_sgemm_rows_tn), 64));
        const double best = std::min(ms_shuffle, ms_rows);
        const auto gflops = [&](double ms) { return 2.0 * M * N * K / (ms * 1e6); };
        out["sgemm"] = {{"M", M}, {"N", N}, {"K", K}, {"ms", best}, {"gflops", gflops(best)},
                        {"kernel", ms_rows < ms_shuffle ? "sgemm_rows" : "sgemm"},
                        {"kernels", {{"sgemm", gflops(ms_shuffle)}, {"sgemm_rows", gflops(ms_rows)}}}};
    }
    {
        const uint32_t bytes = gpu ? 512u << 20 : 32u << 20;
        engine::PipelineDesc copy_desc{"bench/bandwidth.comp", 2, 4};
        copy_desc.rgba32f_bindings = 1;  // binding 0 reads vec4 texels
        engine::ComputePipeline copy(ctx, copy_desc);
        engine::Buffer s(ctx, bytes), d(ctx, bytes);
        auto set = copy.bind({s, d});
        uint32_t n4 = bytes / 16;
        cmd.begin();
        ts.reset(cmd);
        cmd.fill(s, 0);
        cmd.barrier();
        for (int rep = 0; rep < 3; ++rep) {
            ts.begin(cmd, "copy");
            cmd.dispatch(copy, set, n4, engine::groups_for(n4, 64));
            ts.end(cmd);
            cmd.barrier();  // WAW on d between repetitions
        }
        cmd.end();
        cmd.submit_and_wait();
        std::vector<double> ms;
        for (auto& t : ts.read()) ms.push_back(t.ms);
        double best = *std::min_element(ms.begin(), ms.end());
        out["bandwidth"] = {{"bytes", 2.0 * bytes}, {"ms", best}, {"gbps", 2.0 * bytes / (best * 1e6)}};
    }
    return out;
}
// The UNet: forward at several batch sizes and a training step (forward + backward) at batch 64, each with
// per-layer GPU times. Reported as milliseconds, GFLOP/s and the fraction of the SGEMM ceiling.
nlohmann::json bench_unet(engine::Context& ctx, const nn::UNetConfig& cfg, double sgemm_gflops) {
    nlohmann::json out;
    auto table = nn::unet_params(cfg);
    auto params = nn::unet_init(cfg, table, 1);
    std::mt19937 gen(5);
    std::normal_distribution<float> d(0.0f, 0.05f);
    for (auto& v : params) v += d(gen);  // no zero-initialised output layer: every path does real work
    const double flops = nn::unet_flops_per_image(cfg);
    out["flops_per_image"] = flops;
    auto run = [&](uint32_t batch, bool training) {
        nn::UNet net(ctx, cfg, batch, training);
        net.param_buffer().upload(params);
        engine::Buffer x(ctx, batch * 784 * 4), level(ctx, batch * 4), label(ctx, batch * 4), y(ctx, batch * 784 * 4);
        std::vector<float> hx(batch * 784), hl(batch);
        std::vector<int32_t> hlab(batch);
        for (auto& v : hx) v = d(gen) * 20;
        for (uint32_t i = 0; i < batch; ++i) hl[i] = -8.0f + 16.0f * i / std::max(1u, batch - 1), hlab[i] = int32_t(i % 11);
        x.upload(hx);
        level.upload(hl);
        label.upload(hlab);
        engine::Timestamps ts(ctx, 512);
        net.set_profiler(&ts);
        engine::CommandBuffer cmd(ctx);
        cmd.begin();
        ts.reset(cmd);
        net.record_forward(cmd, x, level, label, y);
        if (training) {
            cmd.barrier();  // RAW: the backward reads the forward's activations (dout = x, any tensor will do)
            net.record_backward(cmd, x);
        }
        cmd.end();
        std::vector<engine::PassTime> best;
        double best_total = 1e30;
        // The best of repeated runs: the first pays for pipeline creation on some drivers, and a GPU idling between
        // 1-ms submissions sits at a low clock (an NVIDIA H200 timed the same forward at 1.2 and 5.0 ms in two
        // runs of two repetitions). Back-to-back for half a second (200 at most, 2 at least) lets the clocks rise.
        const auto start = std::chrono::steady_clock::now();
        for (int rep = 0; rep < 200; ++rep) {
            if (rep >= 2 && std::chrono::steady_clock::now() - start > std::chrono::milliseconds(500)) break;
            cmd.submit_and_wait();
            auto t = ts.read();
            double total = 0;
            for (auto& p : t) total += p.ms;
            if (total < best_total) best_total = total, best = t;
        }
        const double f = flops * batch * (training ? 3.0 : 1.0);
        nlohmann::json j{{"batch", batch}, {"ms", best_total}, {"gflop", f / 1e9}, {"gflops", f / (best_total * 1e6)},
                         {"fraction_of_sgemm", f / (best_total * 1e6) / sgemm_gflops}};
        for (auto& p : best) j["layers"].push_back({{"name", p.name}, {"ms", p.ms}});
        return j;
    };
    for (uint32_t b : {1u, 16u, 64u}) out["forward"].push_back(run(b, false));
    out["train_step"] = run(64, true);
    return out;
}
// What a user waits for: a whole 50-step DDIM sample of 16 digits with the UNet (random weights: the work is
// the same), plain and with classifier-free guidance (which doubles the batch through the UNet). Wall time,
// GPU time of the model and sampler passes per step.
nlohmann::json bench_sampling(engine::Context& ctx, const nn::UNetConfig& cfg) {
    nlohmann::json out;
    nn::Weights w{cfg, nn::unet_init(cfg, nn::unet_params(cfg), 3)};
    std::mt19937 gen(6);
    std::normal_distribution<float> d(0.0f, 0.05f);
    for (auto& v : w.flat) v += d(gen);
    Denoiser model = nn::unet_denoiser(ctx, w, "bench");
    for (float guidance : {1.0f, 2.0f}) {
        SamplingArgs args;
        args.steps = 50;
        args.guidance = guidance;
        const Sampling setup = make_sampling(args);
        const std::vector<int32_t> labels = parse_labels("all", 16);
        const bool guided = setup.guided(labels);
        ScheduleBuffer schedule(ctx);
        schedule.set(setup.spec);
        Chain chain(ctx, {setup.sampler, 16, 784, guided, uint32_t(setup.timesteps.size()), 0}, schedule, model);
        Progress progress("bench", 16, uint32_t(setup.timesteps.size()), true);
        StepTimer timer(ctx, false);
        SamplingArgs warm = args;
        warm.steps = 2;  // warm-up (pipelines compile on first use): every pass of a step, at a 25th of the cost
        sample_images(ctx, chain, make_sampling(warm), labels, progress, timer);
        const auto t0 = std::chrono::steady_clock::now();
        sample_images(ctx, chain, setup, labels, progress, timer);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        out.push_back({{"sampler", "ddim"}, {"steps", 50}, {"digits", 16}, {"guidance", guidance}, {"guided", guided},
                       {"seconds", s}, {"ms_per_step", 1000 * s / 50}});
    }
    return out;
}

// The real training step (diffusion/train/unet_trainer.cpp: batch drawn on the GPU, forward, MSE, backward, clipping,
// AdamW, EMA) at batch 64, v-prediction, on synthetic digits (the arithmetic does not depend on the pixels).
// Wall time per step, median of 5 after two warm-ups (PyTorch's: median of 4 after 2): the figure PyTorch's img/s
// is compared with. With a median of 3, one slow second of a shared 2-core host decides.
// On a shared 2-core llvmpipe host medians of 3 read 309–378 ms for steps whose passes sum to 306–309 ms.
nlohmann::json bench_trainer(engine::Context& ctx, const nn::UNetConfig& cfg) {
    train::TrainConfig tc;
    tc.model = cfg;
    tc.model.prediction = nn::Prediction::v;
    data::Mnist digits;
    digits.count = 1000, digits.rows = 28, digits.cols = 28;
    std::mt19937 gen(7);
    for (uint32_t i = 0; i < digits.count * 784; ++i) digits.pixels.push_back(uint8_t(gen() & 0xff));
    for (uint32_t i = 0; i < digits.count; ++i) digits.labels.push_back(uint8_t(i % 10));
    train::Trainer trainer(ctx, tc, digits);
    trainer.init();
    trainer.step();  // warm-ups
    trainer.step();
    std::vector<double> wall, gpu;
    for (int rep = 0; rep < 5; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        trainer.step();
        wall.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        gpu.push_back(trainer.last_step_gpu_ms());
    }
    const double ms = median(wall);
    return {{"batch", tc.batch}, {"ms", ms}, {"gpu_ms", median(gpu)}, {"images_per_s", 1000.0 * tc.batch / ms},
            {"includes", "batch draw, forward, MSE, backward, clip, AdamW, EMA"}};
}

// What the model is for: 100 digits (labels 0–9 in turn, one batch of 100 as `diffuscope eval`) from the
// bundled UNet, judged by the bundled classifier. Time to 100 digits judged correct = seconds per 100 digits /
// label accuracy. Two samplers (PyTorch runs both too, python/bench_torch.py):
// - the baseline, DDIM-20 with guidance 2 (assets/MODEL.md's headline);
// - the fast route, DPM-Solver++(2M) with 4 steps and guidance 1.5: 1000 digits by `diffuscope eval` gave label
//   accuracy 99.1 % and Fréchet distance 67.6 against the baseline's 99.5 % and 86.1 (docs/PERFORMANCE.md).
// The end-to-end target counts model, sampler and kernels together: our faster route against PyTorch's baseline.
struct DigitsTask {
    const char* key;
    const char* sampler;
    uint32_t steps;
    float guidance;
};
constexpr DigitsTask k_digit_tasks[] = {{"digits", "ddim", 20, 2.0f}, {"digits_fast", "dpmpp2m", 4, 1.5f}};

// Every route of k_digit_tasks, keyed by task.key, from one load of the bundled UNet and classifier.
nlohmann::json bench_digits(engine::Context& ctx) {
    nlohmann::json out;
    const auto unet_path = data::find_asset("unet.safetensors"), cls_path = data::find_asset("classifier.safetensors");
    if (unet_path.empty() || cls_path.empty()) {
        const nlohmann::json skipped = {
            {"skipped", std::string(unet_path.empty() ? "assets/unet.safetensors" : "assets/classifier.safetensors") +
                            " was not found (set DIFFUSCOPE_ASSETS)"}};
        for (const auto& task : k_digit_tasks) out[task.key] = skipped;
        return out;
    }
    const auto weights = nn::load_weights(unet_path);
    const auto judge = nn::load_classifier(cls_path);
    const Denoiser model = nn::unet_denoiser(ctx, weights, "unet " + unet_path.string());
    const uint32_t count = 100;
    const std::vector<int32_t> labels = parse_labels("all", count);
    for (const auto& task : k_digit_tasks) {
        SamplingArgs args;
        args.sampler = task.sampler;
        args.steps = task.steps;
        args.guidance = task.guidance;
        const Sampling setup = make_sampling(args);
        ScheduleBuffer schedule(ctx);
        schedule.set(setup.spec);
        Chain chain(ctx, {setup.sampler, count, 784, setup.guided(labels), uint32_t(setup.timesteps.size()), 0}, schedule,
                    model);
        Progress progress("bench", count, uint32_t(setup.timesteps.size()), true);
        StepTimer timer(ctx, false);
        // Warm-up, as bench_sampling's and python/bench_torch.py's (one untimed model call at the sampling batch):
        // 2 steps create every pipeline this batch and sampler use (a CPU driver compiles each on its first
        // dispatch, ~1 s in all on llvmpipe; 2 steps include DPM-Solver++(2M)'s second-order update).
        SamplingArgs warm = args;
        warm.steps = 2;
        sample_images(ctx, chain, make_sampling(warm), labels, progress, timer);
        const auto t0 = std::chrono::steady_clock::now();  // as `diffuscope eval`: sampling, not loading or judging
        const auto images = sample_images(ctx, chain, setup, labels, progress, timer);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const auto c = nn::classify(ctx, judge, images);
        uint32_t right = 0;
        for (uint32_t i = 0; i < count; ++i) right += c.predicted[i] == labels[i];
        const double accuracy = double(right) / count, per_100 = 100 * s / count;
        auto& o = out[task.key];
        o = {{"weights", unet_path.string()}, {"classifier", cls_path.string()}, {"sampler", task.sampler},
             {"steps", task.steps}, {"guidance", task.guidance}, {"count", count}, {"seed", args.seed},
             {"seconds", s}, {"seconds_per_100", per_100}, {"label_accuracy", accuracy}};
        o["seconds_per_100_correct"] = right ? nlohmann::json(per_100 / accuracy) : nlohmann::json(nullptr);
    }
    return out;
}
}  // namespace

void register_bench(CLI::App& app, GlobalOptions& g, Command& run) {
    auto* cmd = app.add_subcommand("bench", "Measure kernels with GPU timestamps (prints a table; --json for scripts)");
    auto json_path = std::make_shared<std::string>();
    cmd->add_option("--json", *json_path, "Also write the figures as JSON to this file");
    auto torch_option = std::make_shared<std::string>("auto");
    cmd->add_option("--torch", *torch_option,
                    "PyTorch CPU baseline (python/bench_torch.py) in the same run: auto (/usr/bin/python3 if it has "
                    "torch), off, or the python to use")
        ->capture_default_str();
    cmd->callback([&g, &run, json_path, torch_option] {
        run = [&g, json_path, torch_option] {
            const auto start = std::chrono::steady_clock::now();
            const TorchBench torch_bench = find_torch_bench(*torch_option);
            const double load_at_start = load_average();
            const CpuClock cpu_at_start = CpuClock::now();
            auto ctx = make_context(g);
            const std::string device = ctx->info().name;
            nlohmann::json j;
            j["device"] = device;
            j["driver"] = ctx->info().driver_name;
            j["engine"] = bench_engine(*ctx);
            j["ceilings"] = bench_ceilings(*ctx);
            const double sgemm = j["ceilings"]["sgemm"]["gflops"].get<double>();
            nn::UNetConfig cfg;
            j["unet"] = bench_unet(*ctx, cfg, sgemm);
            j["sampling"] = bench_sampling(*ctx, cfg);
            j["trainer"] = bench_trainer(*ctx, cfg);
            j.update(bench_digits(*ctx));  // "digits", "digits_fast"
            if (!g.quiet && torch_bench.skipped.empty())
                std::fprintf(stderr, "bench: the PyTorch baseline: %s %s …\n", torch_bench.python.c_str(),
                             torch_bench.script.string().c_str());
            j["torch"] = run_torch_bench(torch_bench);  // after our own work: the two never share the CPU
            j["vs_torch"] = compare_with_torch(j, j["torch"]);
            auto& e = j["engine"];
            std::printf("device: %s (%s)\n", device.c_str(), ctx->info().driver_name.c_str());
            std::printf("  %-44s %10.1f µs\n", "empty submit + fence wait (median of 200)", e["submit_fence_us_median"].get<double>());
            std::printf("  %-44s %10.2f µs\n", "1-workgroup dispatch + barrier, GPU time", e["dispatch_barrier_us_gpu_median"].get<double>());
            std::printf("  %-44s %10.2f µs\n", "1-workgroup dispatch + barrier, wall time", e["dispatch_barrier_us_wall_median"].get<double>());
            auto& c = j["ceilings"];
            const std::string sgemm_label = "SGEMM " + std::to_string(c["sgemm"]["M"].get<uint32_t>()) + "³ ceiling";
            const std::string copy_label = "memory bandwidth (" +
                                           std::to_string(uint64_t(c["bandwidth"]["bytes"].get<double>() / 2) >> 20) +
                                           " MiB vec4 copy)";
            std::printf("  %-44s %10.2f GFLOP/s (%.2f ms; the faster of sgemm %.2f, sgemm_rows %.2f)\n",
                        sgemm_label.c_str(), c["sgemm"]["gflops"].get<double>(), c["sgemm"]["ms"].get<double>(),
                        c["sgemm"]["kernels"]["sgemm"].get<double>(), c["sgemm"]["kernels"]["sgemm_rows"].get<double>());
            std::printf("  %-44s %10.2f GB/s\n", copy_label.c_str(), c["bandwidth"]["gbps"].get<double>());
            auto& u = j["unet"];
            std::printf("UNet base %u: %.1f MFLOP/image forward (a training step counts 3×)\n", cfg.base,
                        u["flops_per_image"].get<double>() / 1e6);
            std::printf("  %-28s %10s %10s %10s\n", "pass", "ms", "GFLOP/s", "of SGEMM");
            auto row = [](const std::string& name, const nlohmann::json& r) {
                std::printf("  %-28s %10.1f %10.2f %9.0f%%\n", name.c_str(), r["ms"].get<double>(),
                            r["gflops"].get<double>(), 100 * r["fraction_of_sgemm"].get<double>());
            };
            for (auto& f : u["forward"]) row("forward, batch " + std::to_string(f["batch"].get<int>()), f);
            row("forward + backward, batch 64", u["train_step"]);
            // The slowest layers of the training step, summed over repeats of a name.
            std::map<std::string, double> by_name;
            for (auto& l : u["train_step"]["layers"]) by_name[l["name"]] += l["ms"].get<double>();
            std::vector<std::pair<double, std::string>> top;
            for (auto& [n, ms] : by_name) top.push_back({ms, n});
            std::sort(top.rbegin(), top.rend());
            std::printf("  slowest layers of forward + backward:\n");
            for (size_t i = 0; i < std::min<size_t>(12, top.size()); ++i)
                std::printf("    %-26s %10.1f ms\n", top[i].second.c_str(), top[i].first);
            for (auto& r : j["sampling"])
                std::printf("  %-44s %8.2f s (%.0f ms per step, wall)\n",
                            (std::string("DDIM-50 sample of 16 digits") + (r["guided"].get<bool>() ? ", guidance 2" : "")).c_str(),
                            r["seconds"].get<double>(), r["ms_per_step"].get<double>());
            auto& t = j["trainer"];
            std::printf("  %-44s %8.0f ms (%.1f img/s, wall)\n", "trainer step, batch 64 (+ MSE, AdamW, EMA)",
                        t["ms"].get<double>(), t["images_per_s"].get<double>());
            for (const auto& task : k_digit_tasks) {
                auto& d = j[task.key];
                if (d.contains("skipped")) {
                    std::printf("  100 digits with the bundled UNet: skipped: %s\n", d["skipped"].get<std::string>().c_str());
                    break;
                }
                std::printf("  %-44s %8.2f s (label accuracy %.0f %%, bundled classifier)\n",
                            ("100 digits, bundled UNet, " + digits_config(d)).c_str(), d["seconds"].get<double>(),
                            100 * d["label_accuracy"].get<double>());
                if (!d["seconds_per_100_correct"].is_null())
                    std::printf("  %-44s %8.2f s\n", "  time to 100 digits judged correct",
                                d["seconds_per_100_correct"].get<double>());
            }
            print_torch_comparison(j["torch"], j["vs_torch"]);
            const double total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            const CpuClock cpu_at_end = CpuClock::now();
            const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
            // The share of all CPUs' time in this run that went to other processes.
            const double others = std::clamp(((cpu_at_end.all - cpu_at_start.all) - (cpu_at_end.ours - cpu_at_start.ours)) /
                                                 (total_s * cpus), 0.0, 1.0);
            j["total_seconds"] = total_s;
            j["machine"] = {{"cpus", cpus}, {"load_average_at_start", load_at_start}, {"cpu_share_of_other_processes", others}};
            std::printf("bench: %.0f s in all; other processes took %.0f %% of the %u CPUs meanwhile (load average %.2f "
                        "at the start)\n", total_s, 100 * others, cpus, load_at_start);
            if (others > 0.1)
                std::printf("bench: every figure is slower than on a quiet machine, PyTorch's most (its threads wait on "
                            "each other)\n");
            if (!json_path->empty()) {
                std::ofstream f(*json_path);
                if (!f) throw std::runtime_error("--json " + *json_path + ": cannot open for writing");
                f << j.dump(2) << "\n";
            }
            return 0;
        };
    });
}

}  // namespace diffuscope::cli
