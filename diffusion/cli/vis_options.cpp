#include "diffusion/cli/vis_options.hpp"
#include "diffusion/cli/option_checks.hpp"
#include "diffusion/data/assets.hpp"

#include "diffusion/data/toy2d.hpp"
#include "diffusion/io/atomic_file.hpp"

#include <cmath>
#include <fstream>

#include <algorithm>

namespace diffuscope::cli {

using namespace diffuscope::vis;  // the window's options become the visualiser's settings

engine::AsyncCompute async_compute_from_name(const std::string& name) {
    if (name == "on") return engine::AsyncCompute::on;
    if (name == "off") return engine::AsyncCompute::off;
    if (name == "auto") return engine::AsyncCompute::automatic;
    throw std::invalid_argument("--async-compute: auto, on or off, not " + name);
}

nlohmann::json frame_stats_json(const std::vector<double>& frame_ms, const Visualiser& vis, const engine::Context& ctx) {
    const std::vector<double> steady(frame_ms.begin() + std::min<size_t>(10, frame_ms.size()), frame_ms.end());
    nlohmann::json j = {{"frame_ms_p50", percentile(steady, 0.5)}, {"frame_ms_p99", percentile(steady, 0.99)},
                        {"measured", steady.size()}, {"steps_done", vis.step_index()},
                        {"training_steps", vis.training_steps()}, {"chains", vis.settings().chain.chains},
                        {"device", ctx.info().name}, {"async_compute", ctx.async_compute()},
                        {"async_frames", vis.async_frames()}, {"compute_queue", ctx.async_reason()}};
    for (const auto& [name, t] : vis.stats().pass_totals) j["gpu_ms_mean"][name] = t.first / std::max(t.second, 1);
    return j;
}

void add_vis_options(CLI::App& cmd, VisOptions& o) {
    cmd.add_option("--chains", o.chains, "Chains sampled side by side")
        ->check(whole_range<int>(1, 64))
        ->check(CLI::IsMember({1, 4, 16, 64}));
    cmd.add_option("--label", o.label, "The digit to sample (0–9)")->check(whole_range<int>(0, 9));
    cmd.add_option("--labels", o.labels, "fixed (all --label), per-chain (chain k draws k mod 10), or none "
                                         "(unconditional)")->check(CLI::IsMember({"fixed", "per-chain", "none"}));
    cmd.add_option("--guidance", o.guidance, "Classifier-free guidance weight w (1 = conditional)")->check(finite_range(0, 10));
    cmd.add_option("--seed", o.seed, "Seed of the initial noise and of η's noise")->check(whole_of<unsigned>());
    cmd.add_option("--T", o.T, "Training timesteps T of the schedule")->check(whole_range<int>(2, 4000));
    cmd.add_option("--steps", o.steps, "Sampling steps (≤ T)")->check(whole_range<int>(1, 4000));
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
    cmd.add_option("--field-model", o.field_model,
                   "2-D field view: the exact field (closed form), a learned one (an MLP that trains while shown), "
                   "the two side by side, or their difference (learned − exact)")
        ->check(CLI::IsMember({"exact", "learned", "side-by-side", "difference"}));
    cmd.add_option("--slice-chain", o.slice_chain, "Image field view: the chain whose x_t the 2-D slice goes through")
        ->check(whole_range<int>(0, 63));
    cmd.add_option("--slice-basis", o.slice_basis, "Image field view: the slice's plane is spanned by the directions "
                                                   "towards two class means (means) or by the top two principal "
                                                   "directions of the chain's path (pca)")
        ->check(CLI::IsMember({"means", "pca"}));
    cmd.add_option("--slice-a", o.slice_a, "Image field view: class a of the means basis (−1: the chain's digit)")
        ->check(whole_range<int>(-1, 9));
    cmd.add_option("--slice-b", o.slice_b, "Image field view: class b of the means basis")->check(whole_range<int>(0, 9));
    cmd.add_option("--slice-grid", o.slice_grid, "Image field view: arrows on a K×K grid of the slice")
        ->check(whole_range<int>(5, int(FieldImg::max_grid)));
    cmd.add_option("--heatmap", o.heatmap, "Image field view: the direction heat map over x_t (on/off)");
    cmd.add_option("--eta", o.eta, "DDIM η: 0 deterministic, 1 DDPM-like")->check(finite_range(0, 1));
    cmd.add_option("--view", o.view, "Prediction shown beside x_t: eps, x0, score or v (√ᾱ ε − √(1−ᾱ) x₀)")
        ->check(CLI::IsMember({"eps", "x0", "score", "v"}));
    cmd.add_option("--colours", o.colours, "Colour map of x_t: grey, viridis or diverging")
        ->check(CLI::IsMember({"grey", "viridis", "diverging"}));
    cmd.add_option("--speed", o.speed, "Sampling steps per second while playing")
        ->check(finite_range(0.1, 10000, "steps/s"));
    cmd.add_option("--budget", o.budget,
                   "GPU milliseconds per frame the sampler may use; a step that needs more is spread over frames "
                   "(raise it on a CPU device for more steps per second at a lower frame rate)")
        ->check(finite_range(1, 100, "ms"));
    cmd.add_option("--async-compute", o.async_compute,
                   "Run the chains on a separate compute queue beside the drawing: auto (when the device has one), "
                   "on (also without one: the same queue in separate submissions) or off")
        ->check(CLI::IsMember({"auto", "on", "off"}))
        ->capture_default_str();
    cmd.add_option("--ui-scale", o.ui_scale, "UI scale on top of the monitor's DPI")->check(finite_range(0.5, 4));
    cmd.add_flag("--lecture", o.lecture, "Lecture mode: fullscreen, large font, high contrast (F11 toggles)");
    cmd.add_flag("--paused", o.paused, "Start paused");
    cmd.add_flag("--train", o.train,
                 "Start the training panel at once: a fresh UNet trains inside the window (needs the MNIST digits)");
    cmd.add_option("--config", o.config,
                   "Settings JSON: read at start (options on the command line win); the window writes its settings "
                   "back to it when it closes");
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
    s.chain.view = o.view == "x0"      ? PredictionView::x0
                 : o.view == "score" ? PredictionView::score
                 : o.view == "v"     ? PredictionView::v
                                     : PredictionView::eps;
    s.chain.sampler = sampler_from_name(o.sampler);
    s.data_dir = o.data_dir;
    s.weights = o.weights;
    if (s.weights.empty()) s.weights = data::find_asset("unet.safetensors").string();  // empty when not bundled
    s.start_on_oracle = o.oracle;
    s.config_path = o.config;
    if (o.curve_beta.size() == s.schedule.beta_points.size()) s.schedule.beta_points = o.curve_beta;
    if (o.curve_log_snr.size() == s.schedule.log_snr_points.size()) s.schedule.log_snr_points = o.curve_log_snr;
    const auto names = data::toy2d_names();
    s.field.dataset = int(std::find(names.begin(), names.end(), o.dataset) - names.begin());
    s.field.score = o.score;
    for (int m = 0; m < 4; ++m)
        if (o.field_model == field_model_name(FieldModel(m))) s.field.model = FieldModel(m);
    s.fieldimg.chain = o.slice_chain;
    s.fieldimg.basis = o.slice_basis == "pca" ? SliceBasis::pca : SliceBasis::class_means;
    s.fieldimg.a_is_label = o.slice_a < 0;
    if (o.slice_a >= 0) s.fieldimg.class_a = o.slice_a;
    s.fieldimg.class_b = o.slice_b;
    s.fieldimg.grid = o.slice_grid;
    s.fieldimg.overlay = o.heatmap;
    s.schedule.timesteps = o.T;
    s.schedule.steps = o.steps;
    s.schedule.preset = o.schedule == "curve" ? SchedulePreset::curve : schedule_from_name(o.schedule).preset;
    s.x_map = o.colours == "viridis" ? engine::ColourMap::Viridis : o.colours == "diverging" ? engine::ColourMap::Diverging
                                                                                             : engine::ColourMap::Grey;
    s.speed = o.speed;
    s.budget_ms = o.budget;
    s.ui_scale = o.ui_scale;
    s.lecture = o.lecture;
    s.playing = !o.paused;
    s.train_at_start = o.train;
    return s;
}

namespace {
std::vector<double> curve_points(const nlohmann::json& v, const std::string& where, size_t count) {
    if (!v.is_array() || v.size() != count)
        throw std::runtime_error(where + ": expected an array of " + std::to_string(count) + " numbers");
    std::vector<double> out;
    for (const auto& x : v) {
        if (!x.is_number() || !std::isfinite(x.get<double>())) throw std::runtime_error(where + ": not a finite number");
        out.push_back(x.get<double>());
    }
    return out;
}
}  // namespace

void apply_config_file(CLI::App& cmd, VisOptions& o, const std::string& path) {
    std::ifstream f(path);
    if (!f) return;  // nothing saved yet: the window writes it on closing
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(f);
    } catch (const std::exception& e) {
        throw std::runtime_error(path + ": not valid JSON (" + e.what() + ")");
    }
    if (!j.is_object()) throw std::runtime_error(path + ": expected a JSON object of settings");
    const size_t points = ScheduleSettings{}.beta_points.size();
    for (const auto& [key, value] : j.items()) {
        const std::string where = path + ": \"" + key + "\"";
        if (key == "curve-beta") { o.curve_beta = curve_points(value, where, points); continue; }
        if (key == "curve-log-snr") { o.curve_log_snr = curve_points(value, where, points); continue; }
        CLI::Option* opt = key == "config" ? nullptr : cmd.get_option_no_throw("--" + key);
        if (!opt) throw std::runtime_error(where + " is not a setting of `" + cmd.get_name() + "`");
        if (opt->count() > 0) continue;  // given on the command line: that wins
        std::string text;
        if (value.is_boolean()) text = value.get<bool>() ? "true" : "false";
        else if (value.is_number()) text = value.dump();  // as written: no wrap of huge ints, no %f rounding of floats
        else if (value.is_string()) text = value.get<std::string>();
        else throw std::runtime_error(where + ": expected a number, a string or true/false");
        try {
            opt->add_result(text);
            opt->run_callback();  // the option's validators, then the bound variable
        } catch (const CLI::Error& e) {
            throw std::runtime_error(where + " = " + value.dump() + ": " + e.what());
        }
    }
}

