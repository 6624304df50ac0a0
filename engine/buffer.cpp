#include "engine/buffer.hpp"

#include "engine/commands.hpp"

#include <atomic>
#include <utility>

namespace engine {

static uint64_t next_buffer_id() {
    static std::atomic<uint64_t> n{0};
    return ++n;
}

Buffer::Buffer(Context& ctx, VkDeviceSize bytes, Memory mem, VkBufferUsageFlags extra)
    : ctx_(&ctx), size_(bytes), id_(next_buffer_id()) {
    if (bytes == 0) throw std::invalid_argument("engine::Buffer: zero-byte buffer");
    VkBufferCreateInfo bci{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    bci.size = (bytes + 15) / 16 * 16;  // whole RGBA32F texels, so any buffer has one (texel_view)
    bci.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
                VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT | extra;
    // With an asynchronous compute queue of another family, every buffer is shared by both families: the
    // visualiser orders their uses with semaphores, so no ownership transfers are needed.
    const auto& families = ctx.sharing_families();
    bci.sharingMode = families.size() > 1 ? VK_SHARING_MODE_CONCURRENT : VK_SHARING_MODE_EXCLUSIVE;
    bci.queueFamilyIndexCount = families.size() > 1 ? uint32_t(families.size()) : 0;
    bci.pQueueFamilyIndices = families.size() > 1 ? families.data() : nullptr;
    VK_CHECK(vkCreateBuffer(ctx.device(), &bci, nullptr, &buffer_));

    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(ctx.device(), buffer_, &req);
    uint32_t type = 0;
    switch (mem) {
        case Memory::Device: type = ctx.memory_type(req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT); break;
        case Memory::Readback: break;  // below: cached if the device has it
        case Memory::Upload:
            type = ctx.memory_type(req.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
            break;
    }
    if (mem == Memory::Readback) {
        try {
            type = ctx.memory_type(req.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
        } catch (const std::runtime_error&) {
            type = ctx.memory_type(req.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
        }
    }
    VkMemoryAllocateInfo mai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    mai.allocationSize = req.size;
    mai.memoryTypeIndex = type;
    VkResult r = vkAllocateMemory(ctx.device(), &mai, nullptr, &memory_);
    if (r != VK_SUCCESS) {
        vkDestroyBuffer(ctx.device(), buffer_, nullptr);
        buffer_ = VK_NULL_HANDLE;
        throw VulkanError("allocating a " + std::to_string(bytes) + "-byte buffer: " + to_string(r), r);
    }
    VK_CHECK(vkBindBufferMemory(ctx.device(), buffer_, memory_, 0));
    auto flags = ctx.memory().memoryTypes[type].propertyFlags;
    coherent_ = flags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    if (flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
        void* p = nullptr;
        VK_CHECK(vkMapMemory(ctx.device(), memory_, 0, VK_WHOLE_SIZE, 0, &p));
        mapped_ = static_cast<std::byte*>(p);
    }
}

Buffer::Buffer(Buffer&& o) noexcept { *this = std::move(o); }

Buffer& Buffer::operator=(Buffer&& o) noexcept {
    if (this != &o) {
        release();
        ctx_ = std::exchange(o.ctx_, nullptr);
        buffer_ = std::exchange(o.buffer_, VK_NULL_HANDLE);
        memory_ = std::exchange(o.memory_, VK_NULL_HANDLE);
        size_ = std::exchange(o.size_, 0);
        id_ = std::exchange(o.id_, 0);
        coherent_ = o.coherent_;
        mapped_ = std::exchange(o.mapped_, nullptr);
        view_r32f_ = std::exchange(o.view_r32f_, VK_NULL_HANDLE);
        view_rgba32f_ = std::exchange(o.view_rgba32f_, VK_NULL_HANDLE);
    }
    return *this;
}

Buffer::~Buffer() { release(); }

void Buffer::release() {
    if (!ctx_) return;
    if (mapped_) vkUnmapMemory(ctx_->device(), memory_);
    if (view_r32f_) vkDestroyBufferView(ctx_->device(), view_r32f_, nullptr);
    if (view_rgba32f_) vkDestroyBufferView(ctx_->device(), view_rgba32f_, nullptr);
    view_r32f_ = view_rgba32f_ = VK_NULL_HANDLE;
    if (buffer_) vkDestroyBuffer(ctx_->device(), buffer_, nullptr);
    if (memory_) vkFreeMemory(ctx_->device(), memory_, nullptr);
    buffer_ = VK_NULL_HANDLE;
    memory_ = VK_NULL_HANDLE;
    mapped_ = nullptr;
    ctx_ = nullptr;
}

VkBufferView Buffer::texel_view(VkFormat format) const {
    VkBufferView* slot = format == VK_FORMAT_R32_SFLOAT            ? &view_r32f_
                         : format == VK_FORMAT_R32G32B32A32_SFLOAT ? &view_rgba32f_
                                                                   : nullptr;
    if (!slot) throw std::invalid_argument("engine::Buffer::texel_view: only R32_SFLOAT and R32G32B32A32_SFLOAT views");
    if (*slot) return *slot;
    const VkDeviceSize texel = format == VK_FORMAT_R32_SFLOAT ? 4 : 16;
    const VkDeviceSize texels = (size_ + texel - 1) / texel;  // the VkBuffer is padded to whole RGBA32F texels
    if (texels > ctx_->info().max_texel_buffer_elements)
        throw std::invalid_argument("engine::Buffer: a " + std::to_string(size_ >> 20) + " MiB buffer has " +
                                    std::to_string(texels) + " texels, more than this device's maxTexelBufferElements (" +
                                    std::to_string(ctx_->info().max_texel_buffer_elements) + "); split it");
    VkBufferViewCreateInfo ci{VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO};
    ci.buffer = buffer_;
    ci.format = format;
    ci.offset = 0;
    ci.range = texels * texel;
    VK_CHECK(vkCreateBufferView(ctx_->device(), &ci, nullptr, slot));
    return *slot;
}

std::span<std::byte> Buffer::map() {
    if (!mapped_) throw std::logic_error("engine::Buffer::map: this buffer's memory is not host-visible");
    return {mapped_, size_t(size_)};
}

static void check_range(VkDeviceSize bytes, VkDeviceSize offset, VkDeviceSize size) {
    if (offset + bytes > size)
        throw std::out_of_range("engine::Buffer: " + std::to_string(bytes) + " bytes at offset " + std::to_string(offset) +
                                " exceed the buffer's " + std::to_string(size));
}

void Buffer::upload(const void* src, VkDeviceSize bytes, VkDeviceSize offset) {
    check_range(bytes, offset, size_);
    if (bytes == 0) return;
    if (mapped_) {
        std::memcpy(mapped_ + offset, src, bytes);
        if (!coherent_) {
            VkMappedMemoryRange range{VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, nullptr, memory_, 0, VK_WHOLE_SIZE};
            VK_CHECK(vkFlushMappedMemoryRanges(ctx_->device(), 1, &range));
        }
        return;
    }
    Buffer staging(*ctx_, bytes, Memory::Upload);
    std::memcpy(staging.mapped_, src, bytes);
    one_shot(*ctx_, [&](CommandBuffer& cmd) { cmd.copy(staging, *this, bytes, 0, offset); });
}

void Buffer::download(void* dst, VkDeviceSize bytes, VkDeviceSize offset) const {
    check_range(bytes, offset, size_);
    if (bytes == 0) return;
    if (mapped_) {
        if (!coherent_) {
            VkMappedMemoryRange range{VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, nullptr, memory_, 0, VK_WHOLE_SIZE};
            VK_CHECK(vkInvalidateMappedMemoryRanges(ctx_->device(), 1, &range));
        }
        std::memcpy(dst, mapped_ + offset, bytes);
        return;
    }
    Buffer staging(*ctx_, bytes, Memory::Readback);
    one_shot(*ctx_, [&](CommandBuffer& cmd) {
        cmd.copy(*this, staging, bytes, offset, 0);
        cmd.barrier_to_host();
    });
    staging.download(dst, bytes, 0);
}

}  // namespace engine
