// diffusion/io/png.cpp — stb_image_write produces the bytes, write_file_atomically puts them on disk.
#include "diffusion/io/png.hpp"

#include "diffusion/io/atomic_file.hpp"

#include <stb_image_write.h>

#include <stdexcept>
#include <string>

namespace diffuscope::io {

Bytes encode_png(const Image& img) {
    if (img.width <= 0 || img.height <= 0 || (img.channels != 1 && img.channels != 3 && img.channels != 4) ||
        img.pixels.size() != size_t(img.width) * img.height * img.channels)
        throw std::runtime_error("encode_png: a " + std::to_string(img.width) + "x" + std::to_string(img.height) + "x" +
                                 std::to_string(img.channels) + " image with " + std::to_string(img.pixels.size()) +
                                 " bytes; expected width, height > 0, 1, 3 or 4 channels, and width·height·channels bytes");
    Bytes out;
    auto append = [](void* context, void* data, int size) {
        auto* bytes = static_cast<std::byte*>(data);
        static_cast<Bytes*>(context)->insert(static_cast<Bytes*>(context)->end(), bytes, bytes + size);
    };
    if (!stbi_write_png_to_func(append, &out, img.width, img.height, img.channels, img.pixels.data(),
                                img.width * img.channels))
        throw std::runtime_error("encode_png: stb_image_write failed for a " + std::to_string(img.width) + "x" +
                                 std::to_string(img.height) + " image");
    return out;
}

void write_png(const std::filesystem::path& path, const Image& img) {
    write_encoded_atomically(path, [&] { return encode_png(img); });
}

}  // namespace diffuscope::io
