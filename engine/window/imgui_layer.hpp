// engine/window/imgui_layer.hpp — Dear ImGui (Debian's 1.86) on our render pass: the GLFW platform backend when there
// is a window, a fixed display size when there is none (offscreen), the Vulkan renderer backend, DejaVu Sans
// scaled by DPI and a UI-scale factor, a normal and a high-contrast theme, and custom draws placed inside ImGui
// windows (the 1.86 Vulkan backend cannot bind user textures, so our images and arrows are draw callbacks
// that run our own pipelines in ImGui's draw order and clip rectangles).
#pragma once
#include "engine/renderer.hpp"

#include <imgui.h>

#include <deque>
#include <functional>
#include <string>

struct GLFWwindow;

namespace engine {

struct ImGuiOptions {
    float font_px = 16;          // at UI scale 1 and 96 dpi
    float ui_scale = 1;
    float dpi_scale = 1;         // the window's content scale (Window::content_scale)
    bool high_contrast = false;
    std::string font_path = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";  // Debian: fonts-dejavu-core
};

// What a custom draw gets: the command buffer (inside the render pass), the framebuffer size, the widget's
// rectangle and ImGui's clip rectangle, both in framebuffer pixels.
using CustomDraw = std::function<void(VkCommandBuffer, VkExtent2D target, Rect rect, VkRect2D clip)>;

class ImGuiLayer {
public:
    // `window` null: headless (display size comes from new_frame's extent).
    ImGuiLayer(Context&, VkRenderPass, uint32_t frames_in_flight, GLFWwindow* window, ImGuiOptions = {});
    ~ImGuiLayer();
    ImGuiLayer(const ImGuiLayer&) = delete;
    ImGuiLayer& operator=(const ImGuiLayer&) = delete;

    // Starts an ImGui frame; applies a pending font/theme change first (waits for the device then).
    void new_frame(VkExtent2D extent, float dt_seconds);
    // Inside the render pass: ImGui::Render() and its draw data, custom draws included.
    void render(VkCommandBuffer, VkExtent2D target);
    // Draws the last rendered frame's data again into another target of the same format (screenshots).
    // The caller makes sure earlier frames are finished (the backend's vertex buffers rotate).
    void render_again(VkCommandBuffer, VkExtent2D target);

    // Reserves `size` (in ImGui units) at the cursor of the current ImGui window; `fn` draws into it.
    void custom(ImVec2 size, CustomDraw fn);

    void set_options(const ImGuiOptions&);  // applied at the next new_frame
    const ImGuiOptions& options() const { return options_; }
    bool font_loaded() const { return font_loaded_; }  // false: no TrueType font found, ImGui's built-in font used
    float font_px() const;                              // the size the atlas was built at

private:
    void build_fonts_and_theme();
    void apply_theme();
    void init_backend();
    void shutdown_backend();
    void draw_data(VkCommandBuffer, VkExtent2D target);

    struct Entry {
        CustomDraw fn;
        Rect rect;
    };
    static void trampoline(const ImDrawList*, const ImDrawCmd*);

    Context* ctx_;
    VkRenderPass pass_;
    uint32_t image_count_;
    GLFWwindow* window_;
    ImGuiOptions options_, pending_;
    bool dirty_ = false;
    bool font_noted_ = false;  // the fallback font was named once on stderr (fonts are rebuilt on every scale change)
    bool font_loaded_ = false;
    float built_px_ = 0;
    ImGuiContext* imgui_ = nullptr;
    VkDescriptorPool pool_ = VK_NULL_HANDLE;
    std::deque<Entry> entries_;   // this frame's custom draws (deque: stable addresses for user data)
    VkCommandBuffer current_cb_ = VK_NULL_HANDLE;
    VkExtent2D current_target_{};
};

}  // namespace engine
