// diffusion/data/assets.hpp — where the bundled files (assets/: the UNet's EMA weights, the classifier) are.
#pragma once
#include <filesystem>
#include <string>

namespace diffuscope::data {

// assets/<name> in the first folder at or above the executable's, then the current folder's, that has it;
// $DIFFUSCOPE_ASSETS/<name> first when that is set. Empty when there is none.
std::filesystem::path find_asset(const std::string& name);

}  // namespace diffuscope::data