nlohmann::json settings_to_json(const VisSettings& s) {
    const auto names = data::toy2d_names();
    const auto& c = s.chain;
    nlohmann::json j{
        {"chains", c.chains},
        {"label", c.label},
        {"labels", c.label_mode == LabelMode::per_chain ? "per-chain" : c.label_mode == LabelMode::unconditional ? "none" : "fixed"},
        {"guidance", c.guidance},
        {"seed", c.seed},
        {"eta", c.eta},
        {"view", c.view == PredictionView::x0      ? "x0"
                 : c.view == PredictionView::score ? "score"
                 : c.view == PredictionView::v     ? "v"
                                                   : "eps"},
        {"sampler", sampler_name(c.sampler)},
        {"T", s.schedule.timesteps},
        {"steps", s.schedule.steps},
        {"schedule", preset_name(s.schedule.preset)},
        {"curve-beta", s.schedule.beta_points},
        {"curve-log-snr", s.schedule.log_snr_points},
        {"dataset", s.field.dataset >= 0 && size_t(s.field.dataset) < names.size() ? names[size_t(s.field.dataset)] : names[0]},
        {"score", s.field.score},
        {"field-model", field_model_name(s.field.model)},
        {"slice-chain", s.fieldimg.chain},
        {"slice-basis", s.fieldimg.basis == SliceBasis::pca ? "pca" : "means"},
        {"slice-a", s.fieldimg.a_is_label ? -1 : s.fieldimg.class_a},
        {"slice-b", s.fieldimg.class_b},
        {"slice-grid", s.fieldimg.grid},
        {"heatmap", s.fieldimg.overlay},
        {"colours", s.x_map == engine::ColourMap::Viridis ? "viridis" : s.x_map == engine::ColourMap::Diverging ? "diverging" : "grey"},
        {"speed", s.speed},
        {"budget", s.budget_ms},
        {"ui-scale", s.ui_scale},
        {"lecture", s.lecture},
    };
    return j;
}

void write_config_file(const std::string& path, const VisSettings& s) {
    const std::string text = settings_to_json(s).dump(2) + "\n";
    io::write_file_atomically(path, std::as_bytes(std::span(text.data(), text.size())));
}

}  // namespace diffuscope::cli
