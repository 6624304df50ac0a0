// diffusion/cli/cli.hpp — what every subcommand shares: the global options and how a command registers.
#pragma once
#include "diffusion/cli/option_checks.hpp"
#include "engine/context.hpp"

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>

namespace diffuscope::cli {

struct GlobalOptions {
    bool validate = false;  // --validate: Khronos layer + synchronization validation, counted
    int device = -1;        // --device N
    bool quiet = false;
};

// The context for a headless subcommand, honouring --validate and --device.
std::unique_ptr<engine::Context> make_context(const GlobalOptions&, bool need_swapchain = false,
                                              std::vector<const char*> instance_extensions = {},
                                              engine::AsyncCompute async = engine::AsyncCompute::off);

// Each subcommand file defines one of these; main() calls them in order. The returned function runs the
// command after parsing and gives the exit code.
using Command = std::function<int()>;
void register_info(CLI::App&, GlobalOptions&, Command&);
void register_data(CLI::App&, GlobalOptions&, Command&);
void register_bench(CLI::App&, GlobalOptions&, Command&);
void register_train(CLI::App&, GlobalOptions&, Command&);
void register_render(CLI::App&, GlobalOptions&, Command&);
void register_visualise(CLI::App&, GlobalOptions&, Command&);
void register_sample(CLI::App&, GlobalOptions&, Command&);
void register_sample2d(CLI::App&, GlobalOptions&, Command&);
void register_forward(CLI::App&, GlobalOptions&, Command&);
void register_train_classifier(CLI::App&, GlobalOptions&, Command&);
void register_eval(CLI::App&, GlobalOptions&, Command&);

}  // namespace diffuscope::cli
