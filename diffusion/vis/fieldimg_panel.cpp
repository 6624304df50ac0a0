// The image-mode field view's part of the visualiser (vis/fieldimg.hpp): its per-frame GPU work, its panel and its
// canvas — the x_t grid under the direction heat map, and the 2-D slice with the arrows, the chain's projected path,
// x_t and the class means.
#include "diffusion/vis/visualiser.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

namespace diffuscope::vis {

void Visualiser::record_fieldimg(engine::CommandBuffer& cmd, engine::Timestamps& ts, uint32_t slot) {
    if (!chain_ || !model_ || restart_) return;  // (a restart this frame: the chains have no x_t yet)
    // This slot's last frame has finished (frame() read its timestamps into stats_.passes): what did the field cost?
    for (const auto& p : stats_.passes)
        if (p.name == "field") fieldimg_->measured(slot, p.ms);
    ts.begin(cmd, "field");
    // The model is fetched only when the field must bind to a new one (a UNet's denoiser() copies its weights).
    std::optional<Denoiser> model;
    if (!fieldimg_->bound_to(*chain_)) model = model_->denoiser();
    // Its own GPU-time budget beside the sampler's; the sampler's too while the chains stand still.
    const bool chains_move = s_.playing && s_.scrub < 0 && !chain_->done();
    fieldimg_->record_field(cmd, {chain_.get(), model ? &*model : nullptr, train_ ? &*train_ : nullptr, &schedule_},
                            s_.fieldimg, s_.budget_ms * (chains_move ? 1 : 2), slot);
    ts.end(cmd);
}

void Visualiser::fieldimg_panel() {
    if (!chain_) {
        ImGui::TextWrapped("%s", data_message_.c_str());
        return;
    }
    FieldImgSettings& f = s_.fieldimg;
    ImGui::Checkbox("direction heat map over x_t", &f.overlay);
    if (f.overlay) ImGui::SliderFloat("opacity", &f.overlay_opacity, 0.1f, 1.0f, "%.2f");
    const int chains = int(chain_->settings().chains);
    f.chain = std::clamp(f.chain, 0, chains - 1);
    if (chains > 1) ImGui::SliderInt("slice: chain", &f.chain, 0, chains - 1);
    int basis = int(f.basis);
    ImGui::RadioButton("towards 2 class means", &basis, 0);
    ImGui::SameLine();
    ImGui::RadioButton("path PCA", &basis, 1);
    f.basis = SliceBasis(basis);
    if (f.basis == SliceBasis::class_means) {
        ImGui::Checkbox("a = the chain's digit", &f.a_is_label);
        if (!f.a_is_label || chain_->settings().label_mode == LabelMode::unconditional)
            ImGui::SliderInt("class a", &f.class_a, 0, 9);
        ImGui::SliderInt("class b", &f.class_b, 0, 9);
        if (!train_) ImGui::TextColored(ImVec4(1, 0.6f, 0.3f, 1), "no MNIST digits: no class means");
    }
    ImGui::SliderInt("grid K", &f.grid, 5, int(FieldImg::max_grid));
    const FieldSlice& filling = fieldimg_->filling_slice();
    if (fieldimg_->filling())
        ImGui::Text("evaluating the next slice: %u of %u points", std::min(fieldimg_->filled(), filling.points), filling.points);
    else
        ImGui::TextUnformatted("slice complete (refreshes when the chain moves)");
    const FieldSlice& shown = fieldimg_->shown_slice();
    if (shown.valid && !shown.note.empty()) ImGui::TextColored(ImVec4(1, 0.6f, 0.3f, 1), "%s", shown.note.c_str());
    ImGui::TextDisabled(s_.chain.view == PredictionView::score ? "arrows, heat map: the score ∇log p_t (prediction view)"
                                                               : "arrows, heat map: x̂₀ − x (score: prediction view)");
}

void Visualiser::fieldimg_canvas(engine::ImGuiLayer& ui) {
    if (!chain_) {
        ImGui::TextWrapped("%s", data_message_.c_str());
        return;
    }
    const float scale = ImGui::GetFontSize() / 16.0f;
    const FieldSlice& sl = fieldimg_->shown_slice();
    const bool score = s_.chain.view == PredictionView::score;
    const double ab = chain_->alpha_bar();
    ImGui::Text("image-space field   step %d of %d   ᾱ = %.4f   SNR = %.3g%s", chain_->step_index(), chain_->total_steps(),
                ab, ab / std::max(1 - ab, 1e-12), s_.scrub >= 0 ? "   (replay: the slice stays at the live chain)" : "");
    if (!sl.valid) {
        ImGui::TextUnformatted("evaluating the first slice …");
    } else if (sl.basis == SliceBasis::class_means) {
        ImGui::Text("plane through chain %u's x_t (step %d, ᾱ = %.4f): u → mean of %d, v → mean of %d (Gram–Schmidt)",
                    sl.chain, sl.step, sl.alpha_bar, sl.class_a, sl.class_b);
    } else {
        ImGui::Text("plane through chain %u's x_t (step %d, ᾱ = %.4f): u, v = its path's principal directions (%.0f%% + %.0f%%)",
                    sl.chain, sl.step, sl.alpha_bar, 100 * sl.share[0], 100 * sl.share[1]);
    }
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const float gap = 12 * scale, line = ImGui::GetTextLineHeightWithSpacing();
    const float side = std::max(16.0f, std::min((avail.x - gap) / 2, avail.y - 3 * line));
    ImDrawList* dl = ImGui::GetWindowDrawList();

    // Left: the x_t grid, the heat map over it, chain k framed.
    ImGui::BeginGroup();
    ImGui::TextUnformatted(score ? "x_t under the score (red: up, blue: down)" : "x_t under x̂₀ − x_t (red: brighter, blue: darker)");
    const bool overlay = s_.fieldimg.overlay && s_.scrub < 0;
    const float opacity = s_.fieldimg.overlay_opacity;
    const engine::TileImage* grid = &tiles().x;  // this frame slot's (see Visualiser::Tiles)
    auto fit = [grid](engine::Rect r) {  // the grid's aspect ratio inside the square
        const float aspect = float(grid->width()) / float(grid->height());
        engine::Rect f = r;
        if (aspect > 1) f.h = r.w / aspect, f.y += (r.h - f.h) / 2;
        else f.w = r.h * aspect, f.x += (r.w - f.w) / 2;
        return f;
    };
    ui.custom(ImVec2(side, side), [this, grid, fit, overlay, opacity](VkCommandBuffer cb, VkExtent2D t, engine::Rect r, VkRect2D clip) {
        const engine::Rect f = fit(r);
        grid->draw(cb, t, f, &clip);
        if (overlay) fieldimg_->draw_overlay(cb, t, f, &clip, opacity);
    });
    {
        const ImVec2 p0 = ImGui::GetItemRectMin();
        const engine::Rect f = fit({p0.x, p0.y, side, side});
        const uint32_t n = chain_->settings().chains, cols = uint32_t(std::ceil(std::sqrt(double(n))));
        const uint32_t k = sl.valid ? sl.chain : uint32_t(std::clamp(s_.fieldimg.chain, 0, int(n) - 1));
        const float px = f.w / float(grid->width());
        const ImVec2 a(f.x + float(1 + (k % cols) * 29) * px, f.y + float(1 + (k / cols) * 29) * px);
        dl->AddRect(ImVec2(a.x - 1, a.y - 1), ImVec2(a.x + 28 * px + 1, a.y + 28 * px + 1), IM_COL32(255, 140, 50, 255), 0, 0,
                    2 * scale);
    }
    ImGui::EndGroup();
    ImGui::SameLine(0, gap);

    // Right: the slice.
    ImGui::BeginGroup();
    ImGui::TextUnformatted(score ? "slice: the score at p, projected (longest arrow = 1 cell)"
                                 : "slice: x̂₀(p) − p, projected (longest arrow = 1 cell)");
    const FieldImg::Shown shown = fieldimg_->shown();
    FieldImg* field = fieldimg_.get();
    {  // a mid-grey ground under the arrows (before them in the draw list): the short, dark-purple ones stay visible
        const ImVec2 c = ImGui::GetCursorScreenPos();
        dl->AddRectFilled(c, ImVec2(c.x + side, c.y + side), IM_COL32(52, 55, 63, 255));
    }
    ui.custom(ImVec2(side, side), [field, shown](VkCommandBuffer cb, VkExtent2D t, engine::Rect r, VkRect2D clip) {
        field->draw_field(cb, t, r, &clip, shown);
    });
    const ImVec2 p0 = ImGui::GetItemRectMin(), p1 = ImGui::GetItemRectMax();
    dl->AddRect(p0, p1, IM_COL32(90, 90, 100, 255));
    if (sl.valid) {
        dl->PushClipRect(p0, p1, true);
        auto at = [&](const std::array<double, 2>& q) {
            return ImVec2(p0.x + float((q[0] - sl.lo[0]) / (sl.hi[0] - sl.lo[0])) * (p1.x - p0.x),
                          p1.y - float((q[1] - sl.lo[1]) / (sl.hi[1] - sl.lo[1])) * (p1.y - p0.y));
        };
        std::vector<ImVec2> path;
        for (const auto& q : sl.path) path.push_back(at(q));
        const ImU32 blue = IM_COL32(110, 180, 255, 255), white = IM_COL32(240, 240, 240, 255);
        dl->AddPolyline(path.data(), int(path.size()), blue, 0, 2 * scale);
        for (const ImVec2& q : path) dl->AddCircleFilled(q, 2.2f * scale, blue);
        if (path.size() > 1) dl->AddText(ImVec2(path.front().x + 5 * scale, path.front().y - line), blue, "x_T");
        for (const auto& m : sl.marks) {
            const ImVec2 q = at(m.at);
            dl->AddCircle(q, 7 * scale, white, 0, 2 * scale);
            dl->AddCircleFilled(q, 3 * scale, white);
            const float w = ImGui::CalcTextSize(m.name.c_str()).x;  // the label on the side with room
            dl->AddText(ImVec2(q.x + 9 * scale + w < p1.x ? q.x + 9 * scale : q.x - 9 * scale - w, q.y - line / 2), white,
                        m.name.c_str());
        }
        const ImVec2 x = at({0.0, 0.0});
        dl->AddCircleFilled(x, 6 * scale, IM_COL32(255, 140, 50, 255));
        dl->AddText(ImVec2(x.x + 8 * scale, x.y + 2 * scale), IM_COL32(255, 140, 50, 255), "x_t");
        dl->PopClipRect();
        char text[96];
        std::snprintf(text, sizeof text, "u →   (%.1f … %.1f)", sl.lo[0], sl.hi[0]);
        dl->AddText(ImVec2(p0.x + 4 * scale, p1.y - line), IM_COL32(170, 170, 180, 255), text);
        std::snprintf(text, sizeof text, "v ↑   (%.1f … %.1f)", sl.lo[1], sl.hi[1]);
        dl->AddText(ImVec2(p0.x + 4 * scale, p0.y + 2 * scale), IM_COL32(170, 170, 180, 255), text);
    }
    ImGui::EndGroup();
    ImGui::TextDisabled("blue: the chain's path, projected (x_T → x_t)   orange: x_t and its own arrow%s",
                        sl.marks.empty() ? "" : "   white: class means");
}

}  // namespace diffuscope::vis
