// diffuscope — watch a diffusion model work. Subcommands are registered from diffusion/cli/cmd_*.cpp.
#include "diffusion/cli/cli.hpp"

#include <cstdio>
#include <exception>
#include <vector>

int main(int argc, char** argv) {
    using namespace diffuscope::cli;
    CLI::App app{"diffuscope — watch a diffusion model denoise MNIST digits, on Vulkan compute.\n"
                 "Run with no subcommand to open the visualiser."};
    app.set_help_all_flag("--help-all", "Help for every subcommand");
    GlobalOptions g;
    app.add_flag("--validate", g.validate,
                 "Enable the Khronos validation layer with synchronization validation; any error makes the exit code 3");
    app.add_flag("--quiet", g.quiet, "No progress bars or notes on stderr (results and errors still print)");
    app.add_option("--device", g.device, "Vulkan device index (see `diffuscope info`); default (-1): discrete GPU first")
        ->check(whole_range<int>(-1, 1023));
    app.require_subcommand(0, 1);

    Command run;
    register_info(app, g, run);
    register_data(app, g, run);
    register_bench(app, g, run);
    register_train(app, g, run);
    register_render(app, g, run);
    register_visualise(app, g, run);
    register_sample(app, g, run);
    register_sample2d(app, g, run);
    register_forward(app, g, run);
    register_train_classifier(app, g, run);
    register_eval(app, g, run);

    // No subcommand named: the visualiser (`diffuscope --lecture` = `diffuscope visualise --lecture`).
    std::vector<char*> args(argv, argv + argc);
    bool named = false, help = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        help |= a == "-h" || a == "--help" || a == "--help-all";
        for (const auto* sub : app.get_subcommands([](CLI::App*) { return true; }))
            named |= sub->check_name(a);
    }
    char visualise[] = "visualise";
    if (!named && !help) args.insert(args.begin() + 1, visualise);
    try {
        app.parse(int(args.size()), args.data());
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const std::exception& e) {  // a subcommand's callback reading a file (--config) refused it
        std::fprintf(stderr, "diffuscope: error: %s\n", e.what());
        return 2;
    }
    if (!run) return app.exit(CLI::CallForHelp());
    int rc = 0;
    try {
        rc = run();
    } catch (const engine::NoDeviceError& e) {
        std::fprintf(stderr, "diffuscope: %s\n", e.what());
        rc = 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "diffuscope: error: %s\n", e.what());
        rc = 1;
    }
    if (g.validate) {
        auto v = engine::global_validation_counts();
        std::fprintf(stderr, "diffuscope: validation: %u errors, %u warnings\n", v.errors, v.warnings);
        if (v.errors && rc == 0) rc = 3;
    }
    return rc;
}
