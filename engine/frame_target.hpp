// engine/frame_target.hpp — where a frame is drawn: a window's swapchain (engine/window/swapchain.hpp) or an offscreen
// image read back to the host (engine/offscreen.hpp). The app records one frame the same way for both, which
// is what makes `diffuscope render` produce the very frame the window shows:
//
//     if (auto f = target.begin()) {       // command buffer recording, outside a render pass
//         ...compute passes...             // e.g. sampler steps, the tile pass
//         target.begin_pass(*f, clear);    // the colour attachment, cleared
//         ...draws, ImGui...
//         target.end_pass(*f);
//         target.submit(*f);               // present, or copy to the readback buffer and wait
//     }
//
// Colour: every target is UNORM and every colour we write is already sRGB-encoded (ImGui's style colours, the
// colour maps' tables), so bytes go to the screen and to PNG files unchanged and blending happens in sRGB
// space, as in most 2-D UIs. No shader linearises or encodes.
#pragma once
#include "engine/commands.hpp"

#include <array>
#include <optional>

namespace engine {

struct Frame {
    CommandBuffer* cmd = nullptr;  // recording; outside a render pass until begin_pass
    uint32_t slot = 0;             // frame-in-flight index, 0..frames_in_flight()-1: per-frame resources
    VkExtent2D extent{};           // of the colour attachment, in pixels
    SubmitSync sync;               // timeline waits/signals for submit(): e.g. the asynchronous compute's
};

class FrameTarget {
public:
    virtual ~FrameTarget() = default;
    virtual VkRenderPass render_pass() const = 0;
    virtual VkFormat format() const = 0;
    virtual uint32_t frames_in_flight() const = 0;
    // Nothing when there is nothing to draw into (a minimised window): skip the frame.
    virtual std::optional<Frame> begin() = 0;
    virtual void begin_pass(Frame&, std::array<float, 4> clear_srgb) = 0;
    virtual void end_pass(Frame&) = 0;
    virtual void submit(Frame&) = 0;
};

// One colour attachment, cleared on load, left in `final_layout`. Its dependencies order the frame:
//  - before: compute/transfer writes (sampler steps, the tile pass) → vertex/fragment reads (RAW); and the
//    colour attachment's previous use (earlier frame, or the swapchain acquire) → this frame's writes (WAW).
//  - after: vertex/fragment reads → the next frame's compute/transfer writes of the same buffers (WAR), and
//    colour writes → a transfer that reads the image (offscreen readback).
VkRenderPass make_render_pass(VkDevice, VkFormat, VkImageLayout final_layout);

bool is_bgra(VkFormat);

}  // namespace engine
