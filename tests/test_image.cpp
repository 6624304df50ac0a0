// Images out: the grid and its font, PNG files decoded back by the test's own decoder (and by ImageMagick
// when it is installed), GIFs and their LZW decoded back pixel for pixel.
#include "diffusion/io/gif.hpp"
#include "diffusion/io/png.hpp"
#include "tests/image_decode.hpp"
#include "tests/io_util.hpp"

#include <array>
#include <cstdio>
#include <random>

using namespace diffuscope::io;
using namespace iotest;

namespace {

bool have_tool(const char* name) { return std::system((std::string("command -v ") + name + " >/dev/null 2>&1").c_str()) == 0; }

std::string run(const std::string& cmd) {
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return out;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    ::pclose(p);
    return out;
}

Image random_image(int w, int h, int c, uint64_t seed) {
    std::mt19937_64 g(seed);
    Image img(w, h, c);
    for (auto& v : img.pixels) v = uint8_t(g());
    return img;
}

// Smooth content (what real digits look like) plus noise, so the PNG filters all get chosen somewhere.
Image mixed_image(int w, int h, int c, uint64_t seed) {
    Image img = random_image(w, h, c, seed);
    for (int y = 0; y < h / 2; ++y)
        for (int x = 0; x < w; ++x)
            for (int k = 0; k < c; ++k) img.at(x, y, k) = uint8_t(x * 3 + y * 5 + k * 40);
    return img;
}

}  // namespace

TEST(ImageGrid, PlacesClampsAndLabels) {
    // 5 images of 3×2 → ceil(sqrt 5) = 3 columns, 2 rows; margin 2, a 7+1-pixel label line above each tile.
    const int rows = 2, cols = 3;
    std::vector<float> px(5 * rows * cols);
    for (size_t i = 0; i < px.size(); ++i) px[i] = float(i) / float(px.size() - 1);
    px[0] = -1.0f;
    px[1] = 2.0f;
    px[2] = std::nanf("");
    px[3] = 0.5f;
    const int labels[5] = {1, 7, 0, 10, -1};
    Image g = image_grid(px, rows, cols, {}, labels);
    const int cell_w = cols + 2, cell_h = rows + 8 + 2;
    ASSERT_EQ(g.width, 2 + 3 * cell_w);
    ASSERT_EQ(g.height, 2 + 2 * cell_h);
    EXPECT_EQ(g.channels, 1);
    auto pixel = [&](int i, int y, int x) { return g.at(2 + (i % 3) * cell_w + x, 2 + (i / 3) * cell_h + 8 + y); };
    EXPECT_EQ(pixel(0, 0, 0), 0);    // −1 clamps to black
    EXPECT_EQ(pixel(0, 0, 1), 255);  // 2 clamps to white
    EXPECT_EQ(pixel(0, 0, 2), 0);    // NaN is black
    EXPECT_EQ(pixel(0, 1, 0), 128);  // 0.5 → round(127.5)
    for (int i = 1; i < 5; ++i)
        for (int y = 0; y < rows; ++y)
            for (int x = 0; x < cols; ++x) {
                float v = px[(i * rows + y) * cols + x];
                ASSERT_EQ(pixel(i, y, x), uint8_t(std::lround(v * 255))) << i << " " << y << " " << x;
            }
    EXPECT_EQ(g.at(0, 0), 48);  // margin
    // The '1' above tile 0: top row of the glyph is ..#.. (x0+2 inked, x0 not); but the tile is 3 wide,
    // so the grid clips nothing here: glyphs may overhang into the margin and the next cell's margin only.
    EXPECT_EQ(g.at(2 + 2, 2), 255);
    EXPECT_EQ(g.at(2 + 0, 2), 48);
    // '-' for the null label 10 (tile 3, row 1 column 0): only the glyph's middle row is inked.
    EXPECT_EQ(g.at(2 + 0, 2 + cell_h + 3), 255);
    EXPECT_EQ(g.at(2 + 0, 2 + cell_h + 2), 48);
    // No label (−1) on tile 4: its label line is all margin colour.
    for (int x = 0; x < 5; ++x) EXPECT_EQ(g.at(2 + cell_w + x, 2 + cell_h + 3), 48);

    expect_error([&] { image_grid(std::vector<float>(7), 28, 28); }, {"7 values are not a whole number of 28x28 images"});
    expect_error([&] { image_grid(px, rows, cols, {}, std::vector<int>{1, 2}); }, {"2 labels for 5 images"});
}

