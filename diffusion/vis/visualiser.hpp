// diffusion/vis/visualiser.hpp — the visualiser's state and its frame, shared by the window (`diffuscope`) and
// the offscreen renderer (`diffuscope render`), so both draw the very same frame from the same settings.
//
// A frame: [sampler steps, as many as the GPU-time budget allows] → barrier → [tile passes: x_t, x̂₀, the
// prediction] → render pass [ImGui panels, the grids drawn as custom draws inside the canvas window].
#pragma once
#include "diffusion/vis/chains.hpp"
#include "diffusion/vis/field2d.hpp"
#include "diffusion/vis/fieldimg.hpp"
#include "diffusion/vis/model_source.hpp"
#include "diffusion/vis/training.hpp"
#include "engine/frame_target.hpp"
#include "engine/window/imgui_layer.hpp"
#include "engine/renderer.hpp"
#include "engine/timestamps.hpp"
#include "engine/window/window.hpp"

#include <array>
#include <deque>
#include <optional>
#include <map>
#include <memory>
#include <vector>

namespace diffuscope::vis {

enum class VisMode : int { sample = 0, forward = 1, field2d = 2, fieldimg = 3 };

struct VisSettings {
    VisMode mode = VisMode::sample;
    bool lecture = false;
    bool playing = true;
    float speed = 30;           // sampling steps per second while playing
    float budget_ms = 8;        // GPU time per frame the sampler may use; 0 = no limit (offscreen: deterministic)
    bool show_x0 = true, show_pred = true;
    engine::ColourMap x_map = engine::ColourMap::Grey;
    float ui_scale = 1;
    bool vsync = true;
    bool help = false;
    float forward_t = 0.5f;     // forward mode: τ ∈ [0, 1] → t = τ(T−1)
    int scrub = -1;             // timeline position shown; −1 = live
    ScheduleSettings schedule;
    ChainSettings chain;
    Field2dSettings field;
    FieldImgSettings fieldimg;  // the image-mode field (vis/fieldimg.hpp)
    std::string data_dir;  // MNIST folder; empty: data::default_data_dir()
    std::string weights;   // a trained UNet (--weights, else the bundled one); empty: none
    bool start_on_oracle = false;  // start on the empirical oracle even when there are weights
    bool train_at_start = false;   // --train: the training panel starts training at once
    std::string config_path;       // --config: where the window saves its settings on closing
};

// What the overlay shows about speed (host frame interval, steps, GPU passes).
struct VisStats {
    std::deque<float> frame_ms;              // the last few hundred frame intervals
    double steps_per_second = 0;
    std::vector<engine::PassTime> passes;    // of the last finished frame
    std::map<std::string, std::pair<double, int>> pass_totals;  // name → (ms summed, frames): for averages
    double step_gpu_ms = 0;                  // one whole sampler step (every chain), predicted from measured operations
    int chain_steps_last_frame = 0;          // chain-steps completed in the last frame
    uint32_t operations_last_frame = 0;      // captured operations replayed in the last frame
    double slice_predicted_ms = 0;           // their predicted GPU time (the budget's view)
};

class Visualiser {
public:
    Visualiser(engine::Context&, engine::FrameTarget&, VisSettings);
    ~Visualiser();

    // Applies key presses (lecture shortcuts); `window` for fullscreen (may be null).
    void handle_keys(const std::vector<engine::KeyEvent>&, engine::Window* window);
    // Builds the UI and records the frame into `f` (between target.begin() and target.submit()). Every frame built
    // must be submitted: with asynchronous compute the frame has already submitted its compute work, which a later
    // frame's submissions are ordered against through `f.sync`.
    void frame(engine::Frame& f, engine::FrameTarget& target, engine::ImGuiLayer& ui, float dt);

