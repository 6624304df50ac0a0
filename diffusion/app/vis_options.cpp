#include "diffusion/app/vis_options.hpp"
#include "diffusion/data/assets.hpp"

#include "diffusion/data/toy2d.hpp"

#include <algorithm>

namespace diffuscope::app {

void add_vis_options(CLI::App& cmd, VisOptions& o) {
    cmd.add_option("--chains", o.chains, "Chains sampled side by side")->check(CLI::IsMember({1, 4, 16, 64}));
    cmd.add_option("--label", o.label, "The digit to sample (0–9)")->check(CLI::Range(0, 9));
    cmd.add_option("--labels", o.labels, "fixed (all --label), per-chain (chain k draws k mod 10), or none "
                                         "(unconditional)")->check(CLI::IsMember({"fixed", "per-chain", "none"}));
    cmd.add_option("--guidance", o.guidance, "Classifier-free guidance weight w (1 = conditional)")->check(CLI::Range(0.0, 10.0));
    cmd.add_option("--seed", o.seed, "Seed of the initial noise and of η's noise");
    cmd.add_option("--T", o.T, "Training timesteps T of the schedule")->check(CLI::Range(2, 4000));
    cmd.add_option("--steps", o.steps, "Sampling steps (≤ T)")->check(CLI::Range(1, 4000));
    cmd.add_option("--schedule", o.schedule, "β schedule: linear, scaled-linear, quadratic, cosine, sigmoid, or curve "
                                             "(7 control points of β(t) to drag in the window)")
        ->check(CLI::IsMember({"linear", "scaled-linear", "quadratic", "cosine", "sigmoid", "curve"}));
    cmd.add_option("--sampler", o.sampler, "ddpm, ddim, euler, heun, sde or dpmpp2m")
        ->check(CLI::IsMember({"ddpm", "ddim", "euler", "heun", "sde", "dpmpp2m"}));
    cmd.add_option("--data", o.data_dir, "MNIST folder for the oracle; default: $DIFFUSCOPE_DATA, else data/mnist");
    cmd.add_option("--weights", o.weights,
                   "A trained UNet (safetensors from `diffuscope train`); default: the bundled assets/unet.safetensors");
    cmd.add_flag("--oracle", o.oracle, "Start on the empirical optimal denoiser of the MNIST training split, not the UNet");
    cmd.add_option("--dataset", o.dataset, "2-D field view's data set: gmm8, rings, moons or digits")
        ->check(CLI::IsMember({"gmm8", "rings", "moons", "digits"}));
    cmd.add_flag("--score", o.score, "2-D field view: arrows of the score instead of the denoise direction x̂₀ − x_t");
    cmd.add_option("--eta", o.eta, "DDIM η: 0 deterministic, 1 DDPM-like")->check(CLI::Range(0.0, 1.0));
    cmd.add_option("--view", o.view, "Prediction shown beside x_t: eps, x0 or score")
        ->check(CLI::IsMember({"eps", "x0", "score"}));
    cmd.add_option("--colours", o.colours, "Colour map of x_t: grey, viridis or diverging")
        ->check(CLI::IsMember({"grey", "viridis", "diverging"}));
    cmd.add_option("--speed", o.speed, "Sampling steps per second while playing")->check(CLI::Range(0.1, 10000.0));
    cmd.add_option("--ui-scale", o.ui_scale, "UI scale on top of the monitor's DPI")->check(CLI::Range(0.5, 4.0));
    cmd.add_flag("--lecture", o.lecture, "Lecture mode: fullscreen, large font, high contrast (F11 toggles)");
    cmd.add_flag("--paused", o.paused, "Start paused");
}

VisSettings to_settings(const VisOptions& o) {
    if (o.steps > o.T)
        throw CLI::ValidationError("--steps", std::to_string(o.steps) + " sampling steps exceed T = " + std::to_string(o.T) +
                                              "; use --steps ≤ --T");
    VisSettings s;
    s.chain.chains = uint32_t(o.chains);
    s.chain.label = o.label;
    s.chain.label_mode = o.labels == "per-chain" ? LabelMode::per_chain : o.labels == "none" ? LabelMode::unconditional
                                                                                            : LabelMode::fixed;
    s.chain.guidance = o.guidance;
    s.chain.seed = o.seed;
    s.chain.eta = o.eta;
    s.chain.view = o.view == "x0" ? PredictionView::x0 : o.view == "score" ? PredictionView::score : PredictionView::eps;
    s.chain.sampler = sampler_from_name(o.sampler);
    s.data_dir = o.data_dir;
    s.weights = o.weights;
    if (s.weights.empty()) s.weights = data::find_asset("unet.safetensors").string();  // empty when not bundled
    s.start_on_oracle = o.oracle;
    const auto names = data::toy2d_names();
    s.field.dataset = int(std::find(names.begin(), names.end(), o.dataset) - names.begin());
    s.field.score = o.score;
    s.schedule.timesteps = o.T;
    s.schedule.steps = o.steps;
    s.schedule.preset = o.schedule == "curve" ? SchedulePreset::curve : schedule_from_name(o.schedule).preset;
    s.x_map = o.colours == "viridis" ? engine::ColourMap::Viridis : o.colours == "diverging" ? engine::ColourMap::Diverging
                                                                                             : engine::ColourMap::Grey;
    s.speed = o.speed;
    s.ui_scale = o.ui_scale;
    s.lecture = o.lecture;
    s.playing = !o.paused;
    return s;
}

}  // namespace diffuscope::app
