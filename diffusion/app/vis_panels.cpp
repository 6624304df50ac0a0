// The visualiser's ImGui panels: controls on the left, the canvas (grids of x_t, x̂₀, the prediction) on the right,
// the help overlay on top.
#include "diffusion/app/visualiser.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace diffuscope::app {

namespace {
// Every `stride`-th value of v as float (ImGui plots take floats), at most ~256 points.
std::vector<float> thin(const std::vector<double>& v, double (*f)(double)) {
    size_t stride = std::max<size_t>(1, v.size() / 256);
    std::vector<float> out;
    for (size_t i = 0; i < v.size(); i += stride) out.push_back(float(f(v[i])));
    return out;
}

double percentile(std::vector<float> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, size_t(p * (v.size() - 1) + 0.5))];
}

const char* view_name(PredictionView v) {
    switch (v) {
        case PredictionView::x0: return "x̂₀";
        case PredictionView::eps: return "ε̂";
        case PredictionView::v: return "v̂";
        case PredictionView::score: return "score";
    }
    return "?";
}
}  // namespace

void Visualiser::panels(engine::ImGuiLayer& ui, VkExtent2D extent) {
    const float scale = ImGui::GetFontSize() / 16.0f;
    const float panel_w = std::min(380.0f * scale, float(extent.width) * 0.45f);
    ImGui::SetNextWindowPos(ImVec2(0, 0));
    ImGui::SetNextWindowSize(ImVec2(panel_w, float(extent.height)));
    ImGui::Begin("diffuscope", nullptr, ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse);

    int mode = int(s_.mode);
    ImGui::RadioButton("sample", &mode, 0);
    ImGui::SameLine();
    ImGui::RadioButton("forward process", &mode, 1);
    s_.mode = VisMode(mode);

    if (ImGui::CollapsingHeader("Chains", ImGuiTreeNodeFlags_DefaultOpen)) {
        static const uint32_t counts[] = {1, 4, 16, 64};
        int ci = int(std::find(counts, counts + 4, s_.chain.chains) - counts);
        if (ImGui::Combo("chains", &ci, "1\0" "4\0" "16\0" "64\0")) {
            s_.chain.chains = counts[std::clamp(ci, 0, 3)];
            restart_next_frame();
        }
        int lm = int(s_.chain.label_mode);
        bool changed = ImGui::RadioButton("label", &lm, 0);
        ImGui::SameLine();
        changed |= ImGui::RadioButton("0–9 per chain", &lm, 1);
        ImGui::SameLine();
        changed |= ImGui::RadioButton("none", &lm, 2);
        s_.chain.label_mode = LabelMode(lm);
        if (s_.chain.label_mode == LabelMode::fixed) changed |= ImGui::SliderInt("digit", &s_.chain.label, 0, 9);
        changed |= ImGui::SliderFloat("guidance w", &s_.chain.guidance, 0.0f, 5.0f, "%.2f");
        int seed = int(s_.chain.seed);
        if (ImGui::InputInt("seed", &seed)) {
            s_.chain.seed = uint32_t(std::max(seed, 0));
            restart_next_frame();
        }
        ImGui::TextDisabled("model: exact oracle of a procedural digit set (stand-in)");
        ImGui::TextDisabled("sampler: DDIM (Song et al. 2020)");
        changed |= ImGui::SliderFloat("η", &s_.chain.eta, 0.0f, 1.0f, "%.2f");
        int view = int(s_.chain.view);
        if (ImGui::Combo("prediction", &view, "x̂₀\0ε̂\0v̂\0score\0")) {
            s_.chain.view = PredictionView(view);
            changed = true;
        }
        if (changed) chain_->set_settings(s_.chain);
    }

    if (ImGui::CollapsingHeader("Schedule", ImGuiTreeNodeFlags_DefaultOpen)) {
        bool changed = false;
        int preset = int(s_.schedule.preset);
        changed |= ImGui::Combo("β schedule", &preset, "linear\0cosine\0curve (edit below)\0");
        s_.schedule.preset = Preset(preset);
        changed |= ImGui::SliderInt("T", &s_.schedule.timesteps, 10, 4000, "%d", ImGuiSliderFlags_Logarithmic);
        changed |= ImGui::SliderInt("steps", &s_.schedule.steps, 1, s_.schedule.timesteps, "%d", ImGuiSliderFlags_Logarithmic);
        s_.schedule.steps = std::min(s_.schedule.steps, s_.schedule.timesteps);
        ImGui::Text("final ᾱ_T = %.3g   SNR_T = %.3g", schedule_.final_alpha_bar(), schedule_.final_snr());
        if (s_.schedule.preset == Preset::curve) {
            ImGui::TextUnformatted("log₁₀ β at τ = 0, ¼, ½, ¾, 1 (drag):");
            for (int i = 0; i < 5; ++i) {
                ImGui::PushID(i);
                if (i) ImGui::SameLine();
                changed |= ImGui::VSliderFloat("##b", ImVec2(40 * scale, 90 * scale), &s_.schedule.curve_log10_beta[i],
                                               -5.0f, -0.5f, "%.1f");
                ImGui::PopID();
            }
        }
        if (changed) schedule_changed();
        const ImVec2 plot(panel_w - 24 * scale, 44 * scale);
        auto b = thin(schedule_.beta, [](double v) { return v; });
        auto ab = thin(schedule_.alpha_bar, [](double v) { return v; });
        auto sab = thin(schedule_.alpha_bar, [](double v) { return std::sqrt(v); });
        auto snr = thin(schedule_.alpha_bar, [](double v) { return std::log10(v / std::max(1 - v, 1e-300)); });
        ImGui::PlotLines("##beta", b.data(), int(b.size()), 0, "β(t)", 0, FLT_MAX, plot);
        ImGui::PlotLines("##ab", ab.data(), int(ab.size()), 0, "ᾱ(t)", 0, 1, plot);
        ImGui::PlotLines("##sab", sab.data(), int(sab.size()), 0, "√ᾱ(t)", 0, 1, plot);
        ImGui::PlotLines("##snr", snr.data(), int(snr.size()), 0, "log₁₀ SNR(t)", FLT_MAX, FLT_MAX, plot);
    }

    if (ImGui::CollapsingHeader("Playback", ImGuiTreeNodeFlags_DefaultOpen)) {
        if (ImGui::Button(s_.playing ? "pause" : "play")) s_.playing = !s_.playing;
        ImGui::SameLine();
        if (ImGui::Button("step")) step_once_ = true;
        ImGui::SameLine();
        if (ImGui::Button("restart")) restart_next_frame();
        ImGui::SliderFloat("steps/s", &s_.speed, 1.0f, 1000.0f, "%.0f", ImGuiSliderFlags_Logarithmic);
        ImGui::SliderFloat("GPU budget ms", &s_.budget_ms, 1.0f, 50.0f, "%.0f");
        int last = std::max(0, int(chain_->history_frames()) - 1);
        bool live = s_.scrub < 0;
        if (ImGui::Checkbox("live", &live)) s_.scrub = live ? -1 : last;
        ImGui::SameLine();
        int pos = live ? last : s_.scrub;
        if (ImGui::SliderInt("timeline", &pos, 0, last)) {
            s_.scrub = pos;
            s_.playing = false;
        }
        if (s_.mode == VisMode::forward) ImGui::SliderFloat("forward τ", &s_.forward_t, 0.0f, 1.0f, "%.3f");
    }

    if (ImGui::CollapsingHeader("View")) {
        ImGui::Checkbox("x̂₀", &s_.show_x0);
        ImGui::SameLine();
        ImGui::Checkbox("prediction", &s_.show_pred);
        int map = int(s_.x_map);
        if (ImGui::Combo("x_t colours", &map, "grey\0viridis\0diverging\0")) s_.x_map = engine::ColourMap(map);
        ImGui::Checkbox("vsync", &s_.vsync);
        ImGui::SameLine();
        ImGui::Checkbox("lecture", &s_.lecture);
        float scale_setting = s_.ui_scale;
        if (ImGui::SliderFloat("UI scale", &scale_setting, 0.75f, 3.0f, "%.2f")) s_.ui_scale = scale_setting;
        if (ImGui::IsItemDeactivatedAfterEdit()) ui.set_options(ui_options(ui.options().dpi_scale));
    }

    if (ImGui::CollapsingHeader("Performance", ImGuiTreeNodeFlags_DefaultOpen)) {
        std::vector<float> ft(stats_.frame_ms.begin(), stats_.frame_ms.end());
        double p50 = percentile(ft, 0.5), p99 = percentile(ft, 0.99);
        ImGui::Text("%.1f FPS   frame %.1f ms (p50) / %.1f ms (p99)", p50 > 0 ? 1000 / p50 : 0.0, p50, p99);
        ImGui::Text("%.1f steps/s   %.2f GPU ms/step", stats_.steps_per_second,
                    stats_.chain_step_gpu_ms * s_.chain.chains);
        ImGui::Text("this frame: %d chain-steps of %d per step", stats_.chain_steps_last_frame, int(s_.chain.chains));
        for (const auto& p : stats_.passes) ImGui::Text("  %-10s %7.2f ms", p.name.c_str(), p.ms);
        ImGui::TextDisabled("device: %s", ctx_->info().name.c_str());
    }
    ImGui::End();
}

