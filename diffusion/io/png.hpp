// diffusion/io/png.hpp — 8-bit grey, RGB or RGBA PNG files (encoded by stb_image_write from Debian's libstb).
#pragma once
#include "diffusion/io/bytes.hpp"
#include "diffusion/io/image.hpp"

#include <filesystem>

namespace diffuscope::io {

Bytes encode_png(const Image&);
void write_png(const std::filesystem::path&, const Image&);  // atomic

}  // namespace diffuscope::io
