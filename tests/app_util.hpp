// tests/app_util.hpp — what the tests that meet the program as a user does share: a scratch folder, a PNG read back
// (stb_image, from Debian's libstb), and the MNIST training split or the reason it is missing.
#pragma once
#include "diffusion/data/mnist.hpp"
#include "diffusion/vis/model_source.hpp"

#include <stb_image.h>

#include <filesystem>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

namespace test {

struct Image {
    int w = 0, h = 0;
    std::vector<uint8_t> rgba;
};
inline Image load_png(const std::filesystem::path& p) {
    Image im;
    int n = 0;
    unsigned char* d = stbi_load(p.c_str(), &im.w, &im.h, &n, 4);
    if (d) {
        im.rgba.assign(d, d + size_t(im.w) * im.h * 4);
        stbi_image_free(d);
    }
    return im;
}

inline std::filesystem::path temp_dir(const std::string& name) {
    auto d = std::filesystem::temp_directory_path() / ("diffuscope_" + name + "_" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    return d;
}

// The MNIST training split, or nullptr (setup could not fetch the data).
inline const diffuscope::data::Mnist* training_digits() {
    static std::optional<diffuscope::data::Mnist> train;
    static bool tried = false;
    if (!tried) {
        tried = true;
        std::string why;
        try {
            train = diffuscope::vis::load_training_digits(diffuscope::data::default_data_dir(), why);
        } catch (const std::exception& e) {  // no data folder at all
            why = e.what();
        }
    }
    return train ? &*train : nullptr;
}

}  // namespace test
