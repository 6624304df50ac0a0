#include "diffusion/vis/visualiser.hpp"

#include "diffusion/vis/export.hpp"
#include "diffusion/model/weights.hpp"

#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <utility>

namespace diffuscope::vis {

static constexpr uint32_t k_max_grid_pixels = 9 * 29 * 9 * 29;  // 64 chains as 8×8 tiles of 28 px + gaps

Visualiser::Visualiser(engine::Context& ctx, engine::FrameTarget& target, VisSettings s)
    : ctx_(&ctx), s_(std::move(s)), pipes_(ctx, target.render_pass()) {
    try {
        schedule_ = make_schedule(s_.schedule);
    } catch (const std::exception& e) {  // a bad schedule from the command line: say so, start on the default
        schedule_error_ = e.what();
        s_.schedule = ScheduleSettings{};
        schedule_ = make_schedule(s_.schedule);
    }
    // The model: a trained UNet when --weights names one, else the empirical oracle of the MNIST training split.
    // Without the data the window still opens (the forward view and the oracle need it; the UNet does not),
    // with the reason on screen.
    std::string why;
    try {
        const std::filesystem::path dir =
            s_.data_dir.empty() ? data::default_data_dir() : std::filesystem::path(s_.data_dir);
        train_ = load_training_digits(dir, why);
    } catch (const std::exception& e) {
        why = e.what();
    }
    if (!s_.weights.empty())
        sources_.push_back({"UNet (" + std::filesystem::path(s_.weights).filename().string() + ")", s_.weights});
    if (train_) sources_.push_back({"empirical oracle", ""});
    if (!sources_.empty()) {
        int first = s_.start_on_oracle && train_ ? int(sources_.size()) - 1 : 0;
        use_source(first);
        if (!chain_ && first == 0 && !s_.weights.empty()) weights_error_ = model_error_;
        if (!chain_ && first == 0 && sources_.size() > 1) use_source(1);  // unreadable weights: fall back to the oracle
    }
    if (!train_)
        data_message_ = (chain_ ? "No MNIST digits (the UNet samples without them; the forward view and the oracle need "
                                  "them): "
                                : "No MNIST digits, so no digit chains: ") +
                        why + "\nFetch them with `diffuscope data` (or pass --data DIR). The 2-D field view works without them.";
    if (!chain_) s_.mode = VisMode::field2d;
    training_budget_ms_ = s_.budget_ms > 0 ? s_.budget_ms : 8.0f;  // --budget sets both; the sliders part them
    if (s_.train_at_start) start_training();
    field_ = std::make_unique<Field2d>(ctx, target.render_pass());
    fieldimg_ = std::make_unique<FieldImg>(ctx, target.render_pass());
    constexpr uint32_t k_timed_ops = 256;  // per frame; a frame's slice is a few dozen operations
    for (uint32_t i = 0; i < target.frames_in_flight(); ++i) {
        timestamps_.push_back(std::make_unique<engine::Timestamps>(ctx, 8));
        // The sampler's per-operation times: recorded on the compute queue whenever the context has one.
        op_timestamps_.push_back(std::make_unique<engine::Timestamps>(
            ctx, k_timed_ops, ctx.async_compute() ? engine::QueueRole::compute : engine::QueueRole::main));
        op_timers_.push_back({op_timestamps_.back().get(), k_timed_ops, {}});
    }
    slot_raw_ms_.assign(target.frames_in_flight(), 0.0);
    for (uint32_t i = 0; i < target.frames_in_flight(); ++i)
        tiles_.push_back(std::make_unique<Tiles>(Tiles{{ctx, pipes_, k_max_grid_pixels},
                                                       {ctx, pipes_, k_max_grid_pixels},
                                                       {ctx, pipes_, k_max_grid_pixels}}));
    slot_graphics_value_.assign(target.frames_in_flight(), 0);
    if (ctx.async_compute()) {
        for (uint32_t i = 0; i < target.frames_in_flight(); ++i) {
            compute_cmds_.push_back(std::make_unique<engine::CommandBuffer>(ctx, engine::QueueRole::compute));
            compute_timestamps_.push_back(std::make_unique<engine::Timestamps>(ctx, 8, engine::QueueRole::compute));
        }
        compute_done_ = std::make_unique<engine::TimelineSemaphore>(ctx);
        graphics_done_ = std::make_unique<engine::TimelineSemaphore>(ctx);
    }
}

// Frames in flight may still wait on the semaphores or run the compute command buffers destroyed below.
Visualiser::~Visualiser() { vkDeviceWaitIdle(ctx_->device()); }

bool Visualiser::async_frame() const {
    return ctx_->async_compute() && chain_ && (s_.mode == VisMode::sample || s_.mode == VisMode::forward);
}

void Visualiser::run_export() {
    const Export what = std::exchange(export_request_, Export::none);
    try {
        VK_CHECK(vkDeviceWaitIdle(ctx_->device()));  // the trajectory and x_t are whole
        if (what == Export::gif) {
            const auto path = next_free_path("diffuscope-chains", "gif");
            const uint32_t frames = write_chain_gif(*chain_, path);
            export_message_ = "saved " + path.string() + " (" + std::to_string(frames) + " frames)";
        } else {
            const auto path = next_free_path("diffuscope-grid", "png");
            write_chain_png(*chain_, path);
            export_message_ = "saved " + path.string();
        }
    } catch (const std::exception& e) {
        export_message_ = std::string("could not save: ") + e.what();
    }
    std::fprintf(stderr, "diffuscope: %s\n", export_message_.c_str());
}

void Visualiser::use_source(int index) {
    const ModelSource& src = sources_.at(size_t(index));
    try {
        auto model = src.training          ? make_weights_model(*ctx_, *snapshot_, src.label)
                     : src.weights.empty() ? load_oracle_model(*ctx_, *train_, 2 * VisChain::group_for(*ctx_))
                                           : load_weights_model(*ctx_, src.weights, 2 * VisChain::group_for(*ctx_));
        auto chain = std::make_unique<VisChain>(*ctx_, model->denoiser(), train_ ? &*train_ : nullptr);
        chain_ = std::move(chain);  // the old chain goes before the model it points into
        model_ = std::move(model);
        source_ = index;
        model_error_.clear();
        restart_ = true;
    } catch (const std::exception& e) {
        model_error_ = src.label + ": " + e.what();
        // A file the panel's field accepted but that cannot run here leaves the list again (it is the last entry,
        // never the running one).
        if (src.loaded && index == int(sources_.size()) - 1 && index != source_) sources_.pop_back();
    }
}

bool Visualiser::load_weights_file(const std::string& typed) {
    // What a paste brings along: surrounding blanks, and one pair of matching quotes around the whole path.
    std::string path = typed;
    while (!path.empty() && std::isspace(uint8_t(path.back()))) path.pop_back();
    size_t lead = 0;
    while (lead < path.size() && std::isspace(uint8_t(path[lead]))) ++lead;
    path.erase(0, lead);
    if (path.size() >= 2 && (path.front() == '"' || path.front() == '\'') && path.back() == path.front())
        path = path.substr(1, path.size() - 2);
    if (path.empty()) return false;
    const std::string name = std::filesystem::path(path).filename().string();
    try {
        if (!std::filesystem::is_regular_file(path)) throw std::runtime_error("no such file");
        (void)nn::load_weights(path);  // every tensor's name, shape and values checked; throws naming the problem
    } catch (const std::exception& e) {
        model_error_ = path + ": " + e.what();
        return false;
    }
    auto same = std::find_if(sources_.begin(), sources_.end(), [&](const ModelSource& m) { return m.weights == path; });
    if (same == sources_.end()) same = sources_.insert(sources_.end(), ModelSource{"UNet (" + name + ")", path, false, true});
    pending_source_ = int(same - sources_.begin());
    model_error_.clear();
    return true;
}

engine::ImGuiOptions Visualiser::ui_options(float dpi) const {
    engine::ImGuiOptions o;
    o.font_px = s_.lecture ? 26 : 16;
    o.ui_scale = s_.ui_scale;
    o.dpi_scale = dpi;
    o.high_contrast = s_.lecture;
    return o;
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5))];
}