    VisSettings& settings() { return s_; }
    const VisSettings& settings() const { return s_; }
    const VisStats& stats() const { return stats_; }
    const VisChain* chain() const { return chain_.get(); }  // null when the MNIST data are missing
    int step_index() const { return chain_ ? chain_->step_index() : 0; }
    int total_steps() const { return chain_ ? chain_->total_steps() : 0; }
    double alpha_bar() const { return chain_ ? chain_->alpha_bar() : 0.0; }
    uint64_t training_steps() const { return training_ ? training_->steps() : 0; }
    const VisTraining* training() const { return training_.get(); }
    const std::string& data_message() const { return data_message_; }
    Field2d& field() { return *field_; }
    FieldImg& fieldimg() { return *fieldimg_; }
    bool quit_requested() const { return quit_; }
    bool screenshot_requested() { bool r = screenshot_; screenshot_ = false; return r; }
    // The model panel's "load": a UNet weights file, checked on the spot (a missing, corrupt or wrong-shaped file
    // is refused with the reason in model_error() and the running model kept); a good one joins the model list and
    // is swapped in at the start of the next frame. Returns whether it was accepted.
    bool load_weights_file(const std::string& path);  // blanks and quotes around it are dropped
    const std::string& model_error() const { return model_error_; }
    // Why the --weights file was refused when the visualiser started (empty when it loaded or none was named): the
    // window shows it and runs the oracle instead; `render` fails with it rather than draw the oracle's frame.
    const std::string& weights_error() const { return weights_error_; }
    const std::string& model_label() const { static const std::string none; return source_ >= 0 ? sources_[size_t(source_)].label : none; }
    engine::ImGuiOptions ui_options(float dpi) const;
    // The x_t grid of the last frame, one pixel per image pixel (after the frame's submission finished).
    std::vector<uint8_t> grid_rgba() const { return tiles_[slot_]->x.download_rgba(); }
    uint32_t grid_width() const { return tiles_[slot_]->x.width(); }
    uint32_t grid_height() const { return tiles_[slot_]->x.height(); }
    // Frames whose chain work ran on the asynchronous compute queue (engine::Context::async_compute).
    uint64_t async_frames() const { return async_frames_; }

private:
    void panels(engine::ImGuiLayer&, VkExtent2D);
    // The panel's sections, top to bottom (vis/panels.cpp).
    void mode_picker();
    void field2d_panel();
    void schedule_panel(float panel_w, float scale);
    void playback_panel();
    void view_panel(engine::ImGuiLayer&);
    void performance_panel();
    void canvas(engine::ImGuiLayer&, VkExtent2D);
    void help_overlay();
    void restart_next_frame() { restart_ = true; }
    void schedule_changed();
    void record_compute(engine::Frame&);
    void record_tiles(engine::CommandBuffer&, engine::Timestamps&);
    void submit_compute(engine::Frame&, bool async);

