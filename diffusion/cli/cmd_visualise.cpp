// `diffuscope` (no subcommand) or `diffuscope visualise`: the window. GLFW + swapchain + the Visualiser's frame;
// --frames/--selftest/--stats-json make it scriptable for tests and frame-time measurements.
#include "diffusion/cli/cli.hpp"
#include "diffusion/cli/vis_options.hpp"
#include "engine/offscreen.hpp"
#include "engine/window/swapchain.hpp"

#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>

namespace diffuscope::cli {

using namespace diffuscope::vis;  // this command drives the visualiser

namespace {
struct WindowOpt {
    VisOptions vis;
    int width = 1280, height = 800;
    long frames = 0;           // 0: until closed
    bool no_vsync = false, selftest = false;
    std::string screenshot, stats_json, mode = "sample";
};

// The selftest: what a person would do in the first seconds, by frame number (keys go through the same
// handler as real key presses; resize and minimise go through GLFW to the window system).
void selftest_action(long frame, engine::Window& w, Visualiser& vis, std::vector<engine::KeyEvent>& keys) {
    auto key = [&](int k, int mods = 0) { keys.push_back({k, 0, GLFW_PRESS, mods}); };
    switch (frame) {
        case 10: key(GLFW_KEY_SPACE); key(GLFW_KEY_RIGHT); key(GLFW_KEY_RIGHT); break;  // pause, two single steps
        case 12: key(GLFW_KEY_SPACE); key(GLFW_KEY_7); break;                          // play, label 7
        case 20: w.set_size(900, 600); break;
        case 30: key(GLFW_KEY_S); key(GLFW_KEY_SLASH, GLFW_MOD_SHIFT); break;            // schedule preset, help
        case 35: key(GLFW_KEY_ESCAPE); key(GLFW_KEY_F); break;                          // close help, forward view
        case 38: key(GLFW_KEY_F); break;                                                // 2-D field view
        case 40: key(GLFW_KEY_F); key(GLFW_KEY_LEFT); key(GLFW_KEY_LEFT); break;        // image field view, scrub back
        case 45: key(GLFW_KEY_RIGHT); break;
        case 50: w.iconify(); break;
        case 55: w.restore(); break;
        case 60: w.set_size(1280, 800); key(GLFW_KEY_R); break;                         // restart
        case 62: key(GLFW_KEY_F11); break;                                              // lecture mode on
        case 66: key(GLFW_KEY_F); break;                                                // back to the sample view
        case 70: key(GLFW_KEY_F11); break;                                              // and off
        default: break;
    }
    (void)vis;
}
}  // namespace

void register_visualise(CLI::App& app, GlobalOptions& g, Command& run) {
    auto* cmd = app.add_subcommand("visualise", "Open the visualiser window (what `diffuscope` with no subcommand does)");
    cmd->alias("vis");
    cmd->fallthrough();  // `diffuscope --validate` reaches the parent's options through the implied subcommand
    auto o = std::make_shared<WindowOpt>();
    add_vis_options(*cmd, o->vis);
    cmd->add_option("--width", o->width, "Window width")->check(whole_range<int>(200, 16384, "pixels"));
    cmd->add_option("--height", o->height, "Window height")->check(whole_range<int>(150, 16384, "pixels"));
    cmd->add_flag("--no-vsync", o->no_vsync, "Present without waiting for vertical blank (MAILBOX/IMMEDIATE)");
    cmd->add_option("--mode", o->mode, "The view to open on: sample, forward, field2d or fieldimg (F cycles them)")
        ->check(CLI::IsMember({"sample", "forward", "field2d", "fieldimg"}));
    cmd->add_option("--frames", o->frames, "Quit after this many frames (tests, measurements)")
        ->check(whole_range<long>(0, 1'000'000'000));
    cmd->add_flag("--selftest", o->selftest, "Drive the window by itself: keys, resize, minimise, lecture mode");
    cmd->add_option("--screenshot", o->screenshot, "On quitting, write the last frame to this PNG");
    cmd->add_option("--stats-json", o->stats_json, "On quitting, write frame-time statistics (p50, p99) as JSON here");
    cmd->callback([&g, &run, o, cmd] {
        if (!o->vis.config.empty()) apply_config_file(*cmd, o->vis, o->vis.config);  // the command line wins
        run = [&g, o] {
            VisSettings s = to_settings(o->vis);
            s.vsync = !o->no_vsync;
            s.mode = o->mode == "forward" ? VisMode::forward : o->mode == "field2d" ? VisMode::field2d
                   : o->mode == "fieldimg" ? VisMode::fieldimg : VisMode::sample;
            // The context first: it must outlive the window's surface.
            auto ctx = make_context(g, true, engine::Window::required_instance_extensions(),
                                    async_compute_from_name(o->vis.async_compute));
            engine::Window window({"diffuscope", o->width, o->height, s.lecture, true});
            window.create_surface(*ctx);
            engine::Swapchain sc(*ctx, window, {s.vsync, 2});
            Visualiser vis(*ctx, sc, s);
            engine::ImGuiLayer ui(*ctx, sc.render_pass(), sc.frames_in_flight(), window.handle(),
                                  vis.ui_options(window.content_scale()));
            bool lecture = s.lecture;
            std::vector<double> frame_ms;
            long frame = 0, skipped = 0;
            auto last = std::chrono::steady_clock::now();
            std::string path_for_p = "diffuscope-screenshot.png";
            auto screenshot = [&](const std::string& path) {
                // The same frame again, offscreen: the ImGui draw data and the tile images are still this frame's.
                VK_CHECK(vkDeviceWaitIdle(ctx->device()));
                engine::Offscreen off(*ctx, sc.extent(), sc.format());
                auto f = off.begin();
                off.begin_pass(*f, {0.08f, 0.08f, 0.08f, 1});
                ui.render_again(f->cmd->handle(), f->extent);
                off.end_pass(*f);
                off.submit(*f);
                engine::write_png(path, off.rgba(), off.extent().width, off.extent().height);
                std::fprintf(stderr, "diffuscope: screenshot %s (%u×%u)\n", path.c_str(), off.extent().width, off.extent().height);
            };
            while (!window.should_close() && !vis.quit_requested()) {
                window.poll();
                std::vector<engine::KeyEvent> keys = window.keys();
                if (o->selftest) selftest_action(frame, window, vis, keys);
                vis.handle_keys(keys, &window);
                if (window.minimised()) {
                    // 0×0: nothing to draw into; sleep until something happens (the selftest restores it).
                    window.wait_events(0.1);
                    if (o->selftest && ++skipped % 5 == 0) window.restore();
                    last = std::chrono::steady_clock::now();
                    continue;
                }
                if (vis.settings().lecture != lecture) {
                    lecture = vis.settings().lecture;
                    if (window.fullscreen() != lecture) window.set_fullscreen(lecture);
                    ui.set_options(vis.ui_options(window.content_scale()));
                }
                sc.set_vsync(vis.settings().vsync);
                auto f = sc.begin();
                if (!f) continue;
                auto now = std::chrono::steady_clock::now();
                float dt = std::chrono::duration<float>(now - last).count();
                last = now;
                if (frame > 0) frame_ms.push_back(dt * 1000.0);
                vis.frame(*f, sc, ui, frame == 0 ? 1.0f / 60 : dt);
                sc.submit(*f);
                ++frame;
                if (vis.screenshot_requested()) screenshot(path_for_p);
                if (o->frames > 0 && frame >= o->frames) break;
            }
            sc.wait_idle();
            if (!o->screenshot.empty()) screenshot(o->screenshot);
            nlohmann::json j = frame_stats_json(frame_ms, vis, *ctx);
            j["frames"] = frame;
            j["recreations"] = sc.recreations();
            j["minimised_polls"] = skipped;
            j["vsync"] = vis.settings().vsync;
            std::fprintf(stderr, "diffuscope: %ld frames, frame time p50 %.2f ms, p99 %.2f ms (%zu measured), "
                                 "%u swapchain recreations, %ld polls minimised, present mode %d, device %s, "
                                 "compute queue: %s\n",
                         frame, j["frame_ms_p50"].get<double>(), j["frame_ms_p99"].get<double>(),
                         j["measured"].get<size_t>(), sc.recreations(), skipped, int(sc.present_mode()),
                         ctx->info().name.c_str(), ctx->async_reason().c_str());
            if (!o->stats_json.empty()) std::ofstream(o->stats_json) << j.dump(2) << "\n";
            if (!o->vis.config.empty()) {
                write_config_file(o->vis.config, vis.settings());
                std::fprintf(stderr, "diffuscope: settings saved to %s\n", o->vis.config.c_str());
            }
            return 0;
        };
    });
}

}  // namespace diffuscope::cli