TEST(ImageGrid, DigitGlyphsAreDistinctAndUpscaleRepeatsPixels) {
    std::array<std::vector<uint8_t>, 10> seen;
    for (int d = 0; d < 10; ++d) {
        Image img(5, 7, 1, 0);
        draw_glyph(img, 0, 0, char('0' + d), 255);
        seen[d] = img.pixels;
        for (int e = 0; e < d; ++e) EXPECT_NE(seen[d], seen[e]) << d << " vs " << e;
    }
    Image small = random_image(3, 2, 3, 1);
    Image big = upscale(small, 4);
    ASSERT_EQ(big.width, 12);
    ASSERT_EQ(big.height, 8);
    for (int y = 0; y < 8; ++y)
        for (int x = 0; x < 12; ++x)
            for (int c = 0; c < 3; ++c) ASSERT_EQ(big.at(x, y, c), small.at(x / 4, y / 4, c));
}

TEST(Png, DecodesBackToTheSamePixels) {
    TempDir d;
    for (int channels : {1, 3, 4}) {
        for (auto [w, h] : {std::pair{1, 1}, {5, 3}, {97, 61}}) {
            Image img = mixed_image(w, h, channels, uint64_t(w * 1000 + channels));
            auto path = d / ("x" + std::to_string(channels) + "_" + std::to_string(w) + ".png");
            write_png(path, img);
            imgtest::Png p = imgtest::decode_png(read_file(path));
            EXPECT_EQ(p.width, w);
            EXPECT_EQ(p.height, h);
            EXPECT_EQ(p.bit_depth, 8);
            EXPECT_EQ(p.color_type, channels == 1 ? 0 : channels == 3 ? 2 : 6);
            ASSERT_EQ(p.pixels, img.pixels) << channels << " channels, " << w << "x" << h;
        }
    }
    expect_error([&] { write_png(d / "bad.png", Image(3, 3, 2)); }, {"bad.png: encode_png: a 3x3x2 image"});
}

TEST(Png, ImageMagickAgrees) {
    if (!have_tool("identify") || !have_tool("convert")) GTEST_SKIP() << "ImageMagick is not installed";
    TempDir d;
    Image img = mixed_image(37, 23, 1, 5);
    write_png(d / "g.png", img);
    EXPECT_EQ(run("identify -format '%m %w %h' " + (d / "g.png").string() + " 2>&1"), "PNG 37 23");
    run("convert " + (d / "g.png").string() + " -depth 8 gray:" + (d / "g.raw").string());
    Bytes raw = read_file(d / "g.raw");
    ASSERT_EQ(raw.size(), img.pixels.size());
    EXPECT_EQ(std::memcmp(raw.data(), img.pixels.data(), raw.size()), 0);
}

TEST(Gif, LzwKnownAnswer) {
    // The 10×10, 4-colour example worked through in Matthew Flickinger's "What's in a GIF" (LZW image
    // data): min code size 2, and exactly these 22 bytes of code stream.
    const char* rows[10] = {"1111122222", "1111122222", "1111122222", "1110000222", "1110000222",
                            "2220000111", "2220000111", "2222211111", "2222211111", "2222211111"};
    std::vector<uint8_t> indices;
    for (const char* r : rows)
        for (int x = 0; x < 10; ++x) indices.push_back(uint8_t(r[x] - '0'));
    const uint8_t expected[22] = {0x8C, 0x2D, 0x99, 0x87, 0x2A, 0x1C, 0xDC, 0x33, 0xA0, 0x02, 0x75,
                                  0xEC, 0x95, 0xFA, 0xA8, 0xDE, 0x60, 0x8C, 0x04, 0x91, 0x4C, 0x01};
    Bytes got = gif_lzw_encode(indices, 2);
    ASSERT_EQ(got.size(), 22u);
    for (int i = 0; i < 22; ++i) EXPECT_EQ(uint8_t(got[i]), expected[i]) << "byte " << i;
    EXPECT_EQ(imgtest::lzw_decode(got, 2), indices);
}

