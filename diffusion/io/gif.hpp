// diffusion/io/gif.hpp — animated grey GIFs ("the chain from noise to digit"), encoder written from the
// GIF89a specification (W3C/CompuServe, 1990): one global palette of 256 grey levels, LZW-compressed frames,
// a NETSCAPE2.0 extension to loop, and a delay per frame.
#pragma once
#include "diffusion/io/bytes.hpp"
#include "diffusion/io/image.hpp"

#include <filesystem>
#include <span>

namespace diffuscope::io {

struct GifFrame {
    Image image;             // 1 channel; every frame the same size
    uint16_t delay_cs = 10;  // how long it stays, in hundredths of a second
};

// loop_count 0 loops forever; n plays n + 1 times (as browsers read NETSCAPE2.0).
Bytes encode_gif(std::span<const GifFrame> frames, uint16_t loop_count = 0);
void write_gif(const std::filesystem::path&, std::span<const GifFrame> frames, uint16_t loop_count = 0);  // atomic

// The LZW code stream of one frame's indices (GIF variant: variable code width from min_code_size + 1 up to
// 12 bits, clear and end codes, LSB-first packing), before it is cut into sub-blocks. Exposed for the tests.
Bytes gif_lzw_encode(std::span<const uint8_t> indices, int min_code_size = 8);

}  // namespace diffuscope::io