const char* key_help_text() {
    return "space   play / pause\n"
           "→       one step (paused) / scrub forward\n"
           "←       scrub back along the chain\n"
           "0 – 9   label\n"
           "S       next schedule preset\n"
           "F       sample → forward process → 2-D field → image field\n"
           "R       restart the chains\n"
           "P       screenshot (PNG)      G  the chains as a GIF\n"
           "F11     lecture mode (fullscreen, large, high contrast)\n"
           "? / H   this help      Esc  close it      Q  quit";
}

void Visualiser::handle_keys(const std::vector<engine::KeyEvent>& keys, engine::Window* window) {
    if (keys.empty()) return;
    if (ImGui::GetCurrentContext() && ImGui::GetIO().WantTextInput) return;  // typing into a field
    for (const auto& k : keys) {
        switch (k.key) {
            case GLFW_KEY_SPACE: s_.playing = !s_.playing; break;
            case GLFW_KEY_RIGHT:
                if (s_.mode == VisMode::field2d) {
                    if (s_.field.scrub >= 0) s_.field.scrub = std::min(s_.field.scrub + 1, field_->step());
                    else step_once_ = true;
                } else if (s_.scrub >= 0) {
                    s_.scrub = std::min(s_.scrub + 1, int(chain_ ? chain_->history_frames() : 1) - 1);
                } else {
                    step_once_ = true;
                }
                break;
            case GLFW_KEY_LEFT:
                s_.playing = false;
                if (s_.mode == VisMode::field2d)
                    s_.field.scrub = std::max(0, (s_.field.scrub < 0 ? field_->step() : s_.field.scrub) - 1);
                else if (chain_)
                    s_.scrub = std::max(0, (s_.scrub < 0 ? int(chain_->history_frames()) - 1 : s_.scrub) - 1);
                break;
            case GLFW_KEY_S: {
                // Next preset (linear → scaled-linear → quadratic → cosine → sigmoid → curve → linear).
                s_.schedule.preset = SchedulePreset((uint32_t(s_.schedule.preset) + 1) % 6);
                schedule_changed();
                break;
            }
            case GLFW_KEY_F:
                s_.mode = !chain_ ? VisMode::field2d : VisMode((int(s_.mode) + 1) % 4);
                break;
            case GLFW_KEY_R:
                if (s_.mode == VisMode::field2d) field_restart_ = true;
                else restart_next_frame();
                break;
            case GLFW_KEY_P: screenshot_ = true; break;
            case GLFW_KEY_G: if (chain_) export_request_ = Export::gif; break;
            case GLFW_KEY_H: s_.help = !s_.help; break;
            case GLFW_KEY_SLASH: if (k.mods & GLFW_MOD_SHIFT) s_.help = !s_.help; break;
            case GLFW_KEY_ESCAPE: s_.help = false; break;
            case GLFW_KEY_Q: quit_ = true; break;
            case GLFW_KEY_F11:
                s_.lecture = !s_.lecture;
                if (window) window->set_fullscreen(s_.lecture);
                break;
            default:
                if (k.key >= GLFW_KEY_0 && k.key <= GLFW_KEY_9) {
                    s_.chain.label = k.key - GLFW_KEY_0;
                    s_.chain.label_mode = LabelMode::fixed;
                    if (chain_) chain_->set_settings(s_.chain);
                }
        }
    }
}