TEST(Gif, LzwRoundTripsRunsNoiseAndTableResets) {
    std::mt19937_64 g(7);
    std::vector<std::vector<uint8_t>> cases = {{}, {0}, {255}, {3, 3}, std::vector<uint8_t>(100000, 0)};
    std::vector<uint8_t> noise(300000), ramp(70000), few(50000);
    for (auto& v : noise) v = uint8_t(g());  // fills the 4095-entry table many times: Clear codes mid-stream
    for (size_t i = 0; i < ramp.size(); ++i) ramp[i] = uint8_t(i / 97);
    for (auto& v : few) v = uint8_t(g() % 3);  // long strings: code widths climb to 12 bits slowly
    cases.push_back(noise);
    cases.push_back(ramp);
    cases.push_back(few);
    for (size_t k = 0; k < cases.size(); ++k)
        ASSERT_EQ(imgtest::lzw_decode(gif_lzw_encode(cases[k], 8), 8), cases[k]) << "case " << k;
    // Every cut point of the width changes: lengths around 2^k strings.
    for (size_t n : {254u, 255u, 256u, 257u, 510u, 511u, 512u, 513u, 1023u, 1024u, 1025u, 3838u, 3839u, 3840u, 3841u}) {
        std::vector<uint8_t> v(n);
        for (auto& x : v) x = uint8_t(g());
        ASSERT_EQ(imgtest::lzw_decode(gif_lzw_encode(v, 8), 8), v) << n << " noise pixels";
    }
}

TEST(Gif, AnimationDecodesBackFrameByFrame) {
    TempDir d;
    std::vector<GifFrame> frames;
    for (int f = 0; f < 6; ++f) {
        Image img = f == 5 ? random_image(61, 37, 1, 99) : Image(61, 37, 1, uint8_t(f * 40));
        for (int y = 0; y < 37; ++y) img.at(f * 10 % 61, y) = 255;  // a bar that moves
        frames.push_back({img, uint16_t(f == 5 ? 200 : 5 + f)});
    }
    write_gif(d / "chain.gif", frames, 0);
    imgtest::Gif g = imgtest::decode_gif(read_file(d / "chain.gif"));
    EXPECT_EQ(g.width, 61);
    EXPECT_EQ(g.height, 37);
    EXPECT_EQ(g.loop_count, 0);
    ASSERT_EQ(g.palette.size(), 768u);
    for (int i = 0; i < 256; ++i)
        for (int c = 0; c < 3; ++c) ASSERT_EQ(g.palette[3 * i + c], i);
    ASSERT_EQ(g.frames.size(), 6u);
    for (int f = 0; f < 6; ++f) {
        EXPECT_EQ(g.frames[f], frames[f].image.pixels) << "frame " << f;
        EXPECT_EQ(g.delays_cs[f], frames[f].delay_cs) << "frame " << f;
    }
    std::vector<GifFrame> mismatched{frames[0], {Image(3, 3, 1), 5}};
    expect_error([&] { write_gif(d / "bad.gif", mismatched); }, {"bad.gif: encode_gif: frame 1 is 3x3x1; expected 61x37"});
    EXPECT_FALSE(std::filesystem::exists(d / "bad.gif"));
}

TEST(Gif, ImageMagickAgrees) {
    if (!have_tool("identify") || !have_tool("convert")) GTEST_SKIP() << "ImageMagick is not installed";
    TempDir d;
    std::vector<GifFrame> frames;
    for (int f = 0; f < 3; ++f) frames.push_back({random_image(40, 30, 1, uint64_t(f)), uint16_t(7 * (f + 1))});
    write_gif(d / "a.gif", frames, 3);
    EXPECT_EQ(run("identify -format '%m %w %h %T %n;' " + (d / "a.gif").string() + " 2>&1"),
              "GIF 40 30 7 3;GIF 40 30 14 3;GIF 40 30 21 3;");
    run("convert " + (d / "a.gif").string() + " -depth 8 gray:" + (d / "a.raw").string());
    Bytes raw = read_file(d / "a.raw");
    ASSERT_EQ(raw.size(), 3u * 40 * 30);
    for (int f = 0; f < 3; ++f)
        EXPECT_EQ(std::memcmp(raw.data() + f * 1200, frames[f].image.pixels.data(), 1200), 0) << "frame " << f;
}
