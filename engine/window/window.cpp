#include "engine/window/window.hpp"

#include "engine/context.hpp"

#define GLFW_INCLUDE_NONE
#define GLFW_INCLUDE_VULKAN
#include <GLFW/glfw3.h>

#include <cstdio>
#include <cstdlib>

namespace engine {

namespace {
// GLFW is process-wide: initialised by the first user, terminated with the last. The users are the live windows,
// plus one held by required_instance_extensions() for the window that follows it: terminating GLFW in between
// closes the X connection, and an X server whose last client leaves resets itself (Xvfb, a kiosk display without
// a window manager), and a connection opened during that reset is refused ("Failed to open display"), so the
// connection stays open from the query to the window.
// On a loaded 2-core host (Xvfb) about one start in four reconnecting that way is refused.
int g_windows = 0;
bool g_held_for_window = false;

void on_glfw_error(int code, const char* what) { std::fprintf(stderr, "diffuscope: GLFW error %d: %s\n", code, what); }

void init_glfw() {
    if (g_windows++ > 0) return;
    glfwSetErrorCallback(on_glfw_error);
    if (!glfwInit()) {
        --g_windows;
        const char* display = std::getenv("DISPLAY");
        const char* wayland = std::getenv("WAYLAND_DISPLAY");
        throw std::runtime_error(std::string("cannot open a window: GLFW failed to initialise (DISPLAY=") +
                                 (display ? display : "unset") + ", WAYLAND_DISPLAY=" + (wayland ? wayland : "unset") +
                                 "). On a headless machine use `diffuscope render ...`, or start a virtual display: "
                                 "Xvfb :99 -screen 0 1280x800x24 & DISPLAY=:99 diffuscope");
    }
    if (!glfwVulkanSupported()) {
        glfwTerminate();
        --g_windows;
        throw NoDeviceError("GLFW finds no Vulkan loader with surface support (apt-get install libvulkan1 mesa-vulkan-drivers)");
    }
}

void release_glfw() {
    if (--g_windows == 0) glfwTerminate();
}
}  // namespace

std::vector<const char*> Window::required_instance_extensions() {
    if (!g_held_for_window) {
        init_glfw();
        g_held_for_window = true;  // handed to the next Window (or kept until the process exits)
    }
    uint32_t n = 0;
    const char** ext = glfwGetRequiredInstanceExtensions(&n);
    std::vector<const char*> out(ext, ext + n);  // GLFW owns the strings for the library's lifetime
    return out;
}

Window::Window(const WindowOptions& o) {
    if (g_held_for_window)
        g_held_for_window = false;  // this window takes over the use held since the extension query
    else
        init_glfw();
    glfwWindowHint(GLFW_CLIENT_API, GLFW_NO_API);
    glfwWindowHint(GLFW_VISIBLE, o.visible ? GLFW_TRUE : GLFW_FALSE);
    glfwWindowHint(GLFW_SCALE_TO_MONITOR, GLFW_TRUE);
    glfwWindowHint(GLFW_AUTO_ICONIFY, GLFW_FALSE);  // a lecturer switching to slides keeps the fullscreen view
    window_ = glfwCreateWindow(o.width, o.height, o.title.c_str(), nullptr, nullptr);
    if (!window_) {
        release_glfw();
        throw std::runtime_error("cannot create a " + std::to_string(o.width) + "×" + std::to_string(o.height) +
                                 " window (see the GLFW error above)");
    }
    glfwSetWindowUserPointer(window_, this);
    glfwSetKeyCallback(window_, on_key);
    if (o.fullscreen) set_fullscreen(true);
}

Window::~Window() {
    if (surface_) vkDestroySurfaceKHR(instance_, surface_, nullptr);
    if (window_) glfwDestroyWindow(window_);
    release_glfw();
}

void Window::create_surface(Context& ctx) {
    if (surface_) throw std::logic_error("engine::Window: surface already created");
    instance_ = ctx.instance();
    VK_CHECK(glfwCreateWindowSurface(instance_, window_, nullptr, &surface_));
    VkBool32 ok = VK_FALSE;
    VK_CHECK(vkGetPhysicalDeviceSurfaceSupportKHR(ctx.physical(), ctx.queue_family(), surface_, &ok));
    if (!ok)
        throw std::runtime_error("Vulkan device \"" + ctx.info().name + "\": its graphics+compute queue family " +
                                 std::to_string(ctx.queue_family()) +
                                 " cannot present to this window. Pick another device with --device N "
                                 "(`diffuscope info` lists them), or render headless with `diffuscope render`.");
}

void Window::on_key(GLFWwindow* w, int key, int scancode, int action, int mods) {
    auto* self = static_cast<Window*>(glfwGetWindowUserPointer(w));
    if (self && action != GLFW_RELEASE) self->keys_.push_back({key, scancode, action, mods});
}

bool Window::should_close() const { return glfwWindowShouldClose(window_); }
void Window::request_close() { glfwSetWindowShouldClose(window_, GLFW_TRUE); }

void Window::poll() {
    keys_.clear();
    glfwPollEvents();
}

void Window::wait_events(double timeout_s) {
    keys_.clear();
    glfwWaitEventsTimeout(timeout_s);
}

VkExtent2D Window::framebuffer_extent() const {
    int w = 0, h = 0;
    glfwGetFramebufferSize(window_, &w, &h);
    return {uint32_t(w > 0 ? w : 0), uint32_t(h > 0 ? h : 0)};
}

bool Window::minimised() const {
    auto e = framebuffer_extent();
    return glfwGetWindowAttrib(window_, GLFW_ICONIFIED) || e.width == 0 || e.height == 0;
}

float Window::content_scale() const {
    float x = 1, y = 1;
    glfwGetWindowContentScale(window_, &x, &y);
    return x > 0 ? x : 1.0f;
}

void Window::set_fullscreen(bool on) {
    if (on == fullscreen_) return;
    GLFWmonitor* monitor = glfwGetPrimaryMonitor();
    if (on) {
        if (!monitor) return;  // no monitor (some virtual displays): stay windowed
        glfwGetWindowPos(window_, &windowed_x_, &windowed_y_);
        glfwGetWindowSize(window_, &windowed_w_, &windowed_h_);
        const GLFWvidmode* mode = glfwGetVideoMode(monitor);
        glfwSetWindowMonitor(window_, monitor, 0, 0, mode->width, mode->height, mode->refreshRate);
    } else {
        glfwSetWindowMonitor(window_, nullptr, windowed_x_, windowed_y_, windowed_w_, windowed_h_, 0);
    }
    fullscreen_ = on;
}

void Window::set_size(int width, int height) { glfwSetWindowSize(window_, width, height); }
void Window::iconify() { glfwIconifyWindow(window_); }
void Window::restore() { glfwRestoreWindow(window_); }
void Window::set_title(const std::string& t) { glfwSetWindowTitle(window_, t.c_str()); }

}  // namespace engine
