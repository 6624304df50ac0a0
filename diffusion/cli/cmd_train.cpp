// `diffuscope train`: trains the UNet on MNIST's training split with a progress bar, a JSONL loss log next to
// the checkpoint, atomic checkpoints every N steps and on Ctrl-C, bit-for-bit resume, and NaN handling.
#include "diffusion/cli/cli.hpp"
#include "diffusion/io/atomic_file.hpp"
#include "diffusion/io/file_lock.hpp"
#include "diffusion/train/unet_trainer.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>

namespace diffuscope::cli {

namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_sigint(int) { g_stop = true; }

struct TrainArgs {
    std::string data, out = "checkpoint.safetensors", resume, export_path;
    uint64_t steps = 0;
    double minutes = 0;
    uint32_t checkpoint_every = 500;
    uint32_t max_bad_steps = 20;
    std::string prediction = "v";
    train::TrainConfig cfg;
};

std::string duration(double s) {
    char b[32];
    if (s >= 3600) std::snprintf(b, sizeof b, "%dh%02dm", int(s / 3600), int(s / 60) % 60);
    else std::snprintf(b, sizeof b, "%dm%02ds", int(s / 60), int(s) % 60);
    return b;
}

int run_train(const GlobalOptions& g, TrainArgs a) {
    (void)io::replaceable_target(a.out);     // a device or folder as --out fails now, not after the training
    const io::FileLock lock(a.out, "train");  // one run per --out: no interleaved loss log, no lost checkpoint
    if (a.steps == 0 && a.minutes <= 0) a.steps = 5000;
    a.cfg.model.prediction = a.prediction == "eps" ? nn::Prediction::eps : nn::Prediction::v;
    auto dir = a.data.empty() ? data::default_data_dir() : std::filesystem::path(a.data);
    auto split = data::split_mnist(data::load_mnist_dir(dir));
    std::fprintf(stderr, "train: %u training digits from %s (%u held out)\n", split.train.count, dir.c_str(),
                 split.heldout.count);
    auto ctx = make_context(g);
    train::Trainer t(*ctx, a.cfg, split.train);
    if (!a.resume.empty()) {
        t.load(a.resume);
        std::fprintf(stderr, "train: resumed %s at step %llu\n", a.resume.c_str(), (unsigned long long)t.steps_done());
    } else {
        t.init();
    }
    std::fprintf(stderr, "train: UNet base %u, %u parameters, %.1f MFLOP/image forward, batch %u on %s\n",
                 a.cfg.model.base, t.unet().params().total(), t.unet().flops_per_image() / 1e6, a.cfg.batch,
                 ctx->info().name.c_str());

    std::filesystem::path out(a.out);
    std::filesystem::path log_path = out;
    log_path.replace_extension(".log.jsonl");
    std::ofstream log(log_path, std::ios::app);
    if (!log) throw std::runtime_error(log_path.string() + ": cannot open the loss log for writing");

    g_stop = false;
    auto old = std::signal(SIGINT, on_sigint);
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    const uint64_t first = t.steps_done(), target = a.steps ? first + a.steps : UINT64_MAX;
    double smooth = 0, log_sum = 0;
    uint32_t log_n = 0, bad_run = 0, skipped_total = 0;
    int rc = 0;
    bool have_good_checkpoint = !a.resume.empty();
    while (t.steps_done() < target && !g_stop) {
        double elapsed = std::chrono::duration<double>(clock::now() - t0).count();
        if (a.minutes > 0 && elapsed >= a.minutes * 60) break;
        auto r = t.step();
        uint64_t s = t.steps_done();
        if (r.skipped) {
            ++bad_run;
            ++skipped_total;
            std::fprintf(stderr, "\ntrain: step %llu: loss %g, gradient norm %g is not finite — step skipped, weights "
                                 "unchanged (%u in a row)\n",
                         (unsigned long long)s, r.loss, r.grad_norm, bad_run);
            if (bad_run >= a.max_bad_steps) {
                std::fprintf(stderr, "train: %u non-finite steps in a row: stopping. %s\n", bad_run,
                             have_good_checkpoint ? ("The last good checkpoint, " + out.string() + ", is intact.").c_str()
                                                  : "No checkpoint was written.");
                rc = 4;
                break;
            }
            continue;
        }
        bad_run = 0;
        smooth = (s - first == 1) ? r.loss : 0.98 * smooth + 0.02 * r.loss;
        log_sum += r.loss;
        ++log_n;
        if (log_n == 10) {
            log << "{\"step\": " << s << ", \"loss\": " << log_sum / log_n << ", \"grad_norm\": " << r.grad_norm
                << ", \"elapsed_s\": " << elapsed << ", \"gpu_ms\": " << t.last_step_gpu_ms() << "}\n";
            log.flush();
            log_sum = 0;
            log_n = 0;
        }
        double rate = double(s - first) / std::max(1e-9, std::chrono::duration<double>(clock::now() - t0).count());
        double eta = a.steps ? double(target - s) / rate : a.minutes * 60 - elapsed;
        std::fprintf(stderr, "\rtrain: step %llu%s  loss %.4f  %.2f step/s  %.0f img/s  ETA %s   ",
                     (unsigned long long)s, a.steps ? ("/" + std::to_string(target)).c_str() : "", smooth, rate,
                     rate * a.cfg.batch, duration(std::max(0.0, eta)).c_str());
        if (a.checkpoint_every && s % a.checkpoint_every == 0) {
            t.save(out);
            have_good_checkpoint = true;
        }
    }
    std::signal(SIGINT, old);
    std::fprintf(stderr, "\n");
    if (rc == 0) {
        t.save(out);
        std::fprintf(stderr, "train: %s at step %llu%s (loss log %s)\n", g_stop ? "interrupted; checkpoint written" : "done",
                     (unsigned long long)t.steps_done(), skipped_total ? (", " + std::to_string(skipped_total) + " steps skipped").c_str() : "",
                     log_path.c_str());
        if (!a.export_path.empty()) {
            t.export_ema(a.export_path);
            std::fprintf(stderr, "train: EMA weights written to %s\n", a.export_path.c_str());
        }
    }
    return g_stop && rc == 0 ? 130 : rc;
}
}  // namespace

