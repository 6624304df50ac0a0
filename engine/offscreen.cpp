#include "engine/offscreen.hpp"

#include <stb_image_write.h>

#include <cerrno>
#include <cstring>

namespace engine {

Offscreen::Offscreen(Context& ctx, VkExtent2D extent, VkFormat format)
    : ctx_(&ctx), extent_(extent), format_(format) {
    if (extent.width == 0 || extent.height == 0 || extent.width > 16384 || extent.height > 16384)
        throw std::invalid_argument("offscreen target: size " + std::to_string(extent.width) + "×" +
                                    std::to_string(extent.height) + " is outside 1..16384 pixels per side");
    if (format != VK_FORMAT_R8G8B8A8_UNORM && format != VK_FORMAT_B8G8R8A8_UNORM)
        throw std::invalid_argument("offscreen target: only R8G8B8A8_UNORM and B8G8R8A8_UNORM are supported");
    VkDevice dev = ctx.device();
    try {
        VkImageCreateInfo ici{VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO};
        ici.imageType = VK_IMAGE_TYPE_2D;
        ici.format = format;
        ici.extent = {extent.width, extent.height, 1};
        ici.mipLevels = 1;
        ici.arrayLayers = 1;
        ici.samples = VK_SAMPLE_COUNT_1_BIT;
        ici.tiling = VK_IMAGE_TILING_OPTIMAL;
        ici.usage = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT;
        ici.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
        VK_CHECK(vkCreateImage(dev, &ici, nullptr, &image_));
        VkMemoryRequirements req;
        vkGetImageMemoryRequirements(dev, image_, &req);
        VkMemoryAllocateInfo mai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
        mai.allocationSize = req.size;
        mai.memoryTypeIndex = ctx.memory_type(req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
        VK_CHECK(vkAllocateMemory(dev, &mai, nullptr, &memory_));
        VK_CHECK(vkBindImageMemory(dev, image_, memory_, 0));
        VkImageViewCreateInfo vci{VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO};
        vci.image = image_;
        vci.viewType = VK_IMAGE_VIEW_TYPE_2D;
        vci.format = format;
        vci.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
        VK_CHECK(vkCreateImageView(dev, &vci, nullptr, &view_));
        render_pass_ = make_render_pass(dev, format, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL);
        VkFramebufferCreateInfo fci{VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO};
        fci.renderPass = render_pass_;
        fci.attachmentCount = 1;
        fci.pAttachments = &view_;
        fci.width = extent.width;
        fci.height = extent.height;
        fci.layers = 1;
        VK_CHECK(vkCreateFramebuffer(dev, &fci, nullptr, &framebuffer_));
        readback_ = Buffer(ctx, VkDeviceSize(extent.width) * extent.height * 4, Memory::Readback);
        cmd_ = std::make_unique<CommandBuffer>(ctx);
    } catch (...) {
        release();
        throw;
    }
}

Offscreen::~Offscreen() { release(); }

void Offscreen::release() {
    VkDevice dev = ctx_->device();
    cmd_.reset();  // waits for a pending submission
    if (framebuffer_) vkDestroyFramebuffer(dev, framebuffer_, nullptr);
    if (render_pass_) vkDestroyRenderPass(dev, render_pass_, nullptr);
    if (view_) vkDestroyImageView(dev, view_, nullptr);
    if (image_) vkDestroyImage(dev, image_, nullptr);
    if (memory_) vkFreeMemory(dev, memory_, nullptr);
    framebuffer_ = VK_NULL_HANDLE;
    render_pass_ = VK_NULL_HANDLE;
    view_ = VK_NULL_HANDLE;
    image_ = VK_NULL_HANDLE;
    memory_ = VK_NULL_HANDLE;
}

std::optional<Frame> Offscreen::begin() {
    cmd_->begin(true);
    return Frame{cmd_.get(), 0, extent_};
}

void Offscreen::begin_pass(Frame& f, std::array<float, 4> c) {
    VkClearValue clear{};
    clear.color = {{c[0], c[1], c[2], c[3]}};
    VkRenderPassBeginInfo bi{VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO};
    bi.renderPass = render_pass_;
    bi.framebuffer = framebuffer_;
    bi.renderArea = {{0, 0}, extent_};
    bi.clearValueCount = 1;
    bi.pClearValues = &clear;
    vkCmdBeginRenderPass(f.cmd->handle(), &bi, VK_SUBPASS_CONTENTS_INLINE);
}

void Offscreen::end_pass(Frame& f) {
    VkCommandBuffer cb = f.cmd->handle();
    vkCmdEndRenderPass(cb);  // its outgoing dependency orders colour writes → this transfer read
    VkBufferImageCopy region{};
    region.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1};
    region.imageExtent = {extent_.width, extent_.height, 1};
    vkCmdCopyImageToBuffer(cb, image_, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, readback_.handle(), 1, &region);
    f.cmd->barrier_to_host();  // RAW: the host reads what the copy wrote
}

void Offscreen::submit(Frame& f) {
    f.cmd->end();
    f.cmd->submit_and_wait(f.sync);
}

std::vector<uint8_t> Offscreen::rgba() const {
    auto px = readback_.download_as<uint8_t>();
    if (is_bgra(format_))
        for (size_t i = 0; i + 3 < px.size(); i += 4) std::swap(px[i], px[i + 2]);
    return px;
}

void write_png(const std::string& path, const std::vector<uint8_t>& rgba, uint32_t width, uint32_t height) {
    if (rgba.size() != size_t(width) * height * 4)
        throw std::invalid_argument("write_png " + path + ": " + std::to_string(rgba.size()) + " bytes for a " +
                                    std::to_string(width) + "×" + std::to_string(height) + " RGBA image");
    errno = 0;
    if (!stbi_write_png(path.c_str(), int(width), int(height), 4, rgba.data(), int(width * 4)))
        throw std::runtime_error("cannot write " + path + (errno ? std::string(": ") + std::strerror(errno) : "") +
                                 " (does the folder exist and is it writable?)");
}

}  // namespace engine
