#include "engine/renderer.hpp"

#include <algorithm>
#include <cmath>

namespace engine {

namespace {
struct TilesPush {
    uint32_t src_offset, count, channels, height, width, cols, rows, gap, map;
    float lo, hi;
    uint32_t background;
};
struct QuadPush {
    float rect[4];
    float target[2];
    uint32_t image_w, image_h;
    float opacity;
};
struct ArrowsPush {
    float rect[4], domain[4], colour[4];
    float target[2];
    float scale, thickness, head, max_length;
    uint32_t mode, flags;
};
}  // namespace

TilePipelines::TilePipelines(Context& ctx, VkRenderPass pass)
    : tiles(ctx, {"render/tiles.comp", 2, sizeof(TilesPush)}),
      quad(ctx, pass, {"render/quad.vert", "render/image.frag", 1, sizeof(QuadPush)}) {}

TileImage::TileImage(Context& ctx, TilePipelines& p, uint32_t max_pixels)
    : ctx_(&ctx), pipes_(&p), grid_(ctx, VkDeviceSize(std::max(1u, max_pixels)) * 4), max_pixels_(max_pixels) {
    draw_set_ = pipes_->quad.bind({grid_});
}

void TileImage::record(CommandBuffer& cmd, const Buffer& src, uint32_t src_offset, const TileLayout& l) {
    if (l.cols == 0 || l.count == 0 || l.width == 0 || l.height == 0 || l.channels == 0)
        throw std::invalid_argument("TileImage: empty layout (count, cols, channels, height, width must be ≥ 1)");
    if (uint64_t(l.grid_width()) * l.grid_height() > max_pixels_)
        throw std::invalid_argument("TileImage: a " + std::to_string(l.grid_width()) + "×" + std::to_string(l.grid_height()) +
                                    " grid exceeds the " + std::to_string(max_pixels_) + " pixels this image holds");
    uint64_t need = (uint64_t(src_offset) + uint64_t(l.count) * l.channels * l.height * l.width) * 4;
    if (need > src.size())
        throw std::invalid_argument("TileImage: " + std::to_string(l.count) + " images of " + std::to_string(l.channels) +
                                    "×" + std::to_string(l.height) + "×" + std::to_string(l.width) + " floats at offset " +
                                    std::to_string(src_offset) + " exceed the " + std::to_string(src.size()) +
                                    "-byte source buffer");
    layout_ = l;
    auto it = compute_sets_.find(src.id());
    if (it == compute_sets_.end()) it = compute_sets_.emplace(src.id(), pipes_->tiles.bind({src, grid_})).first;
    TilesPush push{src_offset, l.count, l.channels, l.height, l.width, l.cols, l.rows(), l.gap, uint32_t(l.map),
                   l.lo, l.hi, l.background};
    cmd.dispatch(pipes_->tiles, it->second, push, groups_for(l.grid_width(), 16), groups_for(l.grid_height(), 16));
}

VkRect2D to_scissor(Rect r, VkExtent2D t) {
    float x0 = std::clamp(std::floor(r.x), 0.0f, float(t.width)), y0 = std::clamp(std::floor(r.y), 0.0f, float(t.height));
    float x1 = std::clamp(std::ceil(r.x + r.w), x0, float(t.width)), y1 = std::clamp(std::ceil(r.y + r.h), y0, float(t.height));
    return {{int32_t(x0), int32_t(y0)}, {uint32_t(x1 - x0), uint32_t(y1 - y0)}};
}

void TileImage::draw(VkCommandBuffer cb, VkExtent2D target, Rect r, const VkRect2D* clip, float opacity) const {
    QuadPush push{{r.x, r.y, r.w, r.h}, {float(target.width), float(target.height)}, width(), height(), opacity};
    VkRect2D sc = clip ? *clip : to_scissor(r, target);
    pipes_->quad.draw(cb, target, draw_set_, push, 6, 1, &sc);
}

std::vector<uint8_t> TileImage::download_rgba() const {
    return grid_.download_as<uint8_t>(size_t(width()) * height() * 4);
}

Arrows::Arrows(Context& ctx, VkRenderPass pass)
    : pipe_(ctx, pass, {"render/arrows.vert", "render/flat.frag", 2, sizeof(ArrowsPush)}) {}

void Arrows::draw(VkCommandBuffer cb, VkExtent2D target, Rect r, const Buffer& items, uint32_t count,
                  const ArrowStyle& s, const Buffer* weights) {
    if (count == 0) return;
    if (uint64_t(count) * 16 > items.size())
        throw std::invalid_argument("Arrows: " + std::to_string(count) + " items exceed the " +
                                    std::to_string(items.size()) + "-byte buffer");
    if (s.use_weights && (!weights || uint64_t(count) * 4 > weights->size()))
        throw std::invalid_argument("Arrows: use_weights needs a weights buffer of ≥ " + std::to_string(count) + " floats");
    const Buffer& w = weights ? *weights : items;  // bound but unread without use_weights
    auto key = std::make_pair(items.id(), w.id());
    auto it = sets_.find(key);
    if (it == sets_.end()) it = sets_.emplace(key, pipe_.bind({items, w})).first;
    ArrowsPush p{};
    float rect[4] = {r.x, r.y, r.w, r.h};
    std::copy(rect, rect + 4, p.rect);
    std::copy(s.domain, s.domain + 4, p.domain);
    std::copy(s.colour, s.colour + 4, p.colour);
    p.target[0] = float(target.width);
    p.target[1] = float(target.height);
    p.scale = s.scale;
    p.thickness = s.thickness;
    p.head = s.head;
    p.max_length = s.max_length;
    p.mode = uint32_t(s.mode);
    p.flags = (s.colour_by_length ? 1u : 0u) | (s.use_weights ? 2u : 0u);
    VkRect2D sc = to_scissor(r, target);
    // 9 vertices with a head, 6 without: lavapipe (Mesa 22.3) drops the whole draw when a triangle's three
    // vertices are equal, so a headless item must not emit its collapsed head triangle.
    bool headed = s.mode == ArrowStyle::Arrow && s.head > 0;
    pipe_.draw(cb, target, it->second, p, headed ? 9 : 6, count, &sc);
}

}  // namespace engine