void Visualiser::schedule_changed() {
    try {
        schedule_ = make_schedule(s_.schedule);
        schedule_error_.clear();
    } catch (const std::exception& e) {  // the guard refused the edit: keep running on the last good schedule
        schedule_error_ = e.what();
        return;
    }
    if (chain_) chain_->set_schedule(schedule_);
    field_restart_ = true;  // the particles start again under the new schedule
}

void Visualiser::record_compute(engine::Frame& f) {
    engine::CommandBuffer& gcmd = *f.cmd;
    auto& gts = *timestamps_[f.slot];
    gts.reset(gcmd);
    // The previous frame's compute, copies and draws read and wrote the same buffers (RAW/WAR/WAW).
    gcmd.barrier();
    // The chains' step and the tile passes: on the asynchronous compute queue in their own command buffer (sample
    // and forward views), else in the frame's.
    const bool async = async_frame();
    engine::CommandBuffer& cmd = async ? *compute_cmds_[f.slot] : gcmd;
    auto& ts = async ? *compute_timestamps_[f.slot] : gts;
    if (async) {
        ++async_frames_;
        cmd.begin(true);
        ts.reset(cmd);
        cmd.barrier();  // the previous compute submission on this queue wrote the same buffers
    }
    if (s_.mode == VisMode::fieldimg) record_fieldimg(cmd, ts, f.slot);  // the slice's next batch, before the chains step
    if (s_.mode == VisMode::field2d && !field_restart_) {  // a restart may rebuild the learner: not under this frame
        // The learned 2-D field's training: this frame's slice of its step, within the frame's budget.
        ts.begin(cmd, "learn");
        field_->record_learning(cmd, f.slot, s_.budget_ms <= 0 ? 1e300 : double(s_.budget_ms));
        ts.end(cmd);
        cmd.barrier();  // RAW: the learned arrows and particles read the weights the slice wrote
    }
    ts.begin(cmd, "sampler");
    int work = 0;
    if (s_.mode == VisMode::field2d) {
        if (field_restart_) {
            field_->restart(schedule_.spec, s_.field, s_.chain.seed);
            field_restart_ = false;
            field_owed_ = 0;
            s_.field.scrub = -1;
        }
        int n = s_.field.scrub < 0 ? int(field_owed_) : 0;
        if (step_once_) n = std::max(n, 1);
        field_owed_ -= n;
        field_->record(cmd, n, s_.field.scrub);
    } else if (!chain_) {
        // No digits (missing data): nothing to sample; the message is on screen.
    } else if (restart_) {
        chain_->restart(cmd, s_.chain, schedule_);
        restart_ = false;
        owed_ = 0;
        s_.scrub = -1;
    } else if (s_.mode == VisMode::forward) {
        int T = int(schedule_.alpha_bar.size());
        chain_->record_forward(cmd, uint32_t(std::clamp(int(std::lround(s_.forward_t * (T - 1))), 0, T - 1)));
    } else if (s_.scrub < 0) {
        // Never stutter: this frame replays as much of the step in progress as the per-operation GPU times measured
        // in earlier frames predict will fit the budget (at least one operation, so a slow device still advances);
        // one step spans as many frames as it needs. New groups start only as the playback speed asks for chains.
        double budget = s_.budget_ms <= 0 ? 1e300 : double(s_.budget_ms);
        uint32_t allow = uint32_t(std::max(owed_, 0.0));
        if (step_once_) {  // paused, "→": the rest of this step now, whatever it costs
            budget = 1e300;
            allow = std::max(allow, chain_->chains_pending());
        }
        OpTimer& timer = op_timers_[f.slot];
        timer.reset(cmd);
        const Slice slice = chain_->record_budgeted(cmd, budget, allow, &op_costs_, &timer);
        work = int(slice.chains);
        stats_.operations_last_frame = slice.operations;
        stats_.slice_predicted_ms = slice.predicted_ms;
        slot_raw_ms_[f.slot] = slice.raw_ms;
        // Never build up more than one step's worth of owed chains (a stall must not turn into a burst).
        owed_ = std::clamp(owed_ - work, 0.0, double(chain_->settings().chains));
    }
    step_once_ = false;
    ts.end(cmd);
    record_training(f, gts);
    stats_.chain_steps_last_frame = work;
    steps_window_ += work;
    cmd.barrier();  // RAW: the sampler's x_t, x̂₀, prediction → the tile passes
    if (chain_ && s_.mode != VisMode::field2d) record_tiles(cmd, ts);
    submit_compute(f, async);
}

