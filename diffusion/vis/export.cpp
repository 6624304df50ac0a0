#include "diffusion/vis/export.hpp"

#include "diffusion/io/gif.hpp"
#include "diffusion/io/png.hpp"

#include <algorithm>
#include <stdexcept>

namespace diffuscope::vis {

namespace {
constexpr io::GridOptions k_grid{.columns = 0, .margin = 2, .scale = 3};

std::vector<int> chain_labels(const VisChain& chain) {
    const auto& s = chain.settings();
    std::vector<int> out(s.chains);
    for (uint32_t k = 0; k < s.chains; ++k)
        out[k] = s.label_mode == LabelMode::per_chain ? int(k % 10) : s.label_mode == LabelMode::unconditional ? 10 : s.label;
    return out;
}

std::vector<float> to_unit(const float* x, size_t n) {
    std::vector<float> out(n);
    for (size_t i = 0; i < n; ++i) out[i] = std::clamp(0.5f * (x[i] + 1.0f), 0.0f, 1.0f);
    return out;
}
}  // namespace

uint32_t write_chain_gif(const VisChain& chain, const std::filesystem::path& path, uint32_t max_frames) {
    const uint32_t frames = chain.history_frames(), n = chain.settings().chains;
    if (frames == 0) throw std::runtime_error("no chain has started yet: nothing to save");
    const size_t per = size_t(n) * VisChain::pixels;
    const auto h = chain.history().download_as<float>(size_t(frames) * per);
    const auto labels = chain_labels(chain);
    const uint32_t keep = std::clamp(max_frames, 2u, std::max(2u, frames));
    std::vector<io::GifFrame> gif;
    for (uint32_t i = 0; i < std::min(keep, frames); ++i) {
        const uint32_t k = frames == 1 ? 0 : uint32_t(uint64_t(frames - 1) * i / (std::min(keep, frames) - 1));
        const auto img = to_unit(h.data() + size_t(k) * per, per);
        gif.push_back({io::image_grid(img, 28, 28, k_grid, labels), uint16_t(k + 1 == frames ? 200 : 6)});
    }
    io::write_gif(path, gif);
    return uint32_t(gif.size());
}

void write_chain_png(const VisChain& chain, const std::filesystem::path& path) {
    const uint32_t n = chain.settings().chains;
    const auto x = chain.x_t().download_as<float>(size_t(n) * VisChain::pixels);
    io::write_png(path, io::image_grid(to_unit(x.data(), x.size()), 28, 28, k_grid, chain_labels(chain)));
}

std::filesystem::path next_free_path(const std::string& stem, const std::string& ext) {
    for (int i = 1;; ++i) {
        std::filesystem::path p = stem + "-" + std::to_string(i) + "." + ext;
        std::error_code ec;
        if (!std::filesystem::exists(p, ec)) return p;
    }
}

}  // namespace diffuscope::vis
