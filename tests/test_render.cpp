// Offscreen rendering: the tile pass against a CPU reference of its layout and colour maps, the upscaled quad
// pixel by pixel, arrows where they should be, and a whole ImGui frame with a custom image inside a window.
#include "engine/window/imgui_layer.hpp"
#include "engine/offscreen.hpp"
#include "engine/renderer.hpp"
#include "tests/gpu.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <random>

using namespace engine;
using test::GpuTest;

namespace {
using RGB = std::array<double, 3>;

// The maps of shaders/render/colormap.glsl, in double.
RGB ref_map(ColourMap m, double s, double lo, double hi) {
    auto lerp = [](RGB a, RGB b, double t) { return RGB{a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t}; };
    if (m == ColourMap::Diverging) {
        double u = std::clamp(s / std::max(std::max(std::abs(lo), std::abs(hi)), 1e-20), -1.0, 1.0);
        RGB blue{59 / 255., 76 / 255., 192 / 255.}, mid{238 / 255., 238 / 255., 238 / 255.}, red{180 / 255., 4 / 255., 38 / 255.};
        return u < 0 ? lerp(mid, blue, -u) : lerp(mid, red, u);
    }
    double v = std::clamp((s - lo) / (hi - lo), 0.0, 1.0);
    if (m == ColourMap::Grey) return {v, v, v};
    const RGB k[5] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
    double x = v * 4;
    int i = std::min(int(x), 3);
    RGB c = lerp(k[i], k[i + 1], x - i);
    return {c[0] / 255, c[1] / 255, c[2] / 255};
}

// Expected grid (RGBA8) for `layout` over `src`, the layout rule of shaders/render/tiles.comp.
std::vector<uint8_t> ref_grid(const std::vector<float>& src, const TileLayout& l) {
    uint32_t gw = l.grid_width(), gh = l.grid_height();
    std::vector<uint8_t> out(size_t(gw) * gh * 4);
    for (uint32_t y = 0; y < gh; ++y)
        for (uint32_t x = 0; x < gw; ++x) {
            uint8_t* p = &out[(size_t(y) * gw + x) * 4];
            uint32_t bg = l.background;
            for (int c = 0; c < 4; ++c) p[c] = uint8_t(bg >> (8 * c));
            if (x < l.gap || y < l.gap) continue;
            uint32_t ux = x - l.gap, uy = y - l.gap, tx = ux / (l.width + l.gap), px = ux % (l.width + l.gap);
            uint32_t ty = uy / (l.height + l.gap), py = uy % (l.height + l.gap), k = ty * l.cols + tx;
            if (px >= l.width || py >= l.height || k >= l.count) continue;
            RGB c = ref_map(l.map, src[((size_t(k) * l.channels) * l.height + py) * l.width + px], l.lo, l.hi);
            for (int i = 0; i < 3; ++i) p[i] = uint8_t(std::lround(std::clamp(c[i], 0.0, 1.0) * 255));
            p[3] = 255;
        }
    return out;
}

int max_abs_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
    int m = 0;
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::abs(int(a[i]) - int(b[i])));
    return a.size() == b.size() ? m : 999;
}
}  // namespace

TEST_F(GpuTest, TilePassMatchesReferenceForEveryMapAndOddLayouts) {
    Offscreen target(ctx, {64, 64});
    TilePipelines pipes(ctx, target.render_pass());
    TileImage img(ctx, pipes, 200 * 200);
    struct Case { uint32_t count, cols, h, w, gap; ColourMap map; float lo, hi; };
    for (Case c : {Case{1, 1, 28, 28, 0, ColourMap::Grey, -1, 1}, Case{5, 3, 7, 5, 1, ColourMap::Viridis, -2, 3},
                   Case{16, 4, 28, 28, 2, ColourMap::Diverging, -1.5f, 0.5f}, Case{3, 4, 2, 9, 3, ColourMap::Grey, 0, 1}}) {
        TileLayout l;
        l.count = c.count; l.cols = c.cols; l.height = c.h; l.width = c.w; l.gap = c.gap; l.map = c.map; l.lo = c.lo; l.hi = c.hi;
        std::mt19937 gen(c.count * 31 + c.w);
        std::normal_distribution<float> d(0, 1.2f);
        const uint32_t offset = 7;  // the images start 7 floats into the buffer
        std::vector<float> src(offset + size_t(c.count) * c.h * c.w);
        for (auto& v : src) v = d(gen);
        Buffer b(ctx, src.size() * 4);
        b.upload(src);
        one_shot(ctx, [&](CommandBuffer& cmd) { cmd.fill(const_cast<Buffer&>(img.pixels()), 0xdeadbeef); cmd.barrier();
                                                img.record(cmd, b, offset, l); });
        auto got = img.download_rgba();
        std::vector<float> images(src.begin() + offset, src.end());
        auto want = ref_grid(images, l);
        EXPECT_LE(max_abs_diff(got, want), 1) << "count " << c.count << " cols " << c.cols << " map " << int(c.map);
    }
}