void register_train(CLI::App& app, GlobalOptions& g, Command& run) {
    auto a = std::make_shared<TrainArgs>();
    auto* cmd = app.add_subcommand("train", "Train the UNet on MNIST (checkpoints are atomic; Ctrl-C saves and stops)");
    cmd->add_option("--data", a->data, "Folder with MNIST IDX files (default: the bundled data/mnist)");
    cmd->add_option("--steps", a->steps, "Steps to run, at least 1 (default 5000 unless --minutes; with both, the first "
                                         "reached stops)")
        ->check(whole_range<uint64_t>(1, 1'000'000'000));
    cmd->add_option("--minutes", a->minutes, "Stop after this many minutes (more than 0)")
        ->check(finite_above(0, 525'600, "minutes"));
    cmd->add_option("--batch", a->cfg.batch, "Images per step")->check(whole_range<uint32_t>(1, 1024));
    cmd->add_option("--lr", a->cfg.lr, "AdamW learning rate (after a linear warm-up)")->check(finite_range(1e-6, 1));
    cmd->add_option("--warmup", a->cfg.warmup, "Warm-up steps")->check(whole_of<uint32_t>());
    cmd->add_option("--ema", a->cfg.ema_decay, "EMA decay of the weights")->check(finite_range(0, 0.99999));
    cmd->add_option("--base", a->cfg.model.base, "UNet width C (C, 2C, 4C channels)")->check(whole_range<uint32_t>(8, 128));
    cmd->add_option("--prediction", a->prediction,
                    "What the network predicts: v (default; x̂₀ = α·xₜ − σ·v̂ stays bounded at high noise, so short runs "
                    "sample cleanly) or eps (ε̂, Ho et al. 2020)")
        ->check(CLI::IsMember({"v", "eps"}))
        ->capture_default_str();
    cmd->add_option("--p-uncond", a->cfg.p_uncond, "Fraction of null labels (for guidance)")->check(finite_range(0, 1));
    cmd->add_option("--seed", a->cfg.seed, "Seed of the initialisation and of every batch")
        ->check(whole_of<uint64_t>());
    cmd->add_option("--out", a->out, "Checkpoint to write (the loss log goes beside it)");
    cmd->add_option("--resume", a->resume, "Continue from this checkpoint, bit for bit");
    cmd->add_option("--checkpoint-every", a->checkpoint_every, "Write the checkpoint every N steps (0: only at the end)")
        ->check(whole_of<uint32_t>());
    cmd->add_option("--export", a->export_path, "Also write the EMA weights alone (for sample and the visualiser)");
    cmd->callback([&g, &run, a] { run = [&g, a] { return run_train(g, *a); }; });
}

}  // namespace diffuscope::cli
