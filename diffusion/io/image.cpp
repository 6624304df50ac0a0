// diffusion/io/image.cpp — grids of digits, nearest-neighbour upscaling, and a 5×7 bitmap font.
#include "diffusion/io/image.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace diffuscope::io {

namespace {

// 5×7 glyphs, one byte per row, the low 5 bits left (bit 4) to right (bit 0). Drawn for this project.
constexpr uint8_t kDigits[10][7] = {
    {0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110},  // 0
    {0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110},  // 1
    {0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111},  // 2
    {0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110},  // 3
    {0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010},  // 4
    {0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110},  // 5
    {0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110},  // 6
    {0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000},  // 7
    {0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110},  // 8
    {0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100},  // 9
};
constexpr uint8_t kDash[7] = {0, 0, 0, 0b11111, 0, 0, 0};
constexpr int kGlyphW = 5, kGlyphH = 7;

uint8_t to_byte(float v) {
    if (!(v > 0)) return 0;  // also NaN
    if (v >= 1) return 255;
    return uint8_t(std::lround(v * 255.0f));
}

}  // namespace

void draw_glyph(Image& img, int x, int y, char c, uint8_t value) {
    const uint8_t* rows = c == '-' ? kDash : (c >= '0' && c <= '9') ? kDigits[c - '0'] : nullptr;
    if (!rows) return;
    for (int r = 0; r < kGlyphH; ++r)
        for (int k = 0; k < kGlyphW; ++k)
            if (rows[r] >> (kGlyphW - 1 - k) & 1) {
                int px = x + k, py = y + r;
                if (px >= 0 && py >= 0 && px < img.width && py < img.height)
                    for (int ch = 0; ch < img.channels; ++ch) img.at(px, py, ch) = value;
            }
}

Image image_grid(std::span<const float> images, int rows, int cols, const GridOptions& o, std::span<const int> labels) {
    if (rows <= 0 || cols <= 0 || images.size() % (size_t(rows) * cols) != 0)
        throw std::runtime_error("image_grid: " + std::to_string(images.size()) + " values are not a whole number of " +
                                 std::to_string(rows) + "x" + std::to_string(cols) + " images");
    const size_t n = images.size() / (size_t(rows) * cols);
    if (!labels.empty() && labels.size() != n)
        throw std::runtime_error("image_grid: " + std::to_string(labels.size()) + " labels for " + std::to_string(n) +
                                 " images");
    if (n == 0) throw std::runtime_error("image_grid: no images");
    const int columns = o.columns > 0 ? o.columns : int(std::ceil(std::sqrt(double(n))));
    const int grid_rows = int((n + columns - 1) / columns);
    const int label_h = labels.empty() ? 0 : kGlyphH + 1;  // a text line above each tile
    const int cell_w = cols + o.margin, cell_h = rows + label_h + o.margin;
    Image g(o.margin + columns * cell_w, o.margin + grid_rows * cell_h, 1, o.background);
    for (size_t i = 0; i < n; ++i) {
        const int x0 = o.margin + int(i % columns) * cell_w, y0 = o.margin + int(i / columns) * cell_h;
        if (!labels.empty() && labels[i] >= 0) {
            char c = labels[i] <= 9 ? char('0' + labels[i]) : '-';
            draw_glyph(g, x0, y0, c, 255);
        }
        const float* img = images.data() + i * size_t(rows) * cols;
        for (int y = 0; y < rows; ++y)
            for (int x = 0; x < cols; ++x) g.at(x0 + x, y0 + label_h + y) = to_byte(img[y * cols + x]);
    }
    return o.scale > 1 ? upscale(g, o.scale) : g;
}

Image upscale(const Image& in, int scale) {
    if (scale < 1) throw std::runtime_error("upscale: scale " + std::to_string(scale) + "; expected >= 1");
    Image out(in.width * scale, in.height * scale, in.channels);
    for (int y = 0; y < out.height; ++y)
        for (int x = 0; x < out.width; ++x)
            for (int c = 0; c < in.channels; ++c) out.at(x, y, c) = in.at(x / scale, y / scale, c);
    return out;
}

}  // namespace diffuscope::io