TEST_F(GpuTest, TileQuadUpscalesNearestNeighbourPixelForPixel) {
    const uint32_t S = 4;  // each grid pixel becomes S×S framebuffer pixels
    TileLayout l;
    l.count = 4; l.cols = 2; l.height = 3; l.width = 5; l.gap = 1; l.lo = 0; l.hi = 1;
    std::vector<float> src(4 * 3 * 5);
    for (size_t i = 0; i < src.size(); ++i) src[i] = float(i % 11) / 10.0f;
    Offscreen target(ctx, {l.grid_width() * S + 10, l.grid_height() * S + 6});
    TilePipelines pipes(ctx, target.render_pass());
    TileImage img(ctx, pipes, l.grid_width() * l.grid_height());
    Buffer b(ctx, src.size() * 4);
    b.upload(src);
    auto f = target.begin();
    img.record(*f->cmd, b, 0, l);
    target.begin_pass(*f, {1, 0, 0, 1});
    img.draw(f->cmd->handle(), f->extent, Rect{3, 2, float(l.grid_width() * S), float(l.grid_height() * S)});
    target.end_pass(*f);
    target.submit(*f);
    auto px = target.rgba();
    auto grid = ref_grid(src, l);
    uint32_t W = target.extent().width, H = target.extent().height;
    int worst = 0;
    for (uint32_t y = 0; y < H; ++y)
        for (uint32_t x = 0; x < W; ++x) {
            const uint8_t* p = &px[(size_t(y) * W + x) * 4];
            bool inside = x >= 3 && y >= 2 && x < 3 + l.grid_width() * S && y < 2 + l.grid_height() * S;
            uint8_t want[4] = {255, 0, 0, 255};  // the clear colour outside
            if (inside) std::copy_n(&grid[(size_t((y - 2) / S) * l.grid_width() + (x - 3) / S) * 4], 4, want);
            for (int c = 0; c < 3; ++c) worst = std::max(worst, std::abs(int(p[c]) - int(want[c])));
        }
    EXPECT_LE(worst, 1);
}

TEST_F(GpuTest, ArrowsDrawWhereTheDataSays) {
    Offscreen target(ctx, {100, 100});
    Arrows arrows(ctx, target.render_pass());
    // Domain [0,1]²: an arrow from (0.1, 0.5) pointing +x by 0.8 (scale 1), a dot at (0.5, 0.9) (y up → near the top).
    Buffer items(ctx, 2 * 16);
    items.upload(std::vector<float>{0.1f, 0.5f, 0.8f, 0.0f});
    Buffer dots(ctx, 16);
    dots.upload(std::vector<float>{0.5f, 0.9f, 0, 0});
    auto f = target.begin();
    target.begin_pass(*f, {0, 0, 0, 1});
    ArrowStyle s;
    s.domain[0] = 0; s.domain[1] = 0; s.domain[2] = 1; s.domain[3] = 1;
    s.thickness = 3; s.head = 12;
    s.colour[0] = 0; s.colour[1] = 1; s.colour[2] = 0; s.colour[3] = 1;
    arrows.draw(f->cmd->handle(), f->extent, Rect{0, 0, 100, 100}, items, 1, s);
    ArrowStyle d = s;
    d.mode = ArrowStyle::Dot;
    d.thickness = 6;
    d.colour[0] = 1; d.colour[1] = 0;
    arrows.draw(f->cmd->handle(), f->extent, Rect{0, 0, 100, 100}, dots, 1, d);
    target.end_pass(*f);
    target.submit(*f);
    auto px = target.rgba();
    auto at = [&](int x, int y) { return &px[(size_t(y) * 100 + x) * 4]; };
    for (int x : {12, 30, 60, 85}) EXPECT_EQ(at(x, 50)[1], 255) << "shaft missing at x=" << x;
    EXPECT_EQ(at(50, 45)[1], 0) << "shaft thicker than 3 px";
    EXPECT_EQ(at(80, 46)[1], 255) << "arrow head missing";  // 10 px before the tip the head is 10 px wide
    EXPECT_EQ(at(95, 50)[1], 0) << "arrow past its tip";
    EXPECT_EQ(at(5, 50)[1], 0) << "arrow before its tail";
    EXPECT_EQ(at(50, 10)[0], 255) << "dot missing at (0.5, 0.9)";
    EXPECT_EQ(at(50, 90)[0], 0) << "dot drawn with y down";
}