    engine::Context* ctx_;
    VisSettings s_;
    VisStats stats_;
    HostSchedule schedule_;
    std::string schedule_error_;  // what the guard said about the last edit (the old schedule stays)
    std::optional<data::Mnist> train_;
    std::string data_message_;    // why there are no digits (missing data), shown on screen
    std::unique_ptr<LoadedModel> model_;
    // The models the panel offers: the UNet weights (when given or bundled) and the oracle (when the data are
    // there). A pick is applied at the start of the next frame, after the GPU is idle.
    struct ModelSource {
        std::string label, weights;  // weights empty: the empirical oracle (or, with `training`, the snapshot)
        bool training = false;       // the training panel's last snapshot of its EMA weights
        bool loaded = false;         // added by the panel's weights field: dropped again if it fails to run
    };
    std::vector<ModelSource> sources_;
    int source_ = -1, pending_source_ = -1;
    std::string weights_error_;  // the --weights file's refusal at start
    std::string model_error_;  // why the last pick failed (the previous model stays)
    void use_source(int index);
    std::array<char, 1024> weights_input_{};  // the model panel's path field
    void weights_loader();
    // The training panel (vis/training_panel.cpp): a Trainer stepped a budgeted slice per frame.
    std::unique_ptr<VisTraining> training_;
    TrainingSettings training_settings_;
    bool training_running_ = false, training_reset_ = false, training_snapshot_ = false, training_save_ = false;
    float training_budget_ms_ = 8;
    std::string training_message_;
    std::optional<nn::Weights> snapshot_;
    void training_panel();
    void start_training();
    void training_frame_start(engine::Frame&, const std::vector<engine::PassTime>& passes);
    void record_training(engine::Frame&, engine::Timestamps& ts);
    // Save GIF / PNG (button, or G): the chains' trajectory or the current grid, next to where the app runs.
    enum class Export { none, gif, png };
    Export export_request_ = Export::none;
    std::string export_message_;
    void run_export();
    std::unique_ptr<VisChain> chain_;
    std::unique_ptr<Field2d> field_;
    bool curve_editor(float width);
    void seed_curve_from_schedule();
    int drag_point_ = -1;
    void sample_panels();
    void field_canvas(engine::ImGuiLayer&);
    // The image-mode field (vis/fieldimg_panel.cpp).
    std::unique_ptr<FieldImg> fieldimg_;
    void record_fieldimg(engine::CommandBuffer&, engine::Timestamps&, uint32_t slot);
    void fieldimg_panel();
    void fieldimg_canvas(engine::ImGuiLayer&);
    engine::TilePipelines pipes_;
    // The grids, one set per frame slot: on a device with an asynchronous compute queue, the chains' step and
    // the tile passes of one frame run there while the graphics queue still draws the previous frame's set.
    struct Tiles {
        engine::TileImage x, x0, pred;
    };
    std::vector<std::unique_ptr<Tiles>> tiles_;
    uint32_t slot_ = 0;  // the frame being built (or the last one built)
    Tiles& tiles() { return *tiles_[slot_]; }
    // Asynchronous compute (sample and forward views): the chains' work of a frame is its own submission on the
    // compute queue. Graphics frame n waits for compute n (at its draws); compute n waits for the last graphics
    // frame that read what it writes: the frame that drew this slot's tiles, or any frame that touched the
    // chains' buffers on the graphics queue (the other views, which keep one queue).
    bool async_frame() const;
    std::vector<std::unique_ptr<engine::CommandBuffer>> compute_cmds_;     // per frame slot
    std::vector<std::unique_ptr<engine::Timestamps>> compute_timestamps_;  // per frame slot
    std::unique_ptr<engine::TimelineSemaphore> compute_done_, graphics_done_;
    std::vector<uint64_t> slot_graphics_value_;  // graphics_done_ value of the frame that last drew each slot
    uint64_t chain_graphics_value_ = 0;          // ... of the last graphics frame that touched the chains' buffers
    uint64_t async_frames_ = 0;
    std::vector<std::unique_ptr<engine::Timestamps>> timestamps_;  // per frame slot
    // Per-operation GPU times (one set of timestamps per frame slot) → the cost model that sizes each frame's slice.
    OpCosts op_costs_;
    std::vector<std::unique_ptr<engine::Timestamps>> op_timestamps_;
    std::vector<OpTimer> op_timers_;
    std::vector<double> slot_raw_ms_;  // each slot's slice: its raw predicted cost, to calibrate against "sampler"
    double owed_ = 0, field_owed_ = 0;
    bool field_restart_ = true;  // chain-steps the playback speed asks for and the budget has not yet allowed
    bool restart_ = true, step_once_ = false, quit_ = false, screenshot_ = false;
    uint64_t frames_ = 0;
    double steps_window_s_ = 0;
    int steps_window_ = 0;
};

const char* key_help_text();

// The nearest-rank percentile p ∈ [0, 1] of v; 0 when v is empty (frame times in the overlay and --stats-json).
double percentile(std::vector<double> v, double p);

}  // namespace diffuscope::vis