void Visualiser::submit_compute(engine::Frame& f, bool async) {
    const uint64_t drawn = graphics_done_ ? graphics_done_->next() : 0;  // this frame's graphics submission
    if (graphics_done_) f.sync.signals.push_back({graphics_done_->handle(), drawn});
    if (!async) {
        // One queue this frame: its compute touches the chains' buffers, which earlier asynchronous compute wrote.
        if (compute_done_ && compute_done_->issued() > 0)
            f.sync.waits.push_back({compute_done_->handle(), compute_done_->issued(), VK_PIPELINE_STAGE_ALL_COMMANDS_BIT});
        if (graphics_done_) chain_graphics_value_ = drawn;
    } else {
        engine::CommandBuffer& cmd = *compute_cmds_[f.slot];
        cmd.end();
        // WAR/WAW: this slot's tiles were last drawn by slot_graphics_value_[slot]; the chains' buffers were last
        // touched on the graphics queue by chain_graphics_value_. Both are usually long finished.
        engine::SubmitSync sync;
        const uint64_t after = std::max(slot_graphics_value_[f.slot], chain_graphics_value_);
        if (after > 0)
            sync.waits.push_back({graphics_done_->handle(), after,
                                  VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT});
        const uint64_t done = compute_done_->next();
        sync.signals.push_back({compute_done_->handle(), done});
        cmd.submit(sync);
        // RAW: the draws read the tiles this submission wrote.
        f.sync.waits.push_back({compute_done_->handle(), done,
                                VK_PIPELINE_STAGE_VERTEX_SHADER_BIT | VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT});
    }
    slot_graphics_value_[f.slot] = drawn;
}

