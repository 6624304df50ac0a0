#include "engine/pipeline.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

#include <utility>

namespace diffuscope::shaders {
extern const std::pair<std::string_view, std::span<const uint32_t>> k_table[];
extern const size_t k_table_size;
}  // namespace diffuscope::shaders

namespace engine {

std::span<const uint32_t> shader_code(std::string_view name) {
    using namespace diffuscope::shaders;
    for (size_t i = 0; i < k_table_size; ++i)
        if (k_table[i].first == name) return k_table[i].second;
    std::string known;
    for (size_t i = 0; i < k_table_size; ++i) known += std::string(i ? ", " : "") + std::string(k_table[i].first);
    throw std::runtime_error("no embedded shader named \"" + std::string(name) + "\" (known: " + known + ")");
}

std::vector<std::string_view> shader_names() {
    using namespace diffuscope::shaders;
    std::vector<std::string_view> out;
    for (size_t i = 0; i < k_table_size; ++i) out.push_back(k_table[i].first);
    return out;
}

static constexpr uint32_t k_sets_per_pool = 64;

std::vector<VkDescriptorType> reflect_bindings(std::span<const uint32_t> code, std::string_view name) {
    // SPIR-V: a 5-word header, then instructions whose first word is (word count << 16) | opcode.
    enum : uint32_t { OpTypeImage = 25, OpTypeSampledImage = 27, OpTypePointer = 32, OpVariable = 59, OpDecorate = 71 };
    enum : uint32_t { DecBlock = 2, DecBufferBlock = 3, DecBinding = 33 };
    enum : uint32_t { UniformConstant = 0, Uniform = 2, StorageBuffer = 12 };
    std::map<uint32_t, uint32_t> binding_of, pointee, pointer_class;
    std::map<uint32_t, VkDescriptorType> image_kind;  // OpTypeImage / OpTypeSampledImage id → texel kind
    std::set<uint32_t> block, buffer_block;
    std::vector<std::pair<uint32_t, uint32_t>> variables;  // (pointer type, id)
    auto fail = [&](const std::string& why) { return std::runtime_error(std::string(name) + ": " + why); };
    for (size_t i = 5; i < code.size();) {
        const uint32_t words = code[i] >> 16, op = code[i] & 0xffff;
        if (words == 0 || i + words > code.size()) throw fail("malformed SPIR-V");
        const uint32_t* w = &code[i];
        if (op == OpDecorate && words >= 3) {
            if (w[2] == DecBinding && words >= 4) binding_of[w[1]] = w[3];
            if (w[2] == DecBlock) block.insert(w[1]);
            if (w[2] == DecBufferBlock) buffer_block.insert(w[1]);
        } else if (op == OpTypePointer && words >= 4) {
            pointer_class[w[1]] = w[2];
            pointee[w[1]] = w[3];
        } else if (op == OpTypeImage && words >= 9 && w[3] == 5 /* Dim Buffer */) {
            image_kind[w[1]] = w[7] == 2 ? VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER : VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
        } else if (op == OpTypeSampledImage && words >= 3 && image_kind.count(w[2])) {
            image_kind[w[1]] = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
        } else if (op == OpVariable && words >= 4) {
            variables.emplace_back(w[1], w[2]);
        }
        i += words;
    }
    std::map<uint32_t, VkDescriptorType> types;
    for (auto [ptr, id] : variables) {
        auto b = binding_of.find(id);
        if (b == binding_of.end()) continue;
        const uint32_t cls = pointer_class[ptr], type = pointee[ptr];
        VkDescriptorType t;
        if (cls == StorageBuffer || (cls == Uniform && buffer_block.count(type))) t = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        else if (cls == Uniform && block.count(type)) t = VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER;
        else if (cls == UniformConstant && image_kind.count(type)) t = image_kind[type];
        else throw fail("binding " + std::to_string(b->second) + " is of a kind the engine does not bind");
        types[b->second] = t;
    }
    // A binding the shader declares but never uses is not in the SPIR-V: it stays a storage buffer.
    std::vector<VkDescriptorType> out(types.empty() ? 0 : types.rbegin()->first + 1, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER);
    for (auto [binding, t] : types) out[binding] = t;
    return out;
}

void create_layouts(VkDevice dev, const std::vector<VkDescriptorType>& types, VkShaderStageFlags stages,
                    uint32_t push_bytes, VkDescriptorSetLayout* set_layout, VkPipelineLayout* layout) {
    std::vector<VkDescriptorSetLayoutBinding> b(types.size());
    for (uint32_t i = 0; i < types.size(); ++i) b[i] = {i, types[i], 1, stages, nullptr};
    VkDescriptorSetLayoutCreateInfo dl{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
    dl.bindingCount = uint32_t(b.size());
    dl.pBindings = b.data();
    VK_CHECK(vkCreateDescriptorSetLayout(dev, &dl, nullptr, set_layout));
    VkPushConstantRange pcr{stages, 0, push_bytes};
    VkPipelineLayoutCreateInfo plci{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
    plci.setLayoutCount = 1;
    plci.pSetLayouts = set_layout;
    plci.pushConstantRangeCount = push_bytes ? 1 : 0;
    plci.pPushConstantRanges = &pcr;
    VK_CHECK(vkCreatePipelineLayout(dev, &plci, nullptr, layout));
}

ComputePipeline::ComputePipeline(Context& ctx, PipelineDesc desc) : ctx_(&ctx), desc_(std::move(desc)) {
    VkDevice dev = ctx.device();
    auto code = shader_code(desc_.shader);
    VkShaderModuleCreateInfo smci{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
    smci.codeSize = code.size_bytes();
    smci.pCode = code.data();
    if (desc_.types.empty()) {
        desc_.types = reflect_bindings(code, desc_.shader);
        if (desc_.types.size() > desc_.buffers)
            throw std::invalid_argument(desc_.shader + ": the shader uses binding " + std::to_string(desc_.types.size() - 1) +
                                        ", the pipeline was described with " + std::to_string(desc_.buffers) + " bindings");
    }
    VK_CHECK(vkCreateShaderModule(dev, &smci, nullptr, &module_));

    std::vector<VkDescriptorType> types(desc_.buffers);
    for (uint32_t i = 0; i < desc_.buffers; ++i) types[i] = desc_.type(i);
    create_layouts(dev, types, VK_SHADER_STAGE_COMPUTE_BIT, desc_.push_bytes, &set_layout_, &layout_);

    std::vector<VkSpecializationMapEntry> entries(desc_.spec.size());
    for (uint32_t i = 0; i < entries.size(); ++i) entries[i] = {i, i * 4u, 4};
    VkSpecializationInfo si{uint32_t(entries.size()), entries.data(), desc_.spec.size() * 4, desc_.spec.data()};

    VkComputePipelineCreateInfo cpci{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
    cpci.stage = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
    cpci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    cpci.stage.module = module_;
    cpci.stage.pName = "main";
    cpci.stage.pSpecializationInfo = entries.empty() ? nullptr : &si;
    cpci.layout = layout_;
    VK_CHECK(vkCreateComputePipelines(dev, VK_NULL_HANDLE, 1, &cpci, nullptr, &pipeline_));
}

ComputePipeline::ComputePipeline(ComputePipeline&& o) noexcept
    : ctx_(o.ctx_), desc_(std::move(o.desc_)), module_(std::exchange(o.module_, VK_NULL_HANDLE)),
      set_layout_(std::exchange(o.set_layout_, VK_NULL_HANDLE)), layout_(std::exchange(o.layout_, VK_NULL_HANDLE)),
      pipeline_(std::exchange(o.pipeline_, VK_NULL_HANDLE)), pools_(std::move(o.pools_)),
      left_in_pool_(std::exchange(o.left_in_pool_, 0)) {
    o.pools_.clear();
}

ComputePipeline::~ComputePipeline() {
    VkDevice dev = ctx_->device();
    for (auto p : pools_) vkDestroyDescriptorPool(dev, p, nullptr);
    if (pipeline_) vkDestroyPipeline(dev, pipeline_, nullptr);
    if (layout_) vkDestroyPipelineLayout(dev, layout_, nullptr);
    if (set_layout_) vkDestroyDescriptorSetLayout(dev, set_layout_, nullptr);
    if (module_) vkDestroyShaderModule(dev, module_, nullptr);
}

void ComputePipeline::grow_pool() {
    std::vector<VkDescriptorPoolSize> sizes;
    for (uint32_t i = 0; i < std::max(1u, desc_.buffers); ++i) {
        auto t = desc_.type(i);
        auto it = std::find_if(sizes.begin(), sizes.end(), [&](auto& s) { return s.type == t; });
        if (it == sizes.end()) sizes.push_back({t, 0}), it = sizes.end() - 1;
        it->descriptorCount += k_sets_per_pool;
    }
    VkDescriptorPoolCreateInfo ci{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
    ci.maxSets = k_sets_per_pool;
    ci.poolSizeCount = uint32_t(sizes.size());
    ci.pPoolSizes = sizes.data();
    VkDescriptorPool pool;
    VK_CHECK(vkCreateDescriptorPool(ctx_->device(), &ci, nullptr, &pool));
    pools_.push_back(pool);
    left_in_pool_ = k_sets_per_pool;
}

VkDescriptorSet ComputePipeline::bind(std::initializer_list<BufferRange> bindings) {
    return bind(std::span<const BufferRange>(bindings.begin(), bindings.size()));
}

VkDescriptorSet ComputePipeline::bind(std::span<const BufferRange> bindings) {
    if (bindings.size() != desc_.buffers)
        throw std::invalid_argument(desc_.shader + ": bound " + std::to_string(bindings.size()) + " buffers, the shader has " +
                                    std::to_string(desc_.buffers));
    if (left_in_pool_ == 0) grow_pool();
    VkDescriptorSetAllocateInfo ai{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
    ai.descriptorPool = pools_.back();
    ai.descriptorSetCount = 1;
    ai.pSetLayouts = &set_layout_;
    VkDescriptorSet set;
    VK_CHECK(vkAllocateDescriptorSets(ctx_->device(), &ai, &set));
    --left_in_pool_;
    std::vector<VkDescriptorBufferInfo> infos(bindings.size());
    std::vector<VkWriteDescriptorSet> writes(bindings.size());
    std::vector<VkBufferView> views(bindings.size());
    for (size_t i = 0; i < bindings.size(); ++i) {
        infos[i] = {bindings[i].buffer->handle(), bindings[i].offset, bindings[i].bytes};
        writes[i] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
        writes[i].dstSet = set;
        writes[i].dstBinding = uint32_t(i);
        writes[i].descriptorCount = 1;
        writes[i].descriptorType = desc_.type(uint32_t(i));
        if (writes[i].descriptorType == VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER ||
            writes[i].descriptorType == VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER) {
            views[i] = bindings[i].view;
            if (!views[i]) {
                if (writes[i].descriptorType == VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER || bindings[i].offset != 0 ||
                    bindings[i].bytes != VK_WHOLE_SIZE)
                    throw std::invalid_argument(desc_.shader + ": binding " + std::to_string(i) +
                                                " is a texel buffer of part of a buffer and needs a BufferView");
                views[i] = bindings[i].buffer->texel_view((desc_.rgba32f_bindings >> i) & 1 ? VK_FORMAT_R32G32B32A32_SFLOAT
                                                                                           : VK_FORMAT_R32_SFLOAT);
            }
            writes[i].pTexelBufferView = &views[i];
        } else {
            writes[i].pBufferInfo = &infos[i];
        }
    }
    vkUpdateDescriptorSets(ctx_->device(), uint32_t(writes.size()), writes.data(), 0, nullptr);
    return set;
}

BufferView::BufferView(Context& ctx, const Buffer& b, VkFormat format, VkDeviceSize offset, VkDeviceSize bytes)
    : ctx_(&ctx), buffer_(&b) {
    VkBufferViewCreateInfo ci{VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO};
    ci.buffer = b.handle();
    ci.format = format;
    ci.offset = offset;
    ci.range = bytes;
    VK_CHECK(vkCreateBufferView(ctx.device(), &ci, nullptr, &view_));
}

BufferView::~BufferView() {
    if (view_) vkDestroyBufferView(ctx_->device(), view_, nullptr);
}

}  // namespace engine
