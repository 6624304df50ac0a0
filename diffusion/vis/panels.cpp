// The visualiser's ImGui panels: controls on the left, the canvas (grids of x_t, x̂₀, the prediction) on the right,
// the help overlay on top.
#include "diffusion/vis/visualiser.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace diffuscope::vis {

namespace {
// Every `stride`-th value of v as float (ImGui plots take floats), at most ~256 points.
std::vector<float> thin(const std::vector<double>& v, double (*f)(double)) {
    size_t stride = std::max<size_t>(1, v.size() / 256);
    std::vector<float> out;
    for (size_t i = 0; i < v.size(); i += stride) out.push_back(float(f(v[i])));
    return out;
}


const char* view_name(PredictionView v) {
    switch (v) {
        case PredictionView::x0: return "x̂₀";
        case PredictionView::eps: return "ε̂";
        case PredictionView::score: return "score";
        case PredictionView::v: return "v̂";
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

    mode_picker();
    if (s_.mode == VisMode::field2d) {
        field2d_panel();
    } else {
        if (s_.mode == VisMode::fieldimg && ImGui::CollapsingHeader("Image field", ImGuiTreeNodeFlags_DefaultOpen))
            fieldimg_panel();  // vis/fieldimg_panel.cpp
        if (ImGui::CollapsingHeader("Chains", ImGuiTreeNodeFlags_DefaultOpen)) sample_panels();
    }

    schedule_panel(panel_w, scale);
    playback_panel();
    if (training_) ImGui::SetNextItemOpen(true, ImGuiCond_Once);  // opened when training starts (--train)
    if (ImGui::CollapsingHeader("Training")) training_panel();

    view_panel(ui);
    performance_panel();
    ImGui::End();
}

// The four views; the digit views need chains (MNIST digits or a UNet).
void Visualiser::mode_picker() {
    int mode = int(s_.mode);
    if (!chain_) ImGui::BeginDisabled();
    ImGui::RadioButton("sample", &mode, 0);
    ImGui::SameLine();
    ImGui::RadioButton("forward", &mode, 1);
    if (!chain_) ImGui::EndDisabled();
    ImGui::SameLine();
    ImGui::RadioButton("2-D field", &mode, 2);
    if (!chain_) ImGui::BeginDisabled();
    ImGui::RadioButton("image field", &mode, 3);
    if (!chain_) ImGui::EndDisabled();
    s_.mode = VisMode(mode);
    if (!data_message_.empty()) ImGui::TextColored(ImVec4(1, 0.6f, 0.3f, 1), "no MNIST data (see the canvas)");
    if (!chain_) {
        // No digit chains (no MNIST digits and no readable UNet): a weights file brings them, digits or not.
        ImGui::TextDisabled("digit chains need a UNet:");
        weights_loader();
    }
}

// The 2-D field view's settings: data set, arrows, particles, the exact or learned model.
void Visualiser::field2d_panel() {
    if (!ImGui::CollapsingHeader("2-D field", ImGuiTreeNodeFlags_DefaultOpen)) return;
    bool restart = false;
    restart |= ImGui::Combo("data set", &s_.field.dataset, "gmm8 (8 Gaussians)\0rings\0moons\0digits (strokes)\0");
    int arrows = s_.field.score ? 1 : 0;
    if (ImGui::Combo("arrows", &arrows, "denoise direction x̂₀ − x_t\0score ∇log p_t(x_t)\0")) s_.field.score = arrows == 1;
    ImGui::Checkbox("trails", &s_.field.trails);
    restart |= ImGui::SliderInt("particles", &s_.field.particles, 16, 1024, "%d", ImGuiSliderFlags_Logarithmic);
    restart |= ImGui::SliderInt("particle steps", &s_.field.steps, 5, 250);
    if (ImGui::Button("new particles")) restart = true;
    int model = int(s_.field.model);
    if (ImGui::Combo("model", &model, "exact (closed form)\0learned (MLP, trains here)\0exact | learned\0learned − exact\0")) {
        s_.field.model = FieldModel(model);
        restart = true;  // the learned panels need their own particles
    }
    if (s_.field.model != FieldModel::exact) {
        ImGui::Checkbox("learn", &s_.field.learn);
        ImGui::SameLine();
        ImGui::TextDisabled("%llu steps, loss %.4f, %.1f ms/step", (unsigned long long)field_->learn_steps(),
                            field_->learn_loss(), field_->learn_step_ms());
        ImGui::TextDisabled("MLP 3×96 SiLU, v-prediction, batch 256, AdamW, EMA 0.99");
    }
    if (restart) field_restart_ = true;
    ImGui::TextDisabled("sampler: DDIM η = 0 (probability-flow path)");
}

// The β schedule: preset or drawn curve, T and steps, and its β, ᾱ, √ᾱ and SNR plotted.
void Visualiser::schedule_panel(float panel_w, float scale) {
    if (!ImGui::CollapsingHeader("Schedule", ImGuiTreeNodeFlags_DefaultOpen)) return;
    bool changed = false;
    int preset = int(s_.schedule.preset);
    if (ImGui::Combo("β schedule", &preset, "linear\0scaled-linear\0quadratic\0cosine\0sigmoid\0curve (drag below)\0")) {
        if (SchedulePreset(preset) == SchedulePreset::curve) seed_curve_from_schedule();
        s_.schedule.preset = SchedulePreset(preset);
        changed = true;
    }
    changed |= ImGui::SliderInt("T", &s_.schedule.timesteps, 10, 4000, "%d", ImGuiSliderFlags_Logarithmic);
    changed |= ImGui::SliderInt("steps", &s_.schedule.steps, 1, s_.schedule.timesteps, "%d", ImGuiSliderFlags_Logarithmic);
    s_.schedule.steps = std::min(s_.schedule.steps, s_.schedule.timesteps);
    ImGui::Text("final ᾱ_T = %.3g   SNR_T = %.3g", schedule_.final_alpha_bar(), schedule_.final_snr());
    if (s_.schedule.preset == SchedulePreset::curve) {
        int space = int(s_.schedule.space);
        changed |= ImGui::RadioButton("drag β(t)", &space, 0);
        ImGui::SameLine();
        changed |= ImGui::RadioButton("drag log-SNR(t)", &space, 1);
        s_.schedule.space = CurveSpace(space);
        changed |= curve_editor(panel_w - 24 * scale);
    }
    if (changed) schedule_changed();
    if (!schedule_error_.empty()) ImGui::TextColored(ImVec4(1, 0.4f, 0.3f, 1), "%s", schedule_error_.c_str());
    const ImVec2 plot(panel_w - 24 * scale, 40 * scale);
    auto b = thin(schedule_.beta, [](double v) { return v; });
    auto ab = thin(schedule_.alpha_bar, [](double v) { return v; });
    auto sab = thin(schedule_.alpha_bar, [](double v) { return std::sqrt(v); });
    auto snr = thin(schedule_.alpha_bar, [](double v) { return std::log10(v / std::max(1 - v, 1e-300)); });
    ImGui::PlotLines("##beta", b.data(), int(b.size()), 0, "β(t)", 0, FLT_MAX, plot);
    ImGui::PlotLines("##ab", ab.data(), int(ab.size()), 0, "ᾱ(t)", 0, 1, plot);
    ImGui::PlotLines("##sab", sab.data(), int(sab.size()), 0, "√ᾱ(t)", 0, 1, plot);
    ImGui::PlotLines("##snr", snr.data(), int(snr.size()), 0, "log₁₀ SNR(t)", FLT_MAX, FLT_MAX, plot);
}

// Play, step, restart, speed and budget, the timeline, and the exports.
void Visualiser::playback_panel() {
    if (!ImGui::CollapsingHeader("Playback", ImGuiTreeNodeFlags_DefaultOpen)) return;
    if (ImGui::Button(s_.playing ? "pause" : "play")) s_.playing = !s_.playing;
    ImGui::SameLine();
    if (ImGui::Button("step")) step_once_ = true;
    ImGui::SameLine();
    if (ImGui::Button("restart")) {
        if (s_.mode == VisMode::field2d) field_restart_ = true;
        else restart_next_frame();
    }
    ImGui::SliderFloat("steps/s", &s_.speed, 1.0f, 1000.0f, "%.0f", ImGuiSliderFlags_Logarithmic);
    ImGui::SliderFloat("GPU budget ms", &s_.budget_ms, 1.0f, 100.0f, "%.0f");
    // The timeline: the chain's trajectory on the GPU (the field view: the particles' trajectory).
    const bool field = s_.mode == VisMode::field2d;
    int& scrub = field ? s_.field.scrub : s_.scrub;
    int last = field ? field_->step() : std::max(0, int(chain_ ? chain_->history_frames() : 1) - 1);
    bool live = scrub < 0;
    if (ImGui::Checkbox("live", &live)) scrub = live ? -1 : last;
    ImGui::SameLine();
    int pos = live ? last : scrub;
    if (ImGui::SliderInt("timeline", &pos, 0, last)) {
        scrub = pos;
        s_.playing = false;
    }
    if (s_.mode == VisMode::forward) ImGui::SliderFloat("forward τ", &s_.forward_t, 0.0f, 1.0f, "%.3f");
    if (chain_ && !field) {  // saved at the start of the next frame, when the GPU is idle
        if (ImGui::Button("save GIF")) export_request_ = Export::gif;
        ImGui::SameLine();
        if (ImGui::Button("save PNG")) export_request_ = Export::png;
        if (!export_message_.empty()) ImGui::TextWrapped("%s", export_message_.c_str());
    }
}

// What the canvas shows, colours, vsync, lecture mode and the UI scale.
void Visualiser::view_panel(engine::ImGuiLayer& ui) {
    if (!ImGui::CollapsingHeader("View")) return;
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

// Frame times, the chains' throughput, how a step is sliced, and each pass's GPU time.
void Visualiser::performance_panel() {
    if (!ImGui::CollapsingHeader("Performance", ImGuiTreeNodeFlags_DefaultOpen)) return;
    std::vector<double> ft(stats_.frame_ms.begin(), stats_.frame_ms.end());
    double p50 = percentile(ft, 0.5), p99 = percentile(ft, 0.99);
    ImGui::Text("%.1f FPS   frame %.1f ms (p50) / %.1f ms (p99)", p50 > 0 ? 1000 / p50 : 0.0, p50, p99);
    ImGui::Text("%.1f steps/s   %.1f GPU ms/step", stats_.steps_per_second, stats_.step_gpu_ms);
    if (chain_ && stats_.step_gpu_ms > 0 && s_.budget_ms > 0)
        ImGui::Text("one step spread over ~%.0f frames (budget %.0f ms)",
                    std::ceil(stats_.step_gpu_ms / s_.budget_ms), double(s_.budget_ms));
    if (chain_)
        ImGui::Text("this frame: %u ops (%.1f ms predicted), group %u/%u op %zu/%zu", stats_.operations_last_frame,
                    stats_.slice_predicted_ms, chain_->group_in_progress() + 1,
                    chain_->group_count(),
                    chain_->operation_in_progress(), chain_->operations_per_group());
    for (const auto& p : stats_.passes) ImGui::Text("  %-10s %7.2f ms", p.name.c_str(), p.ms);
    ImGui::TextDisabled("device: %s", ctx_->info().name.c_str());
    ImGui::TextDisabled("compute queue: %s%s", ctx_->async_reason().c_str(),
                        ctx_->async_compute() && !async_frame() ? " (this view: the main queue)" : "");
}

// A UNet weights file typed (or pasted) into the model panel, and why the last one was refused.
void Visualiser::weights_loader() {
    ImGui::SetNextItemWidth(ImGui::GetContentRegionAvail().x * 0.7f);
    const bool enter = ImGui::InputTextWithHint("##weights", "weights file (.safetensors)", weights_input_.data(),
                                                weights_input_.size(), ImGuiInputTextFlags_EnterReturnsTrue);
    ImGui::SameLine();
    if (ImGui::Button("load") || enter) load_weights_file(weights_input_.data());
    if (!model_error_.empty()) ImGui::TextColored(ImVec4(1, 0.4f, 0.3f, 1), "%s", model_error_.c_str());
}

void Visualiser::sample_panels() {
    if (!chain_) {
        ImGui::TextWrapped("%s", data_message_.c_str());
        return;
    }
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
    // The model: the trained UNet (--weights, else the bundled one) or the empirical oracle (vis/model_source.hpp);
    // a pick is swapped in at the start of the next frame.
    if (source_ >= 0 && ImGui::BeginCombo("model", sources_[size_t(source_)].label.c_str())) {
        for (int i = 0; i < int(sources_.size()); ++i)
            if (ImGui::Selectable(sources_[size_t(i)].label.c_str(), i == source_) && i != source_) pending_source_ = i;
        ImGui::EndCombo();
    }
    weights_loader();
    if (model_) ImGui::TextDisabled("%s", model_->description.c_str());
    int sampler = int(s_.chain.sampler);
    changed |= ImGui::Combo("sampler", &sampler, "DDPM (ancestral)\0DDIM\0Euler (ODE)\0Heun (ODE)\0SDE (Euler–Maruyama)\0DPM++ 2M\0");
    s_.chain.sampler = SamplerKind(sampler);
    if (s_.chain.sampler == SamplerKind::ddim) changed |= ImGui::SliderFloat("η", &s_.chain.eta, 0.0f, 1.0f, "%.2f");
    int view = int(s_.chain.view);
    if (ImGui::Combo("prediction", &view, "x̂₀\0ε̂\0score\0v̂\0")) {
        s_.chain.view = PredictionView(view);
        changed = true;
    }
    if (changed) chain_->set_settings(s_.chain);
}

void Visualiser::seed_curve_from_schedule() {
    // The curve starts as the schedule now in use, sampled at its control points.
    const int T = int(schedule_.beta.size());
    auto& b = s_.schedule.beta_points;
    auto& l = s_.schedule.log_snr_points;
    for (size_t k = 0; k < b.size(); ++k) {
        const double u = double(k) / double(b.size() - 1);
        b[k] = std::clamp(schedule_.beta[size_t(std::lround(u * (T - 1)))] * T / 1000.0, 1e-5, 0.5);
        const double a = schedule_.alpha_bar[size_t(std::clamp(std::lround(u * T) - 1, 0L, long(T - 1)))];
        l[k] = std::clamp(std::log(a / std::max(1 - a, 1e-12)), -15.0, 15.0);
        if (k && l[k] > l[k - 1] - 0.1) l[k] = l[k - 1] - 0.1;  // λ must fall strictly
    }
}

bool Visualiser::curve_editor(float width) {
    // Drag a control point up or down. β is shown on a log axis; λ = log-SNR must keep falling left to right.
    const float scale = ImGui::GetFontSize() / 16.0f;
    const bool beta = s_.schedule.space == CurveSpace::beta;
    auto& pts = beta ? s_.schedule.beta_points : s_.schedule.log_snr_points;
    const double ylo = beta ? -5.0 : -15.0, yhi = beta ? -0.3 : 15.0;
    const ImVec2 p0 = ImGui::GetCursorScreenPos(), size(width, 130 * scale);
    ImGui::InvisibleButton("curve", size);
    auto value_to_y = [&](double v) { return p0.y + size.y * float(1 - ((beta ? std::log10(v) : v) - ylo) / (yhi - ylo)); };
    auto point = [&](size_t k) { return ImVec2(p0.x + size.x * float(k) / float(pts.size() - 1), value_to_y(pts[k])); };
    const ImVec2 mouse = ImGui::GetIO().MousePos;
    if (ImGui::IsItemActivated()) {
        drag_point_ = -1;
        float best = 14 * scale;
        for (size_t k = 0; k < pts.size(); ++k) {
            ImVec2 q = point(k);
            float d = std::hypot(q.x - mouse.x, q.y - mouse.y);
            if (d < best) best = d, drag_point_ = int(k);
        }
    }
    bool changed = false;
    if (ImGui::IsItemActive() && drag_point_ >= 0) {
        double y = ylo + (yhi - ylo) * (1 - std::clamp((mouse.y - p0.y) / size.y, 0.0f, 1.0f));
        double v = beta ? std::pow(10.0, y) : y;
        const size_t k = size_t(drag_point_);
        if (!beta) {  // keep λ strictly decreasing
            if (k > 0) v = std::min(v, pts[k - 1] - 0.05);
            if (k + 1 < pts.size()) v = std::max(v, pts[k + 1] + 0.05);
        }
        if (v != pts[k]) pts[k] = v, changed = true;
    }
    if (!ImGui::IsItemActive()) drag_point_ = -1;
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->AddRectFilled(p0, ImVec2(p0.x + size.x, p0.y + size.y), IM_COL32(30, 34, 40, 255));
    // The schedule in use (what the guard let through), then the control points.
    const int T = int(schedule_.beta.size());
    std::vector<ImVec2> line;
    for (int i = 0; i <= 128; ++i) {
        int t = std::min(T - 1, i * (T - 1) / 128);
        double a = schedule_.alpha_bar[size_t(t)];
        double v = beta ? std::max(schedule_.beta[size_t(t)] * T / 1000.0, 1e-12) : std::log(a / std::max(1 - a, 1e-300));
        float y = std::clamp(value_to_y(v), p0.y, p0.y + size.y);
        line.push_back(ImVec2(p0.x + size.x * float(i) / 128.0f, y));
    }
    dl->AddPolyline(line.data(), int(line.size()), IM_COL32(120, 200, 255, 255), 0, 2 * scale);
    for (size_t k = 0; k < pts.size(); ++k)
        dl->AddCircleFilled(point(k), 5 * scale, int(k) == drag_point_ ? IM_COL32(255, 200, 60, 255) : IM_COL32(240, 240, 240, 255));
    ImGui::TextDisabled(beta ? "log₁₀ β (×T/1000) from −5 to −0.3 over t" : "λ = log-SNR from −15 to 15 over t");
    return changed;
}

void Visualiser::canvas(engine::ImGuiLayer& ui, VkExtent2D extent) {
    const float scale = ImGui::GetFontSize() / 16.0f;
    const float panel_w = std::min(380.0f * scale, float(extent.width) * 0.45f);
    ImGui::SetNextWindowPos(ImVec2(panel_w, 0));
    ImGui::SetNextWindowSize(ImVec2(float(extent.width) - panel_w, float(extent.height)));
    ImGui::PushStyleColor(ImGuiCol_WindowBg, ImVec4(0, 0, 0, 0));
    ImGui::Begin("canvas", nullptr, ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoBringToFrontOnFocus |
                                        ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings);
    if (s_.mode == VisMode::field2d || s_.mode == VisMode::fieldimg) {
        if (s_.mode == VisMode::field2d) field_canvas(ui);
        else fieldimg_canvas(ui);  // vis/fieldimg_panel.cpp
        ImGui::End();
        ImGui::PopStyleColor();
        return;
    }
    if (!chain_) {  // not reachable from the panels (field2d is forced), kept for safety
        ImGui::TextWrapped("%s", data_message_.c_str());
        ImGui::End();
        ImGui::PopStyleColor();
        return;
    }
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
            // The step in DDIM form (Song et al. 2020, eq. 12) with its current coefficients (the DDIM sampler's
            // update; the other samplers take the same x̂₀, ε̂ and differ in how they combine them).
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
        ui.custom(ImVec2(side, side), [im = &img](VkCommandBuffer cb, VkExtent2D t, engine::Rect r, VkRect2D clip) {
            // Keep the grid's aspect ratio inside the square.
            float aspect = float(im->width()) / float(im->height());
            engine::Rect fit = r;
            if (aspect > 1) { fit.h = r.w / aspect; fit.y += (r.h - fit.h) / 2; }
            else { fit.w = r.h * aspect; fit.x += (r.w - fit.w) / 2; }
            im->draw(cb, t, fit, &clip);
        });
        ImGui::EndGroup();
    };
    pane(s_.mode == VisMode::forward ? "x_t" : s_.scrub >= 0 ? "x_t (replay)" : "x_t", tiles().x);
    if (show_x0) {
        ImGui::SameLine(0, gap);
        pane(s_.mode == VisMode::forward ? "x₀ (data)" : "x̂₀ (the model's guess)", tiles().x0);
    }
    if (show_pred) {
        ImGui::SameLine(0, gap);
        char title[64];
        std::snprintf(title, sizeof title, "%s", s_.mode == VisMode::forward ? "ε (the noise added)" : view_name(s_.chain.view));
        pane(title, tiles().pred);
    }
    ImGui::End();
    ImGui::PopStyleColor();
}

void Visualiser::field_canvas(engine::ImGuiLayer& ui) {
    const double ab = field_->shown_alpha_bar();
    if (!data_message_.empty()) {
        ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1, 0.6f, 0.3f, 1));
        ImGui::TextWrapped("%s", data_message_.c_str());
        ImGui::PopStyleColor();
    }
    ImGui::Text("2-D field: %s   step %d of %d%s   ᾱ = %.4f   SNR = %.3g", field_->dataset().c_str(), field_->shown_slot(),
                field_->steps(), s_.field.scrub >= 0 ? " (replay)" : "", ab, ab / std::max(1 - ab, 1e-12));
    ImGui::TextUnformatted(s_.field.score ? "arrows: the score ∇log p_t(x_t) = (√ᾱ·x̂₀ − x_t)/(1 − ᾱ), shortened; colour = strength"
                                          : "arrows: x̂₀ − x_t, where the denoiser sends each point; colour = length");
    if (s_.field.model == FieldModel::difference)
        ImGui::TextUnformatted("learned − exact: the network's error at each point (same scale as the field's arrows)");
    const auto panels = field_->panels();
    const float gap = ImGui::GetStyle().ItemSpacing.x, title = ImGui::GetTextLineHeightWithSpacing();
    ImVec2 avail = ImGui::GetContentRegionAvail();
    const float n = float(panels.size());
    float side = std::max(16.0f, std::min((avail.x - gap * (n - 1)) / n, avail.y - title));
    Field2d* field = field_.get();
    for (size_t i = 0; i < panels.size(); ++i) {
        const Field2d::Panel panel = panels[i];
        if (i) ImGui::SameLine();
        ImGui::BeginGroup();
        char label[96];
        if (panel == Field2d::Panel::exact)
            std::snprintf(label, sizeof label, "exact (closed form)");
        else
            std::snprintf(label, sizeof label, "%s, %llu training steps", panel == Field2d::Panel::learned ? "learned" : "learned − exact",
                          (unsigned long long)field_->learn_steps());
        ImGui::TextUnformatted(label);
        ui.custom(ImVec2(side, side), [field, panel](VkCommandBuffer cb, VkExtent2D t, engine::Rect r, VkRect2D clip) {
            field->draw(cb, t, r, &clip, panel);
        });
        ImGui::EndGroup();
    }
}

void Visualiser::help_overlay() {
    ImGuiIO& io = ImGui::GetIO();
    ImGui::SetNextWindowPos(ImVec2(io.DisplaySize.x * 0.5f, io.DisplaySize.y * 0.5f), ImGuiCond_Always, ImVec2(0.5f, 0.5f));
    ImGui::SetNextWindowBgAlpha(0.92f);
    ImGui::Begin("keys", &s_.help, ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoCollapse);
    ImGui::TextUnformatted(key_help_text());
    ImGui::End();
}

}  // namespace diffuscope::vis
