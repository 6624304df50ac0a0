#include "engine/graphics.hpp"

namespace engine {

static VkShaderModule make_module(VkDevice dev, const std::string& name) {
    auto code = shader_code(name);
    VkShaderModuleCreateInfo ci{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
    ci.codeSize = code.size_bytes();
    ci.pCode = code.data();
    VkShaderModule m;
    VK_CHECK(vkCreateShaderModule(dev, &ci, nullptr, &m));
    return m;
}

static constexpr VkShaderStageFlags k_stages = VK_SHADER_STAGE_VERTEX_BIT | VK_SHADER_STAGE_FRAGMENT_BIT;
static constexpr uint32_t k_sets_per_pool = 32;

GraphicsPipeline::GraphicsPipeline(Context& ctx, VkRenderPass pass, GraphicsDesc desc)
    : ctx_(&ctx), desc_(std::move(desc)) {
    VkDevice dev = ctx.device();
    vs_ = make_module(dev, desc_.vertex);
    fs_ = make_module(dev, desc_.fragment);

    create_layouts(dev, std::vector<VkDescriptorType>(desc_.buffers, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER), k_stages,
                   desc_.push_bytes, &set_layout_, &layout_);

    VkPipelineShaderStageCreateInfo stages[2]{};
    stages[0] = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, nullptr, 0, VK_SHADER_STAGE_VERTEX_BIT, vs_, "main"};
    stages[1] = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, nullptr, 0, VK_SHADER_STAGE_FRAGMENT_BIT, fs_, "main"};
    VkPipelineVertexInputStateCreateInfo vi{VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO};
    VkPipelineInputAssemblyStateCreateInfo ia{VK_STRUCTURE_TYPE_PIPELINE_INPUT_ASSEMBLY_STATE_CREATE_INFO};
    ia.topology = desc_.topology;
    VkPipelineViewportStateCreateInfo vp{VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO};
    vp.viewportCount = 1;
    vp.scissorCount = 1;
    VkPipelineRasterizationStateCreateInfo rs{VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO};
    rs.polygonMode = VK_POLYGON_MODE_FILL;
    rs.cullMode = VK_CULL_MODE_NONE;
    rs.frontFace = VK_FRONT_FACE_COUNTER_CLOCKWISE;
    rs.lineWidth = 1.0f;
    VkPipelineMultisampleStateCreateInfo ms{VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO};
    ms.rasterizationSamples = VK_SAMPLE_COUNT_1_BIT;
    VkPipelineColorBlendAttachmentState att{};
    att.blendEnable = desc_.blend;
    // "over": c = a·src + (1 − a)·dst; the destination's alpha keeps opaque.
    att.srcColorBlendFactor = VK_BLEND_FACTOR_SRC_ALPHA;
    att.dstColorBlendFactor = VK_BLEND_FACTOR_ONE_MINUS_SRC_ALPHA;
    att.colorBlendOp = VK_BLEND_OP_ADD;
    att.srcAlphaBlendFactor = VK_BLEND_FACTOR_ONE;
    att.dstAlphaBlendFactor = VK_BLEND_FACTOR_ONE_MINUS_SRC_ALPHA;
    att.alphaBlendOp = VK_BLEND_OP_ADD;
    att.colorWriteMask = 0xf;
    VkPipelineColorBlendStateCreateInfo cb{VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO};
    cb.attachmentCount = 1;
    cb.pAttachments = &att;
    VkDynamicState dyn[] = {VK_DYNAMIC_STATE_VIEWPORT, VK_DYNAMIC_STATE_SCISSOR};
    VkPipelineDynamicStateCreateInfo ds{VK_STRUCTURE_TYPE_PIPELINE_DYNAMIC_STATE_CREATE_INFO};
    ds.dynamicStateCount = 2;
    ds.pDynamicStates = dyn;

