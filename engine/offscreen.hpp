// engine/offscreen.hpp — a frame target without a window: one colour image, drawn exactly as a swapchain image
// would be, then copied into a host-visible buffer and read back as RGBA8 rows (top row first).
#pragma once
#include "engine/frame_target.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace engine {

class Offscreen final : public FrameTarget {
public:
    // The format must match the render pass other pipelines were built for (a window's swapchain format when
    // screenshotting a window); R8G8B8A8_UNORM when there is no window.
    Offscreen(Context&, VkExtent2D, VkFormat = VK_FORMAT_R8G8B8A8_UNORM);
    ~Offscreen() override;
    Offscreen(const Offscreen&) = delete;
    Offscreen& operator=(const Offscreen&) = delete;

    VkRenderPass render_pass() const override { return render_pass_; }
    VkFormat format() const override { return format_; }
    uint32_t frames_in_flight() const override { return 1; }
    std::optional<Frame> begin() override;
    void begin_pass(Frame&, std::array<float, 4> clear_srgb) override;
    void end_pass(Frame&) override;      // also records the copy to the readback buffer
    void submit(Frame&) override;        // submits and waits: the pixels are ready when it returns

    VkExtent2D extent() const { return extent_; }
    // The last submitted frame, RGBA8, width·height·4 bytes, sRGB-encoded.
    std::vector<uint8_t> rgba() const;

private:
    void release();
    Context* ctx_;
    VkExtent2D extent_;
    VkFormat format_;
    VkImage image_ = VK_NULL_HANDLE;
    VkDeviceMemory memory_ = VK_NULL_HANDLE;
    VkImageView view_ = VK_NULL_HANDLE;
    VkRenderPass render_pass_ = VK_NULL_HANDLE;
    VkFramebuffer framebuffer_ = VK_NULL_HANDLE;
    Buffer readback_;
    std::unique_ptr<CommandBuffer> cmd_;
};

// Writes RGBA8 rows as a PNG file; throws with the path when it cannot.
void write_png(const std::string& path, const std::vector<uint8_t>& rgba, uint32_t width, uint32_t height);

}  // namespace engine
