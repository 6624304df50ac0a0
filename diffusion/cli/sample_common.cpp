#include "diffusion/cli/sample_common.hpp"
#include "diffusion/cli/option_checks.hpp"
#include "diffusion/model/unet_denoiser.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <cstdio>
#include <unistd.h>

namespace diffuscope::cli {

void add_sampling_options(CLI::App* cmd, SamplingArgs& a) {
    cmd->add_option("--sampler", a.sampler,
                    "ddpm (ancestral), ddim (η), euler / heun (probability-flow ODE), sde (Euler–Maruyama), "
                    "dpmpp2m (DPM-Solver++ 2M)")
        ->capture_default_str();
    cmd->add_option("--steps", a.steps, "Sampling steps S (respaced from the T timesteps)")
        ->check(whole_range<uint32_t>(1, 4000))
        ->capture_default_str();
    cmd->add_option("--schedule", a.schedule, "linear, scaled-linear, quadratic, cosine, sigmoid, or a curve .json")
        ->capture_default_str();
    cmd->add_option("--timesteps", a.timesteps, "Schedule length T; default 1000 or the curve file's")
        ->check(whole_range<uint32_t>(2, 4000));
    cmd->add_option("--spacing", a.spacing, "Which S of the T timesteps: trailing, leading or linspace")->capture_default_str();
    cmd->add_flag("--zero-terminal-snr", a.zero_terminal_snr, "Rescale the schedule to zero terminal SNR (Lin et al. 2023)");
    cmd->add_option("--eta", a.eta, "DDIM η: 0 deterministic, 1 as noisy as DDPM")
        ->check(finite_range(0, 1))
        ->capture_default_str();
    cmd->add_option("--guidance", a.guidance,
                    "Classifier-free guidance w: ε̂ = ε̂_null + w (ε̂_label − ε̂_null); 1 = plain conditional")
        ->check(finite_range(-20, 100))
        ->capture_default_str();
    cmd->add_option("--clip", a.clip, "x̂₀ clipping: none, clip ([-1, 1]) or dynamic (Imagen's thresholding)")
        ->capture_default_str();
    cmd->add_option("--percentile", a.percentile, "Dynamic thresholding percentile")
        ->check(finite_above(0, 1))
        ->capture_default_str();
    cmd->add_option("--ddpm-sigma", a.ddpm_sigma, "DDPM noise: posterior (σ² = β̃) or beta (σ² = β)")->capture_default_str();
    cmd->add_option("--seed", a.seed, "RNG seed: the same seed gives the same bytes")
        ->check(whole_of<uint64_t>())
        ->capture_default_str();
    cmd->add_flag("--timing", a.timing, "Print GPU-timestamped milliseconds per step (model and sampler passes)");
}

bool Sampling::guided(const std::vector<int32_t>& labels) const {
    return guidance != 1.0f && std::any_of(labels.begin(), labels.end(), [](int32_t l) { return l != null_label; });
}

Sampling make_sampling(const SamplingArgs& a) {
    Sampling s;
    s.sampler = sampler_from_name(a.sampler);
    s.spec = schedule_from_name(a.schedule);
    if (a.timesteps) s.spec.timesteps = a.timesteps;
    if (a.zero_terminal_snr) s.spec.zero_terminal_snr = true;
    check_schedule(s.spec);
    if (a.steps == 0 || a.steps > s.spec.timesteps)
        throw std::invalid_argument("--steps " + std::to_string(a.steps) + " must be in [1, T = " +
                                    std::to_string(s.spec.timesteps) + "]");
    s.timesteps = respace(s.spec.timesteps, a.steps, spacing_from_name(a.spacing));
    SamplerOptions& o = s.options;
    if (!(a.eta >= 0 && a.eta <= 1)) throw std::invalid_argument("--eta must be in [0, 1]");
    if (!std::isfinite(a.guidance)) throw std::invalid_argument("--guidance must be a number");
    o.eta = a.eta;
    o.guidance = s.guidance = a.guidance;
    if (a.clip == "none") o.clip = ClipMode::none;
    else if (a.clip == "clip") o.clip = ClipMode::clip;
    else if (a.clip == "dynamic") o.clip = ClipMode::dynamic;
    else throw std::invalid_argument("--clip " + a.clip + ": use none, clip or dynamic");
    if (!(a.percentile > 0 && a.percentile <= 1)) throw std::invalid_argument("--percentile must be in (0, 1]");
    o.percentile = a.percentile;
    if (a.ddpm_sigma == "posterior") o.ddpm_sigma = DdpmSigma::posterior;
    else if (a.ddpm_sigma == "beta") o.ddpm_sigma = DdpmSigma::beta;
    else throw std::invalid_argument("--ddpm-sigma " + a.ddpm_sigma + ": use posterior or beta");
    o.seed = a.seed;
    return s;
}

std::vector<int32_t> parse_labels(const std::string& l, uint32_t count, int32_t n_labels) {
    std::vector<int32_t> out(count);
    if (l == "all") {
        for (uint32_t i = 0; i < count; ++i) out[i] = int32_t(i % uint32_t(n_labels));
    } else if (l == "none") {
        std::fill(out.begin(), out.end(), null_label);
    } else {
        int v = -1;
        try {
            size_t used = 0;
            v = std::stoi(l, &used);
            if (used != l.size()) v = -1;
        } catch (const std::exception&) {
        }
        if (v < 0 || v >= n_labels)
            throw std::invalid_argument("--label " + l + ": use a label 0–" + std::to_string(n_labels - 1) +
                                        ", 'all' or 'none'");
        std::fill(out.begin(), out.end(), v);
    }
    return out;
}

Progress::Progress(std::string what, uint32_t samples, uint32_t steps, bool quiet)
    : what_(std::move(what)), samples_(samples), steps_(steps), quiet_(quiet), tty_(isatty(2)),
      start_(std::chrono::steady_clock::now()), last_(start_) {}

void Progress::update(uint32_t started, uint32_t batch, uint32_t steps_done) {
    if (quiet_) return;
    const double frac = (double(started) + double(batch) * steps_done / steps_) / samples_;
    const auto now = std::chrono::steady_clock::now();
    const double secs = std::chrono::duration<double>(now - start_).count();
    if (tty_) {
        if (frac < 1 && now - last_ < std::chrono::milliseconds(100)) return;
        last_ = now;
        const int width = 30, fill = int(frac * width + 0.5);
        std::fprintf(stderr, "\r%s [%s%s] %3.0f%%  samples %u–%u of %u, step %u/%u  %.1f s ", what_.c_str(),
                     std::string(fill, '#').c_str(), std::string(width - fill, '.').c_str(), 100 * frac, started + 1,
                     std::min(samples_, started + batch), samples_, steps_done, steps_, secs);
    } else if (int(frac * 10) > last_decile_) {  // a log, not a bar: one line per 10 %
        last_decile_ = int(frac * 10);
        std::fprintf(stderr, "%s: %3.0f%% (%.1f s)\n", what_.c_str(), 100 * frac, secs);
    }
}

void Progress::done() {
    if (!quiet_ && tty_) std::fprintf(stderr, "\n");
}

StepTimer::StepTimer(engine::Context& ctx, bool enabled) : ctx_(&ctx), enabled_(enabled), ts_(ctx, 64) {
    if (enabled && !ts_.supported()) {
        std::fprintf(stderr, "timing: %s has no timestamps on its compute queue; --timing ignored\n", ctx.info().name.c_str());
        enabled_ = false;
    }
}

void StepTimer::add(const std::vector<engine::PassTime>& passes) {
    double step = 0;
    for (const auto& p : passes) {
        total_ms_[p.name] += p.ms;
        step += p.ms;
    }
    step_ms_.push_back(step);
}

void StepTimer::report(const std::string& model, uint32_t batch, bool guided) const {
    if (!enabled_ || step_ms_.empty()) return;
    const double n = double(step_ms_.size());
    auto sorted = step_ms_;
    std::sort(sorted.begin(), sorted.end());
    std::printf("per step, %u samples%s, %s, on %s:\n", batch, guided ? " (model batch doubled for guidance)" : "",
                model.c_str(), ctx_->info().name.c_str());
    for (const auto& [name, ms] : total_ms_) std::printf("  %-8s %9.3f ms\n", name.c_str(), ms / n);
    std::printf("  %-8s %9.3f ms (median %.3f, %zu steps)\n", "total", std::accumulate(step_ms_.begin(), step_ms_.end(), 0.0) / n,
                sorted[sorted.size() / 2], step_ms_.size());
    nlohmann::json j = {{"device", ctx_->info().name}, {"model", model}, {"batch", batch}, {"guided", guided},
                        {"steps", step_ms_.size()}, {"median_step_ms", sorted[sorted.size() / 2]}};
    for (const auto& [name, ms] : total_ms_) j["mean_ms"][name] = ms / n;
    std::printf("%s\n", j.dump().c_str());
}

void run_chain(engine::Context& ctx, Chain& chain, Progress& progress, StepTimer& timer, uint32_t first, uint32_t n) {
    const uint32_t S = chain.steps();
    engine::CommandBuffer cmd(ctx);
    cmd.begin(true);
    chain.record_init(cmd);
    cmd.end();
    cmd.submit_and_wait();
    chain.set_profiler(timer.timestamps());
    const uint32_t per_submit = timer.enabled() ? 1 : std::max<uint32_t>(1, std::min<uint32_t>(10, S / 20 + 1));
    for (uint32_t done = 0; done < S;) {
        const uint32_t k = std::min(per_submit, S - done);
        cmd.begin(true);
        if (timer.enabled()) timer.timestamps()->reset(cmd);
        cmd.barrier_from_host();  // RAW: parameters written by the host
        for (uint32_t j = 0; j < k; ++j) chain.record_step(cmd, done + j + 1 == S);
        cmd.barrier_to_host();
        cmd.end();
        cmd.submit_and_wait();
        if (timer.enabled()) timer.add(timer.timestamps()->read());
        done += k;
        progress.update(first, n, done);
    }
    chain.set_profiler(nullptr);
}

void require_finite_samples(engine::Context& ctx, Chain& chain, const std::string& what, const std::vector<float>& x,
                            uint32_t first, uint32_t n, const std::function<void()>& reset) {
    const uint32_t dim = chain.config().dim;
    auto bad_sample = [&](const std::vector<float>& v) -> int64_t {
        for (size_t i = 0; i < size_t(n) * dim; ++i)
            if (!std::isfinite(v[i])) return int64_t(i / dim);
        return -1;
    };
    const int64_t k = bad_sample(x);
    if (k < 0) return;
    // The chain is a function of (seed, sample index): the replay takes the same path, one step at a time.
    const uint32_t S = chain.steps();
    reset();
    engine::CommandBuffer cmd(ctx);
    uint32_t step = 0;
    for (; step <= S; ++step) {
        cmd.begin(true);
        if (step == 0) {
            chain.record_init(cmd);
        } else {
            cmd.barrier_from_host();  // RAW: parameters written by the host
            chain.record_step(cmd, step == S);
        }
        cmd.barrier_to_host();
        cmd.end();
        cmd.submit_and_wait();
        const auto now = chain.x().download_as<float>(size_t(n) * dim);
        if (!std::all_of(now.begin() + k * dim, now.begin() + (k + 1) * dim, [](float v) { return std::isfinite(v); }))
            break;
    }
    const std::string where = step == 0 ? "at the start (x_T)" : step > S ? "after the last step (replay found none earlier)"
                                                                          : "after step " + std::to_string(step) + " of " + std::to_string(S);
    throw std::runtime_error(what + ": sample " + std::to_string(first + uint64_t(k)) + " is not finite " + where + " (" +
                             sampler_name(chain.config().sampler) + "); nothing written");
}

std::vector<float> sample_images(engine::Context& ctx, Chain& chain, const Sampling& setup,
                                 const std::vector<int32_t>& labels, Progress& progress, StepTimer& timer,
                                 const std::function<void(uint32_t, uint32_t)>& after_batch) {
    const uint32_t count = uint32_t(labels.size()), B = chain.config().batch, dim = chain.config().dim;
    std::vector<float> images(size_t(count) * dim);
    for (uint32_t first = 0; first < count; first += B) {
        const uint32_t n = std::min(B, count - first);
        std::vector<int32_t> lb(labels.begin() + first, labels.begin() + first + n);
        lb.resize(B, null_label);  // a short last batch: the spare chains run unconditionally and are dropped
        SamplerOptions o = setup.options;
        o.first_index = first;
        chain.reset(setup.timesteps, lb, o);
        run_chain(ctx, chain, progress, timer, first, n);
        auto x = chain.x().download_as<float>(size_t(n) * dim);
        require_finite_samples(ctx, chain, progress.what(), x, first, n, [&] { chain.reset(setup.timesteps, lb, o); });
        for (size_t i = 0; i < x.size(); ++i) images[size_t(first) * dim + i] = std::clamp(0.5f * (x[i] + 1), 0.0f, 1.0f);
        if (after_batch) after_batch(first, n);
    }
    return images;
}

SamplingModel load_model(engine::Context& ctx, const std::optional<nn::Weights>& weights, const std::string& path,
                       const data::Mnist& train, uint32_t chains) {
    SamplingModel m;
    if (weights) {
        m.denoiser = nn::unet_denoiser(ctx, *weights, "unet " + path);
        m.name = "UNet base " + std::to_string(weights->config.base) + ", " + prediction_name(m.denoiser.prediction) +
                 "-prediction (" + path + ")";
    } else {
        m.oracle = std::make_unique<oracle::EmpiricalOracle>(ctx, train.pixels, train.labels, 784, chains);
        m.denoiser = m.oracle->denoiser();
        m.name = "empirical oracle (" + std::to_string(train.count) + " training images)";
    }
    return m;
}

}  // namespace diffuscope::cli