    VkGraphicsPipelineCreateInfo ci{VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO};
    ci.stageCount = 2;
    ci.pStages = stages;
    ci.pVertexInputState = &vi;
    ci.pInputAssemblyState = &ia;
    ci.pViewportState = &vp;
    ci.pRasterizationState = &rs;
    ci.pMultisampleState = &ms;
    ci.pColorBlendState = &cb;
    ci.pDynamicState = &ds;
    ci.layout = layout_;
    ci.renderPass = pass;
    ci.subpass = 0;
    VK_CHECK(vkCreateGraphicsPipelines(dev, VK_NULL_HANDLE, 1, &ci, nullptr, &pipeline_));
}

GraphicsPipeline::~GraphicsPipeline() {
    VkDevice dev = ctx_->device();
    for (auto p : pools_) vkDestroyDescriptorPool(dev, p, nullptr);
    vkDestroyPipeline(dev, pipeline_, nullptr);
    vkDestroyPipelineLayout(dev, layout_, nullptr);
    vkDestroyDescriptorSetLayout(dev, set_layout_, nullptr);
    vkDestroyShaderModule(dev, vs_, nullptr);
    vkDestroyShaderModule(dev, fs_, nullptr);
}

VkDescriptorSet GraphicsPipeline::bind(std::initializer_list<BufferRange> bindings) {
    if (bindings.size() != desc_.buffers)
        throw std::invalid_argument(desc_.vertex + "+" + desc_.fragment + ": bound " + std::to_string(bindings.size()) +
                                    " buffers, the pipeline has " + std::to_string(desc_.buffers));
    if (left_in_pool_ == 0) {
        VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, k_sets_per_pool * std::max(1u, desc_.buffers)};
        VkDescriptorPoolCreateInfo ci{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
        ci.maxSets = k_sets_per_pool;
        ci.poolSizeCount = 1;
        ci.pPoolSizes = &size;
        VkDescriptorPool pool;
        VK_CHECK(vkCreateDescriptorPool(ctx_->device(), &ci, nullptr, &pool));
        pools_.push_back(pool);
        left_in_pool_ = k_sets_per_pool;
    }
    VkDescriptorSetAllocateInfo ai{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
    ai.descriptorPool = pools_.back();
    ai.descriptorSetCount = 1;
    ai.pSetLayouts = &set_layout_;
    VkDescriptorSet set;
    VK_CHECK(vkAllocateDescriptorSets(ctx_->device(), &ai, &set));
    --left_in_pool_;
    std::vector<VkDescriptorBufferInfo> infos;
    for (const auto& r : bindings) infos.push_back({r.buffer->handle(), r.offset, r.bytes});
    std::vector<VkWriteDescriptorSet> writes(infos.size(), {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET});
    for (size_t i = 0; i < infos.size(); ++i) {
        writes[i].dstSet = set;
        writes[i].dstBinding = uint32_t(i);
        writes[i].descriptorCount = 1;
        writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        writes[i].pBufferInfo = &infos[i];
    }
    vkUpdateDescriptorSets(ctx_->device(), uint32_t(writes.size()), writes.data(), 0, nullptr);
    return set;
}

void GraphicsPipeline::draw(VkCommandBuffer cb, VkExtent2D target, VkDescriptorSet set, const void* push,
                            uint32_t push_bytes, uint32_t vertices, uint32_t instances, const VkRect2D* scissor) const {
    if (push_bytes != desc_.push_bytes)
        throw std::invalid_argument(desc_.vertex + ": pushed " + std::to_string(push_bytes) + " bytes, the pipeline declares " +
                                    std::to_string(desc_.push_bytes));
    vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_GRAPHICS, pipeline_);
    if (desc_.buffers) vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_GRAPHICS, layout_, 0, 1, &set, 0, nullptr);
    if (push_bytes) vkCmdPushConstants(cb, layout_, k_stages, 0, push_bytes, push);
    VkViewport vp{0, 0, float(target.width), float(target.height), 0, 1};
    vkCmdSetViewport(cb, 0, 1, &vp);
    VkRect2D all{{0, 0}, target};
    vkCmdSetScissor(cb, 0, 1, scissor ? scissor : &all);
    if (vertices && instances) vkCmdDraw(cb, vertices, instances, 0, 0);
}

}  // namespace engine
