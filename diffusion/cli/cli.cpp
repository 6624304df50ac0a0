#include "diffusion/cli/cli.hpp"

namespace diffuscope::cli {

std::unique_ptr<engine::Context> make_context(const GlobalOptions& g, bool need_swapchain,
                                              std::vector<const char*> instance_extensions,
                                              engine::AsyncCompute async) {
    engine::ContextOptions o;
    o.validate = g.validate;
    o.device_index = g.device;
    o.need_swapchain = need_swapchain;
    o.instance_extensions = std::move(instance_extensions);
    o.quiet = g.quiet;
    o.async_compute = async;
    return std::make_unique<engine::Context>(o);
}

}  // namespace diffuscope::cli
