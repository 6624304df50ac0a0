// engine/window/swapchain.hpp — the window's swapchain and its frames in flight. Recreated when the window is resized,
// when presentation reports it out of date or suboptimal, and when vsync is toggled; a minimised (0×0) window
// yields no frames until it is restored.
#pragma once
#include "engine/frame_target.hpp"
#include "engine/window/window.hpp"

#include <memory>
#include <vector>

namespace engine {

struct SwapchainOptions {
    bool vsync = true;               // FIFO; off: MAILBOX if available, else IMMEDIATE, else FIFO
    uint32_t frames_in_flight = 2;   // CPU may record frame k+1 while the GPU draws frame k
};

class Swapchain final : public FrameTarget {
public:
    Swapchain(Context&, Window&, SwapchainOptions = {});
    ~Swapchain() override;
    Swapchain(const Swapchain&) = delete;
    Swapchain& operator=(const Swapchain&) = delete;

    VkRenderPass render_pass() const override { return render_pass_; }
    VkFormat format() const override { return format_; }
    uint32_t frames_in_flight() const override { return uint32_t(slots_.size()); }
    std::optional<Frame> begin() override;
    void begin_pass(Frame&, std::array<float, 4> clear_srgb) override;
    void end_pass(Frame&) override;
    void submit(Frame&) override;

    void set_vsync(bool on);
    bool vsync() const { return options_.vsync; }
    VkPresentModeKHR present_mode() const { return present_mode_; }
    uint32_t image_count() const { return uint32_t(images_.size()); }
    VkExtent2D extent() const { return extent_; }
    uint32_t recreations() const { return recreations_; }  // how often it was rebuilt (tests, overlay)
    // Waits for every frame in flight (before destroying things a frame may still use).
    void wait_idle();

private:
    void create();
    void destroy_images();
    bool recreate();  // false while the window is 0×0

    struct Slot {
        std::unique_ptr<CommandBuffer> cmd;
        VkFence done = VK_NULL_HANDLE;            // signalled when this slot's last submission finished
        VkSemaphore image_ready = VK_NULL_HANDLE;  // acquire → submit
    };
    Context* ctx_;
    Window* window_;
    SwapchainOptions options_;
    VkSwapchainKHR swapchain_ = VK_NULL_HANDLE;
    VkFormat format_ = VK_FORMAT_UNDEFINED;
    VkColorSpaceKHR colour_space_ = VK_COLOR_SPACE_SRGB_NONLINEAR_KHR;
    VkPresentModeKHR present_mode_ = VK_PRESENT_MODE_FIFO_KHR;
    VkExtent2D extent_{};
    VkRenderPass render_pass_ = VK_NULL_HANDLE;
    std::vector<VkImage> images_;
    std::vector<VkImageView> views_;
    std::vector<VkFramebuffer> framebuffers_;
    std::vector<VkSemaphore> rendered_;  // per swapchain image: submit → present
    std::vector<Slot> slots_;
    uint32_t slot_ = 0, image_ = 0;
    bool stale_ = false;
    uint32_t recreations_ = 0;
};

}  // namespace engine
