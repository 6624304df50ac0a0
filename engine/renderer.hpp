// engine/renderer.hpp — drawing GPU data without a host round trip:
//   TileImage: float images [N, C, H, W] in a storage buffer → (compute) a packed RGBA8 grid of tiles with a
//              colour map → (graphics) a nearest-neighbour-upscaled quad anywhere in the frame;
//   Arrows:    instanced arrows / segments / dots from a storage buffer of vec4 per item, in data coordinates.
// Both are generic: they know tensors and 2-D points, not what the numbers mean.
#pragma once
#include "engine/commands.hpp"
#include "engine/graphics.hpp"

#include <map>
#include <memory>

namespace engine {

enum class ColourMap : uint32_t { Grey = 0, Viridis = 1, Diverging = 2 };

// Pixel rectangle in the framebuffer (y down).
struct Rect {
    float x = 0, y = 0, w = 0, h = 0;
};

struct TileLayout {
    uint32_t count = 1;                   // images drawn (N); the grid has cols × ceil(count/cols) tiles
    uint32_t channels = 1, height = 28, width = 28;
    uint32_t cols = 1;
    uint32_t gap = 1;                     // background pixels around each tile, in image pixels
    ColourMap map = ColourMap::Grey;
    float lo = -1, hi = 1;                // value range shown (Diverging: ±max(|lo|, |hi|))
    uint32_t background = 0xff302820;     // packed RGBA8 (R in the low byte), sRGB

    uint32_t rows() const { return (count + cols - 1) / cols; }
    uint32_t grid_width() const { return cols * width + (cols + 1) * gap; }
    uint32_t grid_height() const { return rows() * height + (rows() + 1) * gap; }
};

// The two pipelines every TileImage shares; one per render pass.
class TilePipelines {
public:
    TilePipelines(Context&, VkRenderPass);
    ComputePipeline tiles;
    GraphicsPipeline quad;
};

class TileImage {
public:
    // `max_pixels`: the largest grid this image will hold (grid_width · grid_height).
    TileImage(Context&, TilePipelines&, uint32_t max_pixels);

    // Compute: writes the grid from `src` (floats, starting `src_offset` floats in). Records no barrier before;
    // the caller orders it after the writes of `src` (RAW) — the render pass orders the draw after it.
    void record(CommandBuffer&, const Buffer& src, uint32_t src_offset, const TileLayout&);
    // Inside a render pass: the grid drawn into `rect` (clipped to `clip` when given).
    void draw(VkCommandBuffer, VkExtent2D target, Rect rect, const VkRect2D* clip = nullptr, float opacity = 1) const;

    uint32_t width() const { return layout_.grid_width(); }
    uint32_t height() const { return layout_.grid_height(); }
    const Buffer& pixels() const { return grid_; }  // packed RGBA8, width()·height() words, after record()
    std::vector<uint8_t> download_rgba() const;     // for a PNG of the grid itself

private:
    Context* ctx_;
    TilePipelines* pipes_;
    Buffer grid_;
    uint32_t max_pixels_;
    TileLayout layout_;
    std::map<uint64_t, VkDescriptorSet> compute_sets_;  // one per source buffer seen (Buffer::id)
    VkDescriptorSet draw_set_ = VK_NULL_HANDLE;
};

struct ArrowStyle {
    enum Mode : uint32_t { Arrow = 0, Segment = 1, Dot = 2 } mode = Arrow;
    float domain[4] = {-1, -1, 1, 1};     // data x_lo, y_lo, x_hi, y_hi shown in the rect
    float colour[4] = {1, 1, 1, 1};       // sRGB + alpha
    float scale = 1;                      // Arrow: data units of shaft per unit of (dx, dy)
    float thickness = 1.5f, head = 6;     // px
    bool colour_by_length = false;
    float max_length = 1;
    bool use_weights = false;             // alpha *= weights[i]
};

class Arrows {
public:
    Arrows(Context&, VkRenderPass);
    // Inside a render pass: `count` items (vec4 each) from `items`, optional per-item alpha `weights`.
    void draw(VkCommandBuffer, VkExtent2D target, Rect rect, const Buffer& items, uint32_t count,
              const ArrowStyle&, const Buffer* weights = nullptr);

private:
    GraphicsPipeline pipe_;
    std::map<std::pair<uint64_t, uint64_t>, VkDescriptorSet> sets_;  // by Buffer::id
};

// Rect → scissor clamped to the framebuffer.
VkRect2D to_scissor(Rect, VkExtent2D target);

}  // namespace engine
