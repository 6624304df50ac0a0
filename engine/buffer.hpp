// engine/buffer.hpp — one VkBuffer and the memory it owns. Movable, not copyable; the destructor is the
// only place it is destroyed.
#pragma once
#include "engine/context.hpp"

#include <cstddef>
#include <cstring>
#include <span>
#include <vector>

namespace engine {

enum class Memory {
    Device,    // device-local storage; mapped directly when the device-local type is host-visible (CPUs, ReBAR)
    Readback,  // host-visible, cached where possible: the GPU writes, the host reads
    Upload,    // host-visible, write-combined: the host writes, the GPU reads
};

class Buffer {
public:
    Buffer() = default;
    Buffer(Context& ctx, VkDeviceSize bytes, Memory mem = Memory::Device, VkBufferUsageFlags extra_usage = 0);
    Buffer(Buffer&&) noexcept;
    Buffer& operator=(Buffer&&) noexcept;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    ~Buffer();

    VkBuffer handle() const { return buffer_; }
    // Unique for the life of the process (moved along with the buffer): a key for caches of descriptor sets,
    // which a VkBuffer handle is not, since a new buffer may get a destroyed one's handle.
    uint64_t id() const { return id_; }
    VkDeviceSize size() const { return size_; }
    bool host_visible() const { return mapped_ != nullptr; }
    explicit operator bool() const { return buffer_ != VK_NULL_HANDLE; }

    // Host-visible only; throws otherwise.
    std::span<std::byte> map();
    template <class T>
    std::span<T> map_as() {
        auto b = map();
        return {reinterpret_cast<T*>(b.data()), b.size() / sizeof(T)};
    }

    // Copies through a staging buffer when the memory is not host-visible. Blocks until done.
    void upload(const void* src, VkDeviceSize bytes, VkDeviceSize offset = 0);
    void download(void* dst, VkDeviceSize bytes, VkDeviceSize offset = 0) const;
    template <class T>
    void upload(std::span<const T> v, VkDeviceSize offset = 0) { upload(v.data(), v.size_bytes(), offset); }
    template <class T>
    void upload(const std::vector<T>& v, VkDeviceSize offset = 0) { upload(v.data(), v.size() * sizeof(T), offset); }
    template <class T>
    std::vector<T> download_as(size_t count = 0, VkDeviceSize offset = 0) const {
        std::vector<T> v(count ? count : (size_ - offset) / sizeof(T));
        download(v.data(), v.size() * sizeof(T), offset);
        return v;
    }

    // A view of the whole buffer as R32_SFLOAT or R32G32B32A32_SFLOAT texels, for uniform texel-buffer
    // bindings (samplerBuffer). Made on first use, owned by the buffer. Throws when the buffer holds more
    // texels than the device's maxTexelBufferElements.
    VkBufferView texel_view(VkFormat format) const;

private:
    void release();
    mutable VkBufferView view_r32f_ = VK_NULL_HANDLE, view_rgba32f_ = VK_NULL_HANDLE;
    Context* ctx_ = nullptr;
    VkBuffer buffer_ = VK_NULL_HANDLE;
    VkDeviceMemory memory_ = VK_NULL_HANDLE;
    VkDeviceSize size_ = 0;
    uint64_t id_ = 0;
    bool coherent_ = true;
    std::byte* mapped_ = nullptr;
};

}  // namespace engine
