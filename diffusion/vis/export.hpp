// diffusion/vis/export.hpp — what the window saves for a lecture's slides: the chains' trajectory as an
// animated GIF (every k-th step, the last frame held) and the current x_t grid as a PNG, both labelled tiles.
#pragma once
#include "diffusion/vis/chains.hpp"

#include <filesystem>

namespace diffuscope::vis {

// The trajectory kept on the GPU (x_T … the current x_t), at most `max_frames` frames. Throws when the chain
// has no history yet. Returns the frames written.
uint32_t write_chain_gif(const VisChain&, const std::filesystem::path&, uint32_t max_frames = 100);
// The current x_t of every chain as a labelled PNG grid.
void write_chain_png(const VisChain&, const std::filesystem::path&);
// "<stem>-N.<ext>" in the current folder with the first N that is free.
std::filesystem::path next_free_path(const std::string& stem, const std::string& ext);

}  // namespace diffuscope::vis