void Visualiser::record_tiles(engine::CommandBuffer& cmd, engine::Timestamps& ts) {
    Tiles& tl = tiles();

    ts.begin(cmd, "tiles");
    const uint32_t n = chain_->settings().chains, cols = uint32_t(std::ceil(std::sqrt(double(n))));
    engine::TileLayout l;
    l.count = n;
    l.cols = cols;
    l.map = s_.x_map;
    l.lo = -1;
    l.hi = 1;
    if (s_.scrub >= 0 && s_.mode != VisMode::forward)
        tl.x.record(cmd, chain_->history(), chain_->history_offset(uint32_t(s_.scrub)), l);
    else
        tl.x.record(cmd, chain_->x_t(), 0, l);
    l.map = engine::ColourMap::Grey;
    tl.x0.record(cmd, chain_->x0_hat(), 0, l);
    bool signed_view = s_.mode == VisMode::forward || s_.chain.view != PredictionView::x0;
    l.map = signed_view ? engine::ColourMap::Diverging : engine::ColourMap::Grey;
    float range = s_.chain.view == PredictionView::score && s_.mode == VisMode::sample
                      ? float(1 / std::sqrt(std::max(1 - chain_->alpha_bar(), 1e-4)))
                      : 2.5f;
    l.lo = signed_view ? -range : -1;
    l.hi = signed_view ? range : 1;
    tl.pred.record(cmd, chain_->prediction(), 0, l);
    if (s_.mode == VisMode::fieldimg) fieldimg_->record_overlay(cmd, *chain_, s_.chain.view == PredictionView::score);
    ts.end(cmd);
}

void Visualiser::frame(engine::Frame& f, engine::FrameTarget& target, engine::ImGuiLayer& ui, float dt) {
    slot_ = f.slot;
    auto& ts = *timestamps_[f.slot];
    auto passes = ts.read();  // this slot's previous frame is finished (its fence was waited on)
    if (!compute_timestamps_.empty()) {
        // ... and with it that frame's compute submission, which its graphics waited for.
        auto& cts = *compute_timestamps_[f.slot];
        auto more = cts.read();
        cts.clear_names();  // a frame on one queue leaves these unwritten: never read them twice
        passes.insert(passes.begin(), more.begin(), more.end());
    }
    if (!passes.empty()) {
        stats_.passes = passes;
        for (const auto& p : passes) {
            auto& t = stats_.pass_totals[p.name];
            t.first += p.ms;
            ++t.second;
        }
    }
    for (const auto& p : passes)
        if (p.name == "sampler" && slot_raw_ms_[f.slot] > 0) op_costs_.calibrate(slot_raw_ms_[f.slot], p.ms);
    slot_raw_ms_[f.slot] = 0;
    op_timers_[f.slot].harvest(op_costs_);  // this slot's per-operation times → the cost model
    op_timers_[f.slot].signatures.clear();
    if (chain_) stats_.step_gpu_ms = chain_->step_ms_estimate();
    training_frame_start(f, passes);
    if (field_) field_->learning_slot_finished(f.slot, pass_ms(passes, "learn"));  // this slot's fence was waited on
    if (pending_source_ >= 0) {  // a model picked in the panel last frame: swap it in while nothing runs
        const int pick = std::exchange(pending_source_, -1);
        VK_CHECK(vkDeviceWaitIdle(ctx_->device()));
        use_source(pick);
    }
    if (export_request_ != Export::none) run_export();
    stats_.frame_ms.push_back(dt * 1000);
    if (stats_.frame_ms.size() > 600) stats_.frame_ms.pop_front();
    steps_window_s_ += dt;
    if (steps_window_s_ >= 0.5) {
        stats_.steps_per_second = steps_window_ / steps_window_s_ / std::max(1u, s_.chain.chains);
        steps_window_ = 0;
        steps_window_s_ = 0;
    }
    if (chain_ && (s_.mode == VisMode::sample || s_.mode == VisMode::fieldimg) && s_.playing && s_.scrub < 0 && !chain_->done())
        owed_ += double(s_.speed) * dt * s_.chain.chains;
    if (s_.mode == VisMode::field2d && s_.playing && s_.field.scrub < 0 && field_->step() < field_->steps())
        field_owed_ = std::min(field_owed_ + double(s_.speed) * dt, 8.0);

    ui.new_frame(f.extent, dt);
    panels(ui, f.extent);
    canvas(ui, f.extent);
    if (s_.help) help_overlay();

    record_compute(f);

    const float bg = s_.lecture ? 0.0f : 0.08f;
    target.begin_pass(f, {bg, bg, bg, 1});
    ts.begin(*f.cmd, "draw + ui");
    ui.render(f.cmd->handle(), f.extent);
    ts.end(*f.cmd);
    target.end_pass(f);
    ++frames_;
}

}  // namespace diffuscope::vis
