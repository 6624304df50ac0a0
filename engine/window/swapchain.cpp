#include "engine/window/swapchain.hpp"

#include <algorithm>

namespace engine {

namespace {
VkSurfaceFormatKHR choose_format(VkPhysicalDevice pd, VkSurfaceKHR surface) {
    uint32_t n = 0;
    VK_CHECK(vkGetPhysicalDeviceSurfaceFormatsKHR(pd, surface, &n, nullptr));
    std::vector<VkSurfaceFormatKHR> formats(n);
    VK_CHECK(vkGetPhysicalDeviceSurfaceFormatsKHR(pd, surface, &n, formats.data()));
    if (formats.empty()) throw std::runtime_error("the window's surface offers no formats");
    // UNORM on purpose (see frame_target.hpp): our colours are sRGB-encoded bytes, stored unchanged.
    for (VkFormat want : {VK_FORMAT_B8G8R8A8_UNORM, VK_FORMAT_R8G8B8A8_UNORM})
        for (const auto& f : formats)
            if (f.format == want && f.colorSpace == VK_COLOR_SPACE_SRGB_NONLINEAR_KHR) return f;
    std::string have;
    for (const auto& f : formats) {
        have += ' ';
        have += std::to_string(int(f.format));
    }
    throw std::runtime_error("the window's surface offers no 8-bit UNORM BGRA/RGBA format in the sRGB colour space "
                             "(VkFormat values offered:" + have + ")");
}

VkPresentModeKHR choose_present_mode(VkPhysicalDevice pd, VkSurfaceKHR surface, bool vsync) {
    if (vsync) return VK_PRESENT_MODE_FIFO_KHR;  // always supported
    uint32_t n = 0;
    VK_CHECK(vkGetPhysicalDeviceSurfacePresentModesKHR(pd, surface, &n, nullptr));
    std::vector<VkPresentModeKHR> modes(n);
    VK_CHECK(vkGetPhysicalDeviceSurfacePresentModesKHR(pd, surface, &n, modes.data()));
    for (VkPresentModeKHR want : {VK_PRESENT_MODE_MAILBOX_KHR, VK_PRESENT_MODE_IMMEDIATE_KHR})
        if (std::find(modes.begin(), modes.end(), want) != modes.end()) return want;
    return VK_PRESENT_MODE_FIFO_KHR;
}
}  // namespace

Swapchain::Swapchain(Context& ctx, Window& window, SwapchainOptions o) : ctx_(&ctx), window_(&window), options_(o) {
    if (!window.surface()) throw std::logic_error("engine::Swapchain: call Window::create_surface first");
    if (o.frames_in_flight == 0) throw std::invalid_argument("engine::Swapchain: frames_in_flight must be ≥ 1");
    VkDevice dev = ctx.device();
    auto sf = choose_format(ctx.physical(), window.surface());
    format_ = sf.format;
    colour_space_ = sf.colorSpace;
    render_pass_ = make_render_pass(dev, format_, VK_IMAGE_LAYOUT_PRESENT_SRC_KHR);
    slots_.resize(o.frames_in_flight);
    for (auto& s : slots_) {
        s.cmd = std::make_unique<CommandBuffer>(ctx);
        VkFenceCreateInfo fci{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO, nullptr, VK_FENCE_CREATE_SIGNALED_BIT};
        VK_CHECK(vkCreateFence(dev, &fci, nullptr, &s.done));
        VkSemaphoreCreateInfo sci{VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
        VK_CHECK(vkCreateSemaphore(dev, &sci, nullptr, &s.image_ready));
    }
    if (!window.minimised()) create();
}

Swapchain::~Swapchain() {
    VkDevice dev = ctx_->device();
    vkDeviceWaitIdle(dev);
    destroy_images();
    if (swapchain_) vkDestroySwapchainKHR(dev, swapchain_, nullptr);
    for (auto& s : slots_) {
        vkDestroyFence(dev, s.done, nullptr);
        vkDestroySemaphore(dev, s.image_ready, nullptr);
    }
    slots_.clear();
    vkDestroyRenderPass(dev, render_pass_, nullptr);
}

void Swapchain::wait_idle() {
    std::vector<VkFence> fences;
    for (auto& s : slots_) fences.push_back(s.done);
    VK_CHECK(vkWaitForFences(ctx_->device(), uint32_t(fences.size()), fences.data(), VK_TRUE, UINT64_MAX));
}

void Swapchain::destroy_images() {
    VkDevice dev = ctx_->device();
    for (auto fb : framebuffers_) vkDestroyFramebuffer(dev, fb, nullptr);
    for (auto v : views_) vkDestroyImageView(dev, v, nullptr);
    for (auto s : rendered_) vkDestroySemaphore(dev, s, nullptr);
    framebuffers_.clear();
    views_.clear();
    rendered_.clear();
    images_.clear();
}

void Swapchain::create() {
    VkDevice dev = ctx_->device();
    VkSurfaceCapabilitiesKHR caps;
    VK_CHECK(vkGetPhysicalDeviceSurfaceCapabilitiesKHR(ctx_->physical(), window_->surface(), &caps));
    VkExtent2D e = caps.currentExtent;
    if (e.width == UINT32_MAX) {  // the surface takes the swapchain's size: use the framebuffer's
        e = window_->framebuffer_extent();
        e.width = std::clamp(e.width, caps.minImageExtent.width, caps.maxImageExtent.width);
        e.height = std::clamp(e.height, caps.minImageExtent.height, caps.maxImageExtent.height);
    }
    extent_ = e;
    present_mode_ = choose_present_mode(ctx_->physical(), window_->surface(), options_.vsync);
    uint32_t count = std::max(caps.minImageCount + 1, 3u);
    if (caps.maxImageCount) count = std::min(count, caps.maxImageCount);

    VkSwapchainCreateInfoKHR ci{VK_STRUCTURE_TYPE_SWAPCHAIN_CREATE_INFO_KHR};
    ci.surface = window_->surface();
    ci.minImageCount = count;
    ci.imageFormat = format_;
    ci.imageColorSpace = colour_space_;
    ci.imageExtent = e;
    ci.imageArrayLayers = 1;
    ci.imageUsage = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT;
    ci.imageSharingMode = VK_SHARING_MODE_EXCLUSIVE;
    ci.preTransform = (caps.supportedTransforms & VK_SURFACE_TRANSFORM_IDENTITY_BIT_KHR)
                          ? VK_SURFACE_TRANSFORM_IDENTITY_BIT_KHR : caps.currentTransform;
    ci.compositeAlpha = (caps.supportedCompositeAlpha & VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR)
                            ? VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR : VkCompositeAlphaFlagBitsKHR(
                                  caps.supportedCompositeAlpha & -caps.supportedCompositeAlpha);  // lowest set bit
    ci.presentMode = present_mode_;
    ci.clipped = VK_TRUE;
    ci.oldSwapchain = swapchain_;
    VkSwapchainKHR fresh = VK_NULL_HANDLE;
    VK_CHECK(vkCreateSwapchainKHR(dev, &ci, nullptr, &fresh));
    if (swapchain_) vkDestroySwapchainKHR(dev, swapchain_, nullptr);  // retired; the device was idle
    swapchain_ = fresh;

    uint32_t n = 0;
    VK_CHECK(vkGetSwapchainImagesKHR(dev, swapchain_, &n, nullptr));
    images_.resize(n);
    VK_CHECK(vkGetSwapchainImagesKHR(dev, swapchain_, &n, images_.data()));
    for (VkImage img : images_) {
        VkImageViewCreateInfo vci{VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO};
        vci.image = img;
        vci.viewType = VK_IMAGE_VIEW_TYPE_2D;
        vci.format = format_;
        vci.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
        VkImageView view;
        VK_CHECK(vkCreateImageView(dev, &vci, nullptr, &view));
        views_.push_back(view);
        VkFramebufferCreateInfo fci{VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO};
        fci.renderPass = render_pass_;
        fci.attachmentCount = 1;
        fci.pAttachments = &view;
        fci.width = e.width;
        fci.height = e.height;
        fci.layers = 1;
        VkFramebuffer fb;
        VK_CHECK(vkCreateFramebuffer(dev, &fci, nullptr, &fb));
        framebuffers_.push_back(fb);
        VkSemaphoreCreateInfo sci{VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
        VkSemaphore s;
        VK_CHECK(vkCreateSemaphore(dev, &sci, nullptr, &s));
        rendered_.push_back(s);
    }
    stale_ = false;
}

bool Swapchain::recreate() {
    if (window_->minimised()) return false;
    // Every frame in flight may still use the old images and semaphores; presentation too, hence the device wait.
    VK_CHECK(vkDeviceWaitIdle(ctx_->device()));
    destroy_images();
    create();
    ++recreations_;
    return true;
}

void Swapchain::set_vsync(bool on) {
    if (on == options_.vsync) return;
    options_.vsync = on;
    stale_ = true;
}

std::optional<Frame> Swapchain::begin() {
    if (window_->minimised()) return std::nullopt;
    VkExtent2D want = window_->framebuffer_extent();
    if (!swapchain_ || stale_ || want.width != extent_.width || want.height != extent_.height)
        if (!recreate()) return std::nullopt;
    Slot& s = slots_[slot_];
    VK_CHECK(vkWaitForFences(ctx_->device(), 1, &s.done, VK_TRUE, UINT64_MAX));
    VkResult r = vkAcquireNextImageKHR(ctx_->device(), swapchain_, UINT64_MAX, s.image_ready, VK_NULL_HANDLE, &image_);
    if (r == VK_ERROR_OUT_OF_DATE_KHR) {
        // Nothing was signalled; rebuild and try once more next frame.
        stale_ = true;
        return std::nullopt;
    }
    if (r == VK_SUBOPTIMAL_KHR) stale_ = true;  // the semaphore will be signalled: draw this one, rebuild after
    else check(r, "vkAcquireNextImageKHR");
    VK_CHECK(vkResetFences(ctx_->device(), 1, &s.done));  // only now: a skipped frame must leave it signalled
    s.cmd->begin(true);
    return Frame{s.cmd.get(), slot_, extent_};
}

void Swapchain::begin_pass(Frame& f, std::array<float, 4> c) {
    VkClearValue clear{};
    clear.color = {{c[0], c[1], c[2], c[3]}};
    VkRenderPassBeginInfo bi{VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO};
    bi.renderPass = render_pass_;
    bi.framebuffer = framebuffers_[image_];
    bi.renderArea = {{0, 0}, extent_};
    bi.clearValueCount = 1;
    bi.pClearValues = &clear;
    vkCmdBeginRenderPass(f.cmd->handle(), &bi, VK_SUBPASS_CONTENTS_INLINE);
}

void Swapchain::end_pass(Frame& f) { vkCmdEndRenderPass(f.cmd->handle()); }

void Swapchain::submit(Frame& f) {
    Slot& s = slots_[f.slot];
    f.cmd->end();
    // The image is written only at colour output; compute at the top of the frame need not wait for it.
    queue_submit(ctx_->queue(), f.cmd->handle(), f.sync, s.done, {s.image_ready},
                 {VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT}, {rendered_[image_]});

    VkPresentInfoKHR pi{VK_STRUCTURE_TYPE_PRESENT_INFO_KHR};
    pi.waitSemaphoreCount = 1;
    pi.pWaitSemaphores = &rendered_[image_];
    pi.swapchainCount = 1;
    pi.pSwapchains = &swapchain_;
    pi.pImageIndices = &image_;
    VkResult r = vkQueuePresentKHR(ctx_->queue(), &pi);
    if (r == VK_ERROR_OUT_OF_DATE_KHR || r == VK_SUBOPTIMAL_KHR) stale_ = true;
    else check(r, "vkQueuePresentKHR");
    slot_ = (slot_ + 1) % uint32_t(slots_.size());
}

}  // namespace engine
