// diffusion/io/image.hpp — an 8-bit image in memory, and the grid of digits every headless command draws.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace diffuscope::io {

struct Image {
    int width = 0, height = 0;
    int channels = 1;             // 1 grey, 3 RGB, 4 RGBA
    std::vector<uint8_t> pixels;  // height rows of width·channels bytes, top row first

    Image() = default;
    Image(int w, int h, int c = 1, uint8_t fill = 0) : width(w), height(h), channels(c), pixels(size_t(w) * h * c, fill) {}
    uint8_t& at(int x, int y, int c = 0) { return pixels[(size_t(y) * width + x) * channels + c]; }
    uint8_t at(int x, int y, int c = 0) const { return pixels[(size_t(y) * width + x) * channels + c]; }
};

struct GridOptions {
    int columns = 0;          // 0: ceil(sqrt(n)), a square-ish grid
    int margin = 2;           // pixels between tiles and around the grid
    int scale = 1;            // each pixel becomes scale×scale (28×28 is tiny on a screen)
    uint8_t background = 48;  // the margin's grey, so black digit backgrounds stay distinct
};

// Tiles n = images.size()/(rows·cols) grey images with values in [0,1] (0 black, 1 white; clamped, NaN
// shown black) into one grey image, left to right then top to bottom. With `labels` (one per image) each
// tile gets its label drawn above it in a 5×7 pixel font: 0–9 as digits, 10 (the "null" label of
// classifier-free guidance) as '-', negative as nothing.
Image image_grid(std::span<const float> images, int rows = 28, int cols = 28, const GridOptions& = {},
                 std::span<const int> labels = {});

// Each pixel repeated scale×scale times (nearest neighbour).
Image upscale(const Image&, int scale);

// Draws character `c` ('0'–'9' or '-') with its top-left corner at (x, y) in the 5×7 font, clipped.
void draw_glyph(Image&, int x, int y, char c, uint8_t value);

}  // namespace diffuscope::io
