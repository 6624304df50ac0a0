// engine/pipeline.hpp — a compute pipeline built from embedded SPIR-V: its descriptor layout (N buffers at
// bindings 0..N-1: storage buffers unless `types` says otherwise), push-constant range and specialization constants. Descriptor sets made
// from it live as long as it does, so recorded command buffers can be replayed.
#pragma once
#include "engine/buffer.hpp"

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace engine {

// The SPIR-V of an embedded shader, by name ("nn/silu_forward.comp"); throws with the list when unknown.
std::span<const uint32_t> shader_code(std::string_view name);
std::vector<std::string_view> shader_names();

struct PipelineDesc {
    std::string shader;               // embedded name, e.g. "test/saxpy.comp"
    uint32_t buffers = 0;             // storage buffers at bindings 0..buffers-1
    uint32_t push_bytes = 0;          // size of the push-constant block (0 = none)
    std::vector<uint32_t> spec = {};  // specialization constant i (constant_id = i) = spec[i]
    // Descriptor type of binding i. Empty: read from the SPIR-V (storage buffer, uniform buffer, uniform or
    // storage texel buffer). A uniform texel binding without BufferRange::view gets the buffer's own
    // whole-buffer view, R32_SFLOAT unless rgba32f_bindings has bit i set.
    std::vector<VkDescriptorType> types = {};
    uint32_t rgba32f_bindings = 0;
    VkDescriptorType type(uint32_t i) const { return i < types.size() ? types[i] : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER; }
};

// The descriptor type of bindings 0..n−1 of set 0 as a SPIR-V module uses them (n = highest used + 1; an
// unused binding is absent from SPIR-V and reads as a storage buffer). Throws on a kind the engine does not bind.
std::vector<VkDescriptorType> reflect_bindings(std::span<const uint32_t> spirv, std::string_view name);

// The layouts every pipeline here uses: one descriptor set of bindings 0…n−1 of `types`, visible to `stages`, and
// a pipeline layout with that set and, when push_bytes > 0, one push-constant range.
void create_layouts(VkDevice, const std::vector<VkDescriptorType>& types, VkShaderStageFlags stages,
                    uint32_t push_bytes, VkDescriptorSetLayout* set_layout, VkPipelineLayout* layout);

// A range of a buffer bound to one binding (whole buffer by default).
struct BufferRange {
    const Buffer* buffer = nullptr;
    VkDeviceSize offset = 0;
    VkDeviceSize bytes = VK_WHOLE_SIZE;
    BufferRange(const Buffer& b) : buffer(&b) {}  // NOLINT: implicit on purpose
    BufferRange(const Buffer& b, VkDeviceSize off, VkDeviceSize n) : buffer(&b), offset(off), bytes(n) {}
    VkBufferView view = VK_NULL_HANDLE;  // for texel-buffer bindings (see BufferView)
    BufferRange(const Buffer& b, VkBufferView v) : buffer(&b), view(v) {}
};

// A typed view of a buffer for texel-buffer bindings (samplerBuffer / imageBuffer).
class BufferView {
public:
    BufferView(Context&, const Buffer&, VkFormat, VkDeviceSize offset = 0, VkDeviceSize bytes = VK_WHOLE_SIZE);
    BufferView(const BufferView&) = delete;
    BufferView& operator=(const BufferView&) = delete;
    ~BufferView();
    VkBufferView handle() const { return view_; }
    BufferRange range() const { return {*buffer_, view_}; }

private:
    Context* ctx_;
    const Buffer* buffer_;
    VkBufferView view_ = VK_NULL_HANDLE;
};

class ComputePipeline {
public:
    ComputePipeline(Context&, PipelineDesc);
    ComputePipeline(ComputePipeline&&) noexcept;
    ComputePipeline& operator=(ComputePipeline&&) = delete;
    ComputePipeline(const ComputePipeline&) = delete;
    ~ComputePipeline();

    // A descriptor set with `bindings` at 0..n-1, owned by this pipeline.
    VkDescriptorSet bind(std::initializer_list<BufferRange> bindings);
    VkDescriptorSet bind(std::span<const BufferRange> bindings);

    VkPipeline handle() const { return pipeline_; }
    VkPipelineLayout layout() const { return layout_; }
    const PipelineDesc& desc() const { return desc_; }

private:
    void grow_pool();
    Context* ctx_;
    PipelineDesc desc_;
    VkShaderModule module_ = VK_NULL_HANDLE;
    VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
    VkPipelineLayout layout_ = VK_NULL_HANDLE;
    VkPipeline pipeline_ = VK_NULL_HANDLE;
    std::vector<VkDescriptorPool> pools_;
    uint32_t left_in_pool_ = 0;
};

}  // namespace engine
