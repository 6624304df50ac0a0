// engine/window/window.hpp — one GLFW window with no client API (Vulkan draws into it), its Vulkan surface, and the
// input events of the last poll. Knows nothing of what is drawn.
#pragma once
#include <vulkan/vulkan.h>

#include <string>
#include <vector>

struct GLFWwindow;

namespace engine {

class Context;

struct WindowOptions {
    std::string title = "diffuscope";
    int width = 1280, height = 800;
    bool fullscreen = false;  // on the primary monitor, at its current mode
    bool visible = true;
};

// A key press or repeat seen by the last poll (GLFW key codes and mods).
struct KeyEvent {
    int key = 0, scancode = 0, action = 0, mods = 0;
};

class Window {
public:
    explicit Window(const WindowOptions& = {});
    ~Window();
    Window(const Window&) = delete;
    Window& operator=(const Window&) = delete;

    // The instance extensions a surface for this window needs (pass them to ContextOptions).
    static std::vector<const char*> required_instance_extensions();

    // Creates the surface on `ctx`'s instance and checks that the context's queue family can present to it.
    void create_surface(Context& ctx);
    VkSurfaceKHR surface() const { return surface_; }

    GLFWwindow* handle() const { return window_; }
    bool should_close() const;
    void request_close();

    // Processes pending events; the key presses seen are returned until the next poll.
    void poll();
    // Blocks until an event arrives (used while minimised, so a hidden window costs nothing).
    void wait_events(double timeout_s = 0.1);
    const std::vector<KeyEvent>& keys() const { return keys_; }

    VkExtent2D framebuffer_extent() const;  // 0×0 while minimised
    bool minimised() const;
    float content_scale() const;            // DPI scale of the monitor the window is on (1 = 96 dpi)

    void set_fullscreen(bool on);
    bool fullscreen() const { return fullscreen_; }
    void set_size(int width, int height);
    void iconify();
    void restore();
    void set_title(const std::string&);

private:
    static void on_key(GLFWwindow*, int key, int scancode, int action, int mods);
    GLFWwindow* window_ = nullptr;
    VkInstance instance_ = VK_NULL_HANDLE;
    VkSurfaceKHR surface_ = VK_NULL_HANDLE;
    std::vector<KeyEvent> keys_;
    bool fullscreen_ = false;
    int windowed_x_ = 0, windowed_y_ = 0, windowed_w_ = 0, windowed_h_ = 0;
};

}  // namespace engine
