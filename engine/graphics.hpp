// engine/graphics.hpp — a graphics pipeline in the compute pipelines' image: embedded vertex + fragment SPIR-V,
// storage buffers at bindings 0..N-1 (read by either stage; no vertex input, vertices come from gl_VertexIndex
// and gl_InstanceIndex), one push-constant block shared by both stages, dynamic viewport and scissor,
// premultiplied-free "over" alpha blending.
#pragma once
#include "engine/pipeline.hpp"

namespace engine {

struct GraphicsDesc {
    std::string vertex, fragment;  // embedded names, e.g. "render/quad.vert", "render/image.frag"
    uint32_t buffers = 0;
    uint32_t push_bytes = 0;
    VkPrimitiveTopology topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST;
    bool blend = true;
};

class GraphicsPipeline {
public:
    GraphicsPipeline(Context&, VkRenderPass, GraphicsDesc);
    ~GraphicsPipeline();
    GraphicsPipeline(const GraphicsPipeline&) = delete;
    GraphicsPipeline& operator=(const GraphicsPipeline&) = delete;

    // A descriptor set with `bindings` at 0..n-1, owned by this pipeline.
    VkDescriptorSet bind(std::initializer_list<BufferRange> bindings);

    // Inside a render pass: viewport = the whole `target`, scissor = `scissor` (or the whole target).
    void draw(VkCommandBuffer, VkExtent2D target, VkDescriptorSet, const void* push, uint32_t push_bytes,
              uint32_t vertices, uint32_t instances = 1, const VkRect2D* scissor = nullptr) const;
    template <class Push>
    void draw(VkCommandBuffer cb, VkExtent2D target, VkDescriptorSet set, const Push& push, uint32_t vertices,
              uint32_t instances = 1, const VkRect2D* scissor = nullptr) const {
        draw(cb, target, set, &push, sizeof(Push), vertices, instances, scissor);
    }

    const GraphicsDesc& desc() const { return desc_; }

private:
    Context* ctx_;
    GraphicsDesc desc_;
    VkShaderModule vs_ = VK_NULL_HANDLE, fs_ = VK_NULL_HANDLE;
    VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
    VkPipelineLayout layout_ = VK_NULL_HANDLE;
    VkPipeline pipeline_ = VK_NULL_HANDLE;
    std::vector<VkDescriptorPool> pools_;
    uint32_t left_in_pool_ = 0;
};

}  // namespace engine
