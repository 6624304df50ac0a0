#include "diffusion/model/kernel.hpp"

#include <stdexcept>

namespace diffuscope::nn {

void check_view(const char* what, const View& v, uint64_t count) {
    if (!v.buffer) throw std::invalid_argument(std::string(what) + ": no buffer given");
    const uint64_t end = (uint64_t(v.offset) + count) * 4;
    if (end > v.buffer->size())
        throw std::invalid_argument(std::string(what) + ": elements [" + std::to_string(v.offset) + ", " +
                                    std::to_string(v.offset + count) + ") run past the end of a buffer of " +
                                    std::to_string(v.buffer->size() / 4) + " floats — check the shape and offset");
}

void check_dim(const char* layer, const char* name, uint64_t value) {
    if (value == 0) throw std::invalid_argument(std::string(layer) + ": " + name + " is 0 (every dimension must be ≥ 1)");
}

void Kernel::dispatch(engine::CommandBuffer& cmd, std::initializer_list<const engine::Buffer*> buffers,
                      const void* push, uint32_t push_bytes, uint32_t gx, uint32_t gy, uint32_t gz) {
    if (!pipe_) pipe_ = std::make_unique<engine::ComputePipeline>(*ctx_, desc_);
    std::vector<uint64_t> key;
    for (const engine::Buffer* b : buffers) {
        if (!b || !*b) throw std::invalid_argument(desc_.shader + ": a binding has no buffer");
        if (b->size() > ctx_->info().max_storage_buffer_range)
            throw std::invalid_argument(desc_.shader + ": a " + std::to_string(b->size() >> 20) +
                                        " MiB buffer is larger than this device's maxStorageBufferRange (" +
                                        std::to_string(ctx_->info().max_storage_buffer_range >> 20) +
                                        " MiB); split it into several buffers");
        key.push_back(b->id());
    }
    auto it = sets_.find(key);
    if (it == sets_.end()) {
        std::vector<engine::BufferRange> ranges;
        for (const engine::Buffer* b : buffers) ranges.emplace_back(*b);
        it = sets_.emplace(key, pipe_->bind(ranges)).first;
    }
    cmd.dispatch(*pipe_, it->second, push, push_bytes, gx, gy, gz);
}

}  // namespace diffuscope::nn
