// The visualiser's training panel: train a UNet inside the window, watch its loss fall, and sample from its EMA
// weights between steps. The steps run a budgeted slice per frame (vis/training.hpp), so the window keeps its
// frame rate; on a CPU device a step of batch 16 spreads over a few dozen frames.
#include "diffusion/vis/export.hpp"
#include "diffusion/vis/visualiser.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace diffuscope::vis {

void Visualiser::training_frame_start(engine::Frame& f, const std::vector<engine::PassTime>& passes) {
    if (training_) training_->slot_finished(f.slot, pass_ms(passes, "train"));  // this slot's fence was waited on
    // Requests from last frame's panel, carried out while nothing runs.
    if (training_reset_) {
        training_reset_ = false;
        VK_CHECK(vkDeviceWaitIdle(ctx_->device()));
        training_.reset();
        training_running_ = false;
        training_message_.clear();
    }
    if (!training_) return;
    if (training_save_) {
        training_save_ = false;
        try {
            VK_CHECK(vkDeviceWaitIdle(ctx_->device()));
            const auto path = next_free_path("diffuscope-trained", "safetensors");
            training_->export_ema(path);
            training_message_ = "saved " + path.string() + " (EMA weights; open with --weights)";
        } catch (const std::exception& e) {
            training_message_ = std::string("could not save: ") + e.what();
        }
        std::fprintf(stderr, "diffuscope: %s\n", training_message_.c_str());
    }
    if (training_snapshot_) {
        training_snapshot_ = false;
        VK_CHECK(vkDeviceWaitIdle(ctx_->device()));
        snapshot_ = training_->ema_weights();
        const std::string label = "training snapshot (step " + std::to_string(training_->steps()) + ")";
        auto it = std::find_if(sources_.begin(), sources_.end(), [](const ModelSource& m) { return m.training; });
        if (it == sources_.end()) it = sources_.insert(sources_.end(), ModelSource{label, "", true});
        it->label = label;
        use_source(int(it - sources_.begin()));  // the chains restart on the snapshot
        if (s_.mode == VisMode::field2d && chain_) s_.mode = VisMode::sample;
    }
}

void Visualiser::record_training(engine::Frame& f, engine::Timestamps& ts) {
    if (!training_) return;
    engine::CommandBuffer& cmd = *f.cmd;
    ts.begin(cmd, "train");
    training_->record(cmd, f.slot, training_running_, training_budget_ms_);
    ts.end(cmd);
}

void Visualiser::start_training() {
    if (!train_) {
        training_message_ = "training needs the MNIST digits (`diffuscope data`)";
        std::fprintf(stderr, "diffuscope: %s\n", training_message_.c_str());
        return;
    }
    try {
        training_ = std::make_unique<VisTraining>(*ctx_, *train_, training_settings_);
        training_running_ = true;
        training_message_.clear();
    } catch (const std::exception& e) {
        training_message_ = std::string("could not start: ") + e.what();
        std::fprintf(stderr, "diffuscope: %s\n", training_message_.c_str());
    }
}

void Visualiser::training_panel() {
    if (!train_) {
        ImGui::TextWrapped("Training needs the MNIST digits (`diffuscope data`).");
        return;
    }
    if (!training_) {
        static const int batches[] = {8, 16, 32, 64};
        int bi = int(std::find(batches, batches + 4, training_settings_.batch) - batches);
        if (ImGui::Combo("batch", &bi, "8\0" "16\0" "32\0" "64\0")) training_settings_.batch = batches[std::clamp(bi, 0, 3)];
        ImGui::SliderFloat("learning rate", &training_settings_.lr, 1e-4f, 1e-2f, "%.4f", ImGuiSliderFlags_Logarithmic);
        int seed = int(training_settings_.seed);
        if (ImGui::InputInt("training seed", &seed)) training_settings_.seed = uint64_t(std::max(seed, 0));
        if (ImGui::Button("start training (a fresh UNet)")) start_training();
        ImGui::TextDisabled("v-prediction, base %d, AdamW; the same trainer as `diffuscope train`", training_settings_.base);
        if (!training_message_.empty()) ImGui::TextWrapped("%s", training_message_.c_str());
        return;
    }
    const auto& losses = training_->losses();
    if (ImGui::Button(training_running_ ? "pause training" : "resume training")) training_running_ = !training_running_;
    ImGui::SameLine();
    if (ImGui::Button("reset")) training_reset_ = true;
    ImGui::Text("step %llu   batch %d   %.1f img/s", static_cast<unsigned long long>(training_->steps()),
                training_->settings().batch, training_->images_per_second());
    if (!losses.empty()) {
        // The curve: a running mean over 10 steps (single batches are noisy), on a log scale.
        std::vector<float> curve;
        double acc = 0;
        for (size_t i = 0; i < losses.size(); ++i) {
            acc += losses[i] - (i >= 10 ? losses[i - 10] : 0.0f);
            curve.push_back(float(std::log10(std::max(acc / double(std::min<size_t>(i + 1, 10)), 1e-6))));
        }
        char overlay[64];
        std::snprintf(overlay, sizeof overlay, "loss %.4f (log10 of the 10-step mean)", double(losses.back()));
        ImGui::PlotLines("##loss", curve.data(), int(curve.size()), 0, overlay, FLT_MAX, FLT_MAX,
                         ImVec2(ImGui::GetContentRegionAvail().x, 90 * ImGui::GetFontSize() / 16));
    } else {
        ImGui::TextDisabled("the first step is on its way");
    }
    if (training_->skipped()) ImGui::Text("%u steps skipped (non-finite gradient: weights untouched)", training_->skipped());
    if (training_->stopped_on_nan())
        ImGui::TextColored(ImVec4(1, 0.5f, 0.3f, 1), "stopped: %u non-finite steps in a row; the weights are intact",
                           VisTraining::max_consecutive_skips);
    ImGui::SliderFloat("training budget ms", &training_budget_ms_, 1.0f, 100.0f, "%.0f");
    if (const double ms = training_->step_ms_estimate(); ms > 0)
        ImGui::Text("one step ≈ %.0f GPU ms ≈ %.0f frames", ms, std::ceil(ms / training_budget_ms_));
    if (ImGui::Button("sample from these weights")) training_snapshot_ = true;
    ImGui::SameLine();
    if (ImGui::Button("save weights")) training_save_ = true;
    if (!training_message_.empty()) ImGui::TextWrapped("%s", training_message_.c_str());
}

}  // namespace diffuscope::vis