void Visualiser::canvas(engine::ImGuiLayer& ui, VkExtent2D extent) {
    const float scale = ImGui::GetFontSize() / 16.0f;
    const float panel_w = std::min(380.0f * scale, float(extent.width) * 0.45f);
    ImGui::SetNextWindowPos(ImVec2(panel_w, 0));
    ImGui::SetNextWindowSize(ImVec2(float(extent.width) - panel_w, float(extent.height)));
    ImGui::PushStyleColor(ImGuiCol_WindowBg, ImVec4(0, 0, 0, 0));
    ImGui::Begin("canvas", nullptr, ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoBringToFrontOnFocus |
                                        ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings);
    const double ab = chain_->alpha_bar(), ab_next = chain_->alpha_bar_next();
    if (s_.mode == VisMode::forward) {
        int T = int(schedule_.alpha_bar.size()), t = int(std::lround(s_.forward_t * (T - 1)));
        double a = schedule_.alpha_bar[std::clamp(t, 0, T - 1)];
        ImGui::Text("forward process q(x_t | x₀) at t = %d of %d", t, T);
        ImGui::Text("x_t = √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε = %.3f·x₀ + %.3f·ε      SNR = %.3g", std::sqrt(a), std::sqrt(1 - a),
                    a / (1 - a));
    } else if (s_.scrub >= 0) {
        ImGui::Text("replaying step %d of %d (← → to scrub, 'live' to return)", s_.scrub, chain_->total_steps());
        ImGui::TextUnformatted(" ");
    } else {
        ImGui::Text("step %d of %d   ᾱ = %.4f   SNR = %.3g   %s", chain_->step_index(), chain_->total_steps(), ab,
                    ab / std::max(1 - ab, 1e-12), chain_->done() ? "(done — R restarts)" : s_.playing ? "" : "(paused)");
        if (chain_->done()) {
            ImGui::TextUnformatted("x₀ reached");
        } else {
            // Algorithm 2's step in DDIM form (Song et al. 2020, eq. 12), with its current coefficients.
            double sigma = s_.chain.eta * std::sqrt((1 - ab_next) / std::max(1 - ab, 1e-12)) *
                           std::sqrt(std::max(1 - ab / ab_next, 0.0));
            ImGui::Text("x' = √ᾱ'·x̂₀ + √(1 − ᾱ' − σ²)·ε̂ + σ·z = %.3f·x̂₀ + %.3f·ε̂ + %.3f·z", std::sqrt(ab_next),
                        std::sqrt(std::max(1 - ab_next - sigma * sigma, 0.0)), sigma);
        }
    }
    const bool show_x0 = s_.show_x0, show_pred = s_.show_pred;
    const int panes = 1 + int(show_x0) + int(show_pred);
    ImVec2 avail = ImGui::GetContentRegionAvail();
    const float gap = 12 * scale, label_h = ImGui::GetTextLineHeightWithSpacing();
    float side = std::max(16.0f, std::min((avail.x - gap * float(panes - 1)) / float(panes), avail.y - label_h));
    auto pane = [&](const char* title, engine::TileImage& img) {
        ImGui::BeginGroup();
        ImGui::TextUnformatted(title);
        ui.custom(ImVec2(side, side), [&img](VkCommandBuffer cb, VkExtent2D t, engine::Rect r, VkRect2D clip) {
            // Keep the grid's aspect ratio inside the square.
            float aspect = float(img.width()) / float(img.height());
            engine::Rect fit = r;
            if (aspect > 1) { fit.h = r.w / aspect; fit.y += (r.h - fit.h) / 2; }
            else { fit.w = r.h * aspect; fit.x += (r.w - fit.w) / 2; }
            img.draw(cb, t, fit, &clip);
        });
        ImGui::EndGroup();
    };
    pane(s_.mode == VisMode::forward ? "x_t" : s_.scrub >= 0 ? "x_t (replay)" : "x_t", img_x_);
    if (show_x0) {
        ImGui::SameLine(0, gap);
        pane(s_.mode == VisMode::forward ? "x₀ (data)" : "x̂₀ (the oracle's guess)", img_x0_);
    }
    if (show_pred) {
        ImGui::SameLine(0, gap);
        char title[64];
        std::snprintf(title, sizeof title, "%s", s_.mode == VisMode::forward ? "ε (the noise added)" : view_name(s_.chain.view));
        pane(title, img_pred_);
    }
    ImGui::End();
    ImGui::PopStyleColor();
}

void Visualiser::help_overlay() {
    ImGuiIO& io = ImGui::GetIO();
    ImGui::SetNextWindowPos(ImVec2(io.DisplaySize.x * 0.5f, io.DisplaySize.y * 0.5f), ImGuiCond_Always, ImVec2(0.5f, 0.5f));
    ImGui::SetNextWindowBgAlpha(0.92f);
    ImGui::Begin("keys", &s_.help, ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoCollapse);
    ImGui::TextUnformatted(key_help_text());
    ImGui::End();
}

}  // namespace diffuscope::app
