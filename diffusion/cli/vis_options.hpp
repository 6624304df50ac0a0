// diffusion/cli/vis_options.hpp — the options the visualiser window and `diffuscope render` share, so a
// command line reproduces a frame: the same flags give the same settings in both.
#pragma once
#include "diffusion/vis/visualiser.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace diffuscope::cli {

struct VisOptions {
    int chains = 16, label = 3, T = 1000, steps = 50;
    unsigned seed = 1;
    float guidance = 2, eta = 0, speed = 30, ui_scale = 1, budget = 8;  // w = 2: see assets/MODEL.md
    std::string schedule = "linear", view = "eps", labels = "fixed", colours = "grey", sampler = "ddim", data_dir, weights;
    std::string dataset = "gmm8", field_model = "exact";
    bool score = false;
    // The image-mode field (vis/fieldimg.hpp): the slice's chain, basis, classes (a = −1: the chain's digit), grid.
    int slice_chain = 0, slice_a = -1, slice_b = 8, slice_grid = 11;
    std::string slice_basis = "means";
    bool heatmap = true;
    bool lecture = false, paused = false, oracle = false, train = false;
    std::string async_compute = "auto";              // --async-compute auto|on|off (engine::AsyncCompute)
    std::string config;                              // --config FILE
    std::vector<double> curve_beta, curve_log_snr;   // the curve editor's control points (from a config file)
};

void add_vis_options(CLI::App&, VisOptions&);
engine::AsyncCompute async_compute_from_name(const std::string&);

// --stats-json of the window and of `render`: p50/p99 of `frame_ms` after a warm-up of 10 frames (pipeline creation,
// the first captures), the chains' progress, the device and its compute queue, and each pass's mean GPU ms. The
// callers add what only they know (swapchain recreations; what a render frame's time includes).
nlohmann::json frame_stats_json(const std::vector<double>& frame_ms, const vis::Visualiser&, const engine::Context&);
vis::VisSettings to_settings(const VisOptions&);

// --config FILE: the window's settings as JSON keyed by option name ({"label": 7, "schedule": "cosine", …},
// plus "curve-beta"/"curve-log-snr", the 7 control points of the drawn schedule). Every value goes through the
// option's own validator; options given on the command line win. Throws std::runtime_error naming the file
// and the key on a bad value, an unknown key or malformed JSON. A missing file is not an error (nothing to read).
void apply_config_file(CLI::App& cmd, VisOptions&, const std::string& path);
// The settings as that JSON (what the window saves on closing when --config names a file), and its atomic write.
nlohmann::json settings_to_json(const vis::VisSettings&);
void write_config_file(const std::string& path, const vis::VisSettings&);

}  // namespace diffuscope::cli
