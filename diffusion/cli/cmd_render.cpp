// `diffuscope render --mode sample|forward|field2d|fieldimg --frames K --out frame.png [options]`: the visualiser's frame,
// drawn offscreen (no window, no display) after K frames at a fixed frame interval, written as PNG.
#include "diffusion/cli/cli.hpp"
#include "diffusion/cli/vis_options.hpp"
#include "diffusion/vis/visualiser.hpp"
#include "engine/offscreen.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>

namespace diffuscope::cli {

using namespace diffuscope::vis;  // this command drives the visualiser

void register_render(CLI::App& app, GlobalOptions& g, Command& run) {
    auto* cmd = app.add_subcommand("render", "Render the visualiser's frame offscreen (no window needed) to a PNG");
    struct Opt {
        VisOptions vis;
        std::string mode = "sample", out = "frame.png", grid_out, stats_json;
        int frames = 60, width = 1280, height = 800;
        float fps = 30;
    };
    auto o = std::make_shared<Opt>();
    cmd->add_option("--mode", o->mode, "What to draw: sample (the reverse process), forward (q(x_t|x₀)), field2d "
                                       "(a 2-D data set's exact field and particles) or fieldimg (the image-space "
                                       "field: the direction heat map over x_t, and a 2-D slice through image space "
                                       "with the model's arrows and the chain's path; see --slice-*)")
        ->check(CLI::IsMember({"sample", "forward", "field2d", "fieldimg"}));
    cmd->add_option("--frames", o->frames, "Frames to run before the one written (the chains advance each frame)")
        ->check(whole_range<int>(1, 100'000));
    cmd->add_option("--out", o->out, "PNG file for the whole frame");
    cmd->add_option("--grid-out", o->grid_out, "Also write the x_t grid alone, one pixel per image pixel");
    cmd->add_option("--stats-json", o->stats_json,
                    "Write frame-time statistics as JSON here: each frame's wall time from recording to the end of "
                    "its GPU work (no window, no vsync), and the GPU ms of each pass");
    cmd->add_option("--width", o->width, "Frame width in pixels")->check(whole_range<int>(64, 8192, "pixels"));
    cmd->add_option("--height", o->height, "Frame height in pixels")->check(whole_range<int>(64, 8192, "pixels"));
    cmd->add_option("--fps", o->fps, "Simulated frame rate: sets the frame interval the playback speed uses")
        ->check(finite_range(1, 1000, "frames/s"));
    add_vis_options(*cmd, o->vis);
    cmd->callback([&g, &run, o, cmd] {
        if (!o->vis.config.empty()) apply_config_file(*cmd, o->vis, o->vis.config);  // the command line wins
        run = [&g, o] {
            VisSettings s = to_settings(o->vis);
            s.mode = o->mode == "forward" ? VisMode::forward : o->mode == "field2d" ? VisMode::field2d
                   : o->mode == "fieldimg" ? VisMode::fieldimg : VisMode::sample;
            s.budget_ms = 0;  // the work per frame follows --speed and --fps only, so a command line gives one image
            auto ctx = make_context(g, false, {}, async_compute_from_name(o->vis.async_compute));
            engine::Offscreen target(*ctx, {uint32_t(o->width), uint32_t(o->height)});
            Visualiser vis(*ctx, target, s);
            if (s.mode == VisMode::fieldimg && vis.settings().mode != VisMode::fieldimg)
                throw std::runtime_error("render --mode fieldimg needs digit chains, and there are none: " +
                                         vis.data_message());
            // The window shows a refused weights file on screen and falls back to the oracle; a render must not
            // pass the oracle's frame off as the UNet's (corrupt, NaN, or a forward that overflows).
            if (!vis.weights_error().empty())
                throw std::runtime_error("render: the model was refused: " + vis.weights_error() + "; nothing written");
            engine::ImGuiLayer ui(*ctx, target.render_pass(), 1, nullptr, vis.ui_options(1.0f));
            const float dt = 1.0f / o->fps;
            std::vector<double> frame_ms;
            auto one_frame = [&] {
                const auto t0 = std::chrono::steady_clock::now();
                auto f = target.begin();
                vis.frame(*f, target, ui, dt);
                target.submit(*f);  // waits for the frame's GPU work
                frame_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
            };
            for (int i = 0; i < o->frames; ++i) one_frame();
            if (!o->stats_json.empty()) {
                nlohmann::json j = frame_stats_json(frame_ms, vis, *ctx);
                j["frames"] = o->frames;
                j["what"] = "offscreen: record + submit + wait per frame, no present";
                std::ofstream(o->stats_json) << j.dump(2) << "\n";
                std::fprintf(stderr, "diffuscope render: frame p50 %.2f ms, p99 %.2f ms (%zu measured); compute queue: %s\n",
                             j["frame_ms_p50"].get<double>(), j["frame_ms_p99"].get<double>(),
                             j["measured"].get<size_t>(), ctx->async_reason().c_str());
            }
            if (s.mode == VisMode::fieldimg) {
                // What the field costs a live frame: one model batch while a slice fills, nothing once it is full.
                auto field = vis.stats().pass_totals.find("field");
                auto sampler = vis.stats().pass_totals.find("sampler");
                if (field != vis.stats().pass_totals.end() && field->second.second > 0)
                    std::fprintf(stderr, "diffuscope render: GPU ms per frame (mean of %d): field %.1f, sampler %.1f\n",
                                 field->second.second, field->second.first / field->second.second,
                                 sampler == vis.stats().pass_totals.end() ? 0.0 : sampler->second.first / sampler->second.second);
                // The frame written shows the whole slice of the chain as it is. Paused: one frame takes any step
                // still owed, one evaluates the entire field, one draws it (the panels are built before a frame's
                // GPU work is recorded, so they show the field from the next frame on).
                vis.settings().playing = false;
                one_frame();
                vis.settings().fieldimg.complete_now = true;
                one_frame();
                one_frame();
                const FieldSlice& sl = vis.fieldimg().shown_slice();
                std::fprintf(stderr, "diffuscope render: slice through chain %u at step %d (ᾱ = %.4f), %s, %u points%s%s\n",
                             sl.chain, sl.step, sl.alpha_bar,
                             sl.basis == SliceBasis::pca ? "path PCA" : "towards two class means", sl.points,
                             sl.note.empty() ? "" : "; ", sl.note.c_str());
            }
            engine::write_png(o->out, target.rgba(), target.extent().width, target.extent().height);
            if (!vis.data_message().empty()) std::fprintf(stderr, "diffuscope render: %s\n", vis.data_message().c_str());
            std::fprintf(stderr, "diffuscope render: %s (%u×%u) after %d frames; chain at step %d of %d, ᾱ = %.4f\n",
                         o->out.c_str(), target.extent().width, target.extent().height, o->frames,
                         vis.step_index(), vis.total_steps(), vis.alpha_bar());
            if (!o->grid_out.empty()) {
                engine::write_png(o->grid_out, vis.grid_rgba(), vis.grid_width(), vis.grid_height());
                std::fprintf(stderr, "diffuscope render: %s (the x_t grid)\n", o->grid_out.c_str());
            }
            return 0;
        };
    });
}

}  // namespace diffuscope::cli