TEST_F(GpuTest, ImGuiFrameWithCustomImageRendersTheSameTwice) {
    Offscreen target(ctx, {480, 320});
    ImGuiLayer ui(ctx, target.render_pass(), 1, nullptr);
    TilePipelines pipes(ctx, target.render_pass());
    TileImage img(ctx, pipes, 64 * 64);
    TileLayout l;
    l.count = 1; l.height = 8; l.width = 8; l.gap = 0; l.lo = 0; l.hi = 1;
    std::vector<float> src(64);
    for (int i = 0; i < 64; ++i) src[i] = ((i / 8 + i % 8) % 2) ? 1.0f : 0.0f;  // a checkerboard
    Buffer b(ctx, 64 * 4);
    b.upload(src);
    // ImGui lays a new window out on its first frame and shows it from the second: compare frames 2 and 3.
    std::vector<uint8_t> frames[3];
    ImVec2 image_at;
    for (auto& out : frames) {
        auto f = target.begin();
        ui.new_frame(f->extent, 1 / 60.f);
        ImGui::SetNextWindowPos(ImVec2(10, 10));
        ImGui::SetNextWindowSize(ImVec2(300, 260));
        ImGui::Begin("panel");
        ImGui::Text("alpha_bar = %.3f", 0.5);
        image_at = ImGui::GetCursorScreenPos();
        ui.custom(ImVec2(160, 160), [&](VkCommandBuffer cb, VkExtent2D t, Rect r, VkRect2D clip) { img.draw(cb, t, r, &clip); });
        ImGui::End();
        img.record(*f->cmd, b, 0, l);
        target.begin_pass(*f, {0.1f, 0.1f, 0.1f, 1});
        ui.render(f->cmd->handle(), f->extent);
        target.end_pass(*f);
        target.submit(*f);
        out = target.rgba();
    }
    EXPECT_EQ(frames[1], frames[2]) << "the same frame rendered twice differs";
    write_png((std::filesystem::temp_directory_path() / "diffuscope_imgui_frame.png").string(), frames[2], 480, 320);
    // The checkerboard is where ImGui put the widget: cell (0,0) black, (1,0) white, 20 px per cell.
    auto at = [&](float x, float y) { return &frames[2][(size_t(y) * 480 + size_t(x)) * 4]; };
    EXPECT_EQ(at(image_at.x + 10, image_at.y + 10)[0], 0);
    EXPECT_EQ(at(image_at.x + 30, image_at.y + 10)[0], 255);
    EXPECT_EQ(at(image_at.x + 30, image_at.y + 30)[0], 0);
    // The window and its text: more than two distinct colours outside the image, none of them garbage-magenta.
    std::vector<uint32_t> colours;
    for (size_t i = 0; i < frames[2].size(); i += 4) colours.push_back(frames[2][i] | frames[2][i + 1] << 8 | frames[2][i + 2] << 16);
    std::sort(colours.begin(), colours.end());
    colours.erase(std::unique(colours.begin(), colours.end()), colours.end());
    EXPECT_GT(colours.size(), 8u) << "a frame with a window and text should have anti-aliased edges";
}

// A font path that does not exist falls back to DejaVu (or Noto, Liberation, FreeSans) where the distribution keeps
// it, not to ImGui's ASCII-only font: the panels' β, ᾱ and ε̂ must not turn into '?'.
TEST_F(GpuTest, AMissingFontFallsBackToOneWithGreek) {
    if (!std::filesystem::exists("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"))
        GTEST_SKIP() << "fonts-dejavu-core is not installed";
    Offscreen target(ctx, {64, 64});
    ImGuiOptions o;
    o.font_path = "/nonexistent/diffuscope-test-font.ttf";
    ImGuiLayer ui(ctx, target.render_pass(), 1, nullptr, o);
    EXPECT_TRUE(ui.font_loaded());
    const ImFont* font = ImGui::GetIO().Fonts->Fonts[0];
    ASSERT_NE(font, nullptr);
    EXPECT_NE(font->FindGlyphNoFallback(0x03B2), nullptr) << "no β in the font";  // β
    EXPECT_NE(font->FindGlyphNoFallback(0x1FB1), nullptr) << "no ᾱ in the font";  // ᾱ
}
