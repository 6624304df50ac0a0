// diffusion/app/vis_options.hpp — the options the visualiser window and `diffuscope render` share, so a
// command line reproduces a frame: the same flags give the same settings in both.
#pragma once
#include "diffusion/app/visualiser.hpp"

#include <CLI/CLI.hpp>

#include <string>

namespace diffuscope::app {

struct VisOptions {
    int chains = 16, label = 3, T = 1000, steps = 50;
    unsigned seed = 1;
    float guidance = 1, eta = 0, speed = 30, ui_scale = 1;
    std::string schedule = "linear", view = "eps", labels = "fixed", colours = "grey", sampler = "ddim", data_dir, weights;
    std::string dataset = "gmm8";
    bool score = false;
    bool lecture = false, paused = false, oracle = false;
};

void add_vis_options(CLI::App&, VisOptions&);
VisSettings to_settings(const VisOptions&);

}  // namespace diffuscope::app
