// diffusion/model/kernel.hpp — what every layer family in diffuscope::nn stands on.
//
// View: where a tensor lives — a buffer and the element (float) offset of its first element. Tensors sit
// at offsets inside big flat buffers (the one parameter buffer, the one gradient buffer, an activation
// arena); the offset travels as a push constant, never as a descriptor offset.
//
// Kernel: one compute pipeline (built on first use) plus the descriptor sets it was dispatched with, one
// per distinct tuple of buffers. Every binding is a whole buffer, so a UNet that records its whole forward
// and backward over a few flat buffers needs only a handful of sets; they live as long as the Kernel, so a
// recorded command buffer can be replayed many times. Rule that follows: a buffer bound through a Kernel
// must outlive every command buffer recorded with it, and must not be freed and replaced while the Kernel
// lives (a new buffer may reuse the old handle) — make the layer families again instead.
#pragma once
#include "engine/commands.hpp"

#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace diffuscope::nn {

struct View {
    const engine::Buffer* buffer = nullptr;
    uint32_t offset = 0;  // in floats (or int32 for labels)
    View() = default;
    View(const engine::Buffer& b, uint32_t off = 0) : buffer(&b), offset(off) {}  // NOLINT: implicit on purpose
    View(const engine::Buffer&&, uint32_t = 0) = delete;                            // a temporary would dangle
    explicit operator bool() const { return buffer != nullptr; }
    View at(uint32_t more) const { return View(*buffer, offset + more); }
};

// Throws std::invalid_argument naming `what` (e.g. "conv2d.forward: x") when v is empty or its `count`
// elements run past the end of its buffer.
void check_view(const char* what, const View& v, uint64_t count);
// Throws when a shape dimension is zero: "<layer>: <name> is 0".
void check_dim(const char* layer, const char* name, uint64_t value);

class Kernel {
public:
    Kernel(engine::Context& ctx, engine::PipelineDesc desc) : ctx_(&ctx), desc_(std::move(desc)) {}

    // Records one dispatch of gx×gy×gz workgroups with `buffers` at bindings 0..n−1 (whole buffers).
    void dispatch(engine::CommandBuffer& cmd, std::initializer_list<const engine::Buffer*> buffers, const void* push,
                  uint32_t push_bytes, uint32_t gx, uint32_t gy = 1, uint32_t gz = 1);
    template <class Push>
    void dispatch(engine::CommandBuffer& cmd, std::initializer_list<const engine::Buffer*> buffers, const Push& push,
                  uint32_t gx, uint32_t gy = 1, uint32_t gz = 1) {
        dispatch(cmd, buffers, &push, sizeof(Push), gx, gy, gz);
    }
    const engine::PipelineDesc& desc() const { return desc_; }

private:
    engine::Context* ctx_;
    engine::PipelineDesc desc_;
    std::unique_ptr<engine::ComputePipeline> pipe_;
    // Keyed by Buffer::id(), never by VkBuffer: a destroyed buffer's handle can come back for a new buffer
    // (lavapipe's handles are heap addresses), and its cached set would still name the destroyed one.
    std::map<std::vector<uint64_t>, VkDescriptorSet> sets_;
};

}  // namespace diffuscope::nn
