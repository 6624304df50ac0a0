// diffusion/cli/sample_common.hpp — what `sample` and `sample2d` share: the sampling options (sampler, steps,
// schedule, η, guidance, clipping, seed), turning them into a schedule + timesteps + SamplerOptions, the label
// argument, a progress bar on stderr, and GPU-timestamped per-step timing.
#pragma once
#include "diffusion/data/mnist.hpp"
#include "diffusion/model/weights.hpp"
#include "diffusion/oracle/empirical_oracle.hpp"
#include "diffusion/sampler/chain.hpp"
#include "engine/timestamps.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace diffuscope::cli {

struct SamplingArgs {
    std::string sampler = "ddim", schedule = "linear", spacing = "trailing", clip = "none", ddpm_sigma = "posterior";
    uint32_t steps = 50, timesteps = 0;  // 0: the schedule's own T (1000 for presets)
    float eta = 0.0f, guidance = 1.0f, percentile = 0.995f;
    uint64_t seed = 0;
    bool zero_terminal_snr = false, timing = false;
};
void add_sampling_options(CLI::App*, SamplingArgs&);

struct Sampling {
    ScheduleSpec spec;
    std::vector<uint32_t> timesteps;  // respaced, descending
    SamplerKind sampler;
    SamplerOptions options;
    float guidance;
    // Guidance doubles the batch only when it changes anything: w ≠ 1 and some label is not null.
    bool guided(const std::vector<int32_t>& labels) const;
};
Sampling make_sampling(const SamplingArgs&);  // throws with a message on any bad value

// "0"–"9" (all that digit), "all" (0–9 cycling), "none" (unconditional, label 10); `max_label` for toys.
std::vector<int32_t> parse_labels(const std::string&, uint32_t count, int32_t n_labels = 10);

class Progress {
public:
    Progress(std::string what, uint32_t samples, uint32_t steps, bool quiet);
    void update(uint32_t samples_started, uint32_t batch_size, uint32_t steps_done);
    void done();
    const std::string& what() const { return what_; }

private:
    std::string what_;
    uint32_t samples_, steps_;
    bool quiet_, tty_;
    int last_decile_ = -1;
    std::chrono::steady_clock::time_point start_, last_;
};

// Per-step GPU time by pass ("model", "sampler"), from the chain's profiler hook.
class StepTimer {
public:
    StepTimer(engine::Context&, bool enabled);
    bool enabled() const { return enabled_; }
    engine::Timestamps* timestamps() { return enabled_ ? &ts_ : nullptr; }
    void add(const std::vector<engine::PassTime>&);  // one step's passes
    void report(const std::string& model, uint32_t batch, bool guided) const;

private:
    engine::Context* ctx_;
    bool enabled_;
    engine::Timestamps ts_;
    std::map<std::string, double> total_ms_;
    std::vector<double> step_ms_;
};

// init + every step of the chain's current reset, in small submits (one per step when timing).
void run_chain(engine::Context&, Chain&, Progress&, StepTimer&, uint32_t first_sample, uint32_t samples_in_batch);

// The model of `sample` and `eval`: a trained UNet (weights) or, when there are none, the empirical oracle of
// `train` sized for `chains` chains (the chain's batch, doubled when guided).
struct SamplingModel {
    std::unique_ptr<oracle::EmpiricalOracle> oracle;  // owns the oracle when it is the model
    Denoiser denoiser;
    std::string name;
};
SamplingModel load_model(engine::Context&, const std::optional<nn::Weights>&, const std::string& weights_path,
                       const data::Mnist& train, uint32_t chains);

// Checks the chain's current batch, x = its first n samples ([n·dim], read after the last step), before anything
// is written: when sample k is not finite it replays the batch one step per submit (`reset` resets the chain as
// before the run) to find the first step after which it is, and throws, e.g.
//   "sample: sample 3 is not finite after step 17 of 20 (ddim); nothing written".
// `first` is the batch's first sample index (the message counts samples as the output does, from 0).
void require_finite_samples(engine::Context&, Chain&, const std::string& what, const std::vector<float>& x,
                            uint32_t first, uint32_t n, const std::function<void()>& reset);

// labels.size() samples from the chain (its batch B at a time; sample k uses RNG stream k, so the result does
// not depend on B), as pixels in [0, 1], [count·784]; a non-finite sample throws (require_finite_samples). after_batch(first, n) runs after each batch, while the
// chain still holds it (e.g. to read its trajectory).
std::vector<float> sample_images(engine::Context&, Chain&, const Sampling&, const std::vector<int32_t>& labels,
                                 Progress&, StepTimer&,
                                 const std::function<void(uint32_t first, uint32_t n)>& after_batch = {});

}  // namespace diffuscope::cli
