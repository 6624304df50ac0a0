// diffuscope — watch a diffusion model work. Subcommands are registered from diffusion/app/cmd_*.cpp.
#include "diffusion/app/cli.hpp"

#include <cstdio>
#include <exception>
#include <vector>

int main(int argc, char** argv) {
    using namespace diffuscope::app;
    CLI::App app{"diffuscope — watch a diffusion model denoise MNIST digits, on Vulkan compute.\n"
                 "Run with no subcommand to open the visualiser."};
    app.set_help_all_flag("--help-all", "Help for every subcommand");
    GlobalOptions g;
    app.add_flag("--validate", g.validate,
                 "Enable the Khronos validation layer with synchronization validation; any error makes the exit code 3");
    app.add_option("--device", g.device, "Vulkan device index (see `diffuscope info`); default: discrete GPU first");
    app.require_subcommand(0, 1);

    Command run;
    register_info(app, g, run);
    register_bench(app, g, run);
    register_data(app, g, run);
    register_sample(app, g, run);
    register_sample2d(app, g, run);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    if (!run) {
        // No subcommand: the visualiser. Until it is built, a bare run shows `info`.
        std::fprintf(stderr, "diffuscope: the visualiser is not available in this build yet; showing `info`.\n");
        std::vector<char*> args(argv, argv + argc);
        char info[] = "info";
        args.push_back(info);
        try {
            app.parse(int(args.size()), args.data());
        } catch (const CLI::ParseError& e) {
            return app.exit(e);
        }
    }
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
