// `diffuscope bench`: GPU-timestamped measurements with the device named on every figure.
// Engine section: the cost of an empty submit + fence wait, and of one small dispatch (+ barrier) inside a
// command buffer — the floor under every per-layer figure.
#include "diffusion/app/cli.hpp"
#include "engine/timestamps.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>

namespace diffuscope::app {

namespace {
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
}  // namespace

void register_bench(CLI::App& app, GlobalOptions& g, Command& run) {
    auto* cmd = app.add_subcommand("bench", "Measure kernels with GPU timestamps (prints a table; --json for scripts)");
    auto json_path = std::make_shared<std::string>();
    cmd->add_option("--json", *json_path, "Also write the figures as JSON to this file");
    cmd->callback([&g, &run, json_path] {
        run = [&g, json_path] {
            auto ctx = make_context(g);
            const std::string device = ctx->info().name;
            nlohmann::json j;
            j["device"] = device;
            j["driver"] = ctx->info().driver_name;
            j["engine"] = bench_engine(*ctx);
            auto& e = j["engine"];
            std::printf("device: %s (%s)\n", device.c_str(), ctx->info().driver_name.c_str());
            std::printf("  %-44s %10.1f µs\n", "empty submit + fence wait (median of 200)", e["submit_fence_us_median"].get<double>());
            std::printf("  %-44s %10.2f µs\n", "1-workgroup dispatch + barrier, GPU time", e["dispatch_barrier_us_gpu_median"].get<double>());
            std::printf("  %-44s %10.2f µs\n", "1-workgroup dispatch + barrier, wall time", e["dispatch_barrier_us_wall_median"].get<double>());
            if (!json_path->empty()) {
                std::ofstream f(*json_path);
                if (!f) throw std::runtime_error("--json " + *json_path + ": cannot open for writing");
                f << j.dump(2) << "\n";
            }
            return 0;
        };
    });
}

}  // namespace diffuscope::app
