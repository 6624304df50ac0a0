#include "engine/window/imgui_layer.hpp"

#include <imgui_impl_glfw.h>
#include <imgui_impl_vulkan.h>
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

namespace engine {

namespace {
ImGuiLayer* g_drawing = nullptr;  // the layer whose draw data is being recorded (for the draw callbacks)

void check_imgui_vk(VkResult r) {
    if (r != VK_SUCCESS) throw VulkanError(std::string("Dear ImGui's Vulkan backend: ") + to_string(r), r);
}

// Style colours are sRGB-encoded, as our UNORM targets expect (see frame_target.hpp).
void high_contrast_theme(ImGuiStyle& s) {
    ImGui::StyleColorsDark(&s);
    ImVec4* c = s.Colors;
    const ImVec4 black(0, 0, 0, 1), white(1, 1, 1, 1), yellow(1, 0.85f, 0, 1), dim(0.25f, 0.25f, 0.25f, 1);
    c[ImGuiCol_Text] = white;
    c[ImGuiCol_TextDisabled] = ImVec4(0.75f, 0.75f, 0.75f, 1);
    c[ImGuiCol_WindowBg] = black;
    c[ImGuiCol_ChildBg] = black;
    c[ImGuiCol_PopupBg] = black;
    c[ImGuiCol_Border] = white;
    c[ImGuiCol_FrameBg] = dim;
    c[ImGuiCol_FrameBgHovered] = ImVec4(0.4f, 0.4f, 0.4f, 1);
    c[ImGuiCol_FrameBgActive] = ImVec4(0.5f, 0.5f, 0.5f, 1);
    c[ImGuiCol_TitleBg] = black;
    c[ImGuiCol_TitleBgActive] = ImVec4(0.2f, 0.2f, 0.2f, 1);
    c[ImGuiCol_CheckMark] = yellow;
    c[ImGuiCol_SliderGrab] = yellow;
    c[ImGuiCol_SliderGrabActive] = white;
    c[ImGuiCol_Button] = dim;
    c[ImGuiCol_ButtonHovered] = ImVec4(0.45f, 0.45f, 0.1f, 1);
    c[ImGuiCol_ButtonActive] = ImVec4(0.6f, 0.55f, 0, 1);
    c[ImGuiCol_Header] = dim;
    c[ImGuiCol_HeaderHovered] = ImVec4(0.45f, 0.45f, 0.1f, 1);
    c[ImGuiCol_HeaderActive] = ImVec4(0.6f, 0.55f, 0, 1);
    c[ImGuiCol_PlotLines] = yellow;
    c[ImGuiCol_PlotHistogram] = yellow;
    s.WindowBorderSize = 2;
    s.FrameBorderSize = 1;
}
}  // namespace

ImGuiLayer::ImGuiLayer(Context& ctx, VkRenderPass pass, uint32_t frames_in_flight, GLFWwindow* window, ImGuiOptions o)
    : ctx_(&ctx), pass_(pass), image_count_(std::max(2u, frames_in_flight)), window_(window), options_(o), pending_(o) {
    IMGUI_CHECKVERSION();
    imgui_ = ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;  // no imgui.ini: a frame depends on the arguments only (offscreen = window)
    io.ConfigFlags |= ImGuiConfigFlags_NavEnableKeyboard;
    if (window_) {
        ImGui_ImplGlfw_InitForVulkan(window_, true);  // chains to the callbacks the Window installed
    } else {
        // Headless: the same key map as the GLFW backend, so a frame navigates alike with or without a window.
        const std::pair<ImGuiKey_, int> keys[] = {
            {ImGuiKey_Tab, GLFW_KEY_TAB}, {ImGuiKey_LeftArrow, GLFW_KEY_LEFT}, {ImGuiKey_RightArrow, GLFW_KEY_RIGHT},
            {ImGuiKey_UpArrow, GLFW_KEY_UP}, {ImGuiKey_DownArrow, GLFW_KEY_DOWN}, {ImGuiKey_PageUp, GLFW_KEY_PAGE_UP},
            {ImGuiKey_PageDown, GLFW_KEY_PAGE_DOWN}, {ImGuiKey_Home, GLFW_KEY_HOME}, {ImGuiKey_End, GLFW_KEY_END},
            {ImGuiKey_Insert, GLFW_KEY_INSERT}, {ImGuiKey_Delete, GLFW_KEY_DELETE}, {ImGuiKey_Backspace, GLFW_KEY_BACKSPACE},
            {ImGuiKey_Space, GLFW_KEY_SPACE}, {ImGuiKey_Enter, GLFW_KEY_ENTER}, {ImGuiKey_Escape, GLFW_KEY_ESCAPE},
            {ImGuiKey_KeyPadEnter, GLFW_KEY_KP_ENTER}, {ImGuiKey_A, GLFW_KEY_A}, {ImGuiKey_C, GLFW_KEY_C},
            {ImGuiKey_V, GLFW_KEY_V}, {ImGuiKey_X, GLFW_KEY_X}, {ImGuiKey_Y, GLFW_KEY_Y}, {ImGuiKey_Z, GLFW_KEY_Z}};
        for (auto [k, g] : keys) io.KeyMap[k] = g;
    }
    build_fonts_and_theme();
    init_backend();
}

ImGuiLayer::~ImGuiLayer() {
    vkDeviceWaitIdle(ctx_->device());
    shutdown_backend();
    if (window_) ImGui_ImplGlfw_Shutdown();
    ImGui::DestroyContext(imgui_);
}

float ImGuiLayer::font_px() const { return built_px_; }

void ImGuiLayer::build_fonts_and_theme() {
    ImGuiIO& io = ImGui::GetIO();
    io.Fonts->Clear();
    float scale = options_.ui_scale * options_.dpi_scale;
    built_px_ = std::round(std::clamp(options_.font_px * scale, 8.0f, 96.0f));
    font_loaded_ = false;
    // The font asked for, else the same family (or another with Greek and the maths signs) where other
    // distributions keep it: ImGui's built-in font has ASCII only, so β, ᾱ, ε̂ and √ would show as "?".
    static const char* const fallbacks[] = {
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",          // Debian, Ubuntu: fonts-dejavu-core
        "/usr/share/fonts/TTF/DejaVuSans.ttf",                       // Arch
        "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",         // Fedora
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",       // Debian: fonts-noto-core
        "/usr/share/fonts/noto/NotoSans-Regular.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
    };
    std::string path = options_.font_path;
    for (const char* f : fallbacks) {
        if (std::filesystem::exists(path)) break;
        path = f;
    }
    if (std::filesystem::exists(path)) {
        ImFontConfig cfg;
        cfg.OversampleH = 2;
        // Latin, combining marks (x̂), Greek and Greek extended (ᾱ), punctuation (– — …), sub/superscripts,
        // arrows, mathematical operators (√ ≈ ≤).
        static const ImWchar ranges[] = {0x0020, 0x00FF, 0x0300, 0x036F, 0x0370, 0x03FF, 0x1F00, 0x1FFF, 0x2010, 0x2027,
                                         0x2070, 0x209F, 0x2190, 0x21FF, 0x2200, 0x22FF, 0};
        font_loaded_ = io.Fonts->AddFontFromFileTTF(path.c_str(), built_px_, &cfg, ranges) != nullptr;
        if (font_loaded_ && path != options_.font_path && !font_noted_) {
            std::fprintf(stderr, "diffuscope: font %s not found; using %s\n", options_.font_path.c_str(), path.c_str());
            font_noted_ = true;
        }
    }
    if (!font_loaded_) {
        std::fprintf(stderr, "diffuscope: font %s not found, nor DejaVu, Noto, Liberation or FreeSans elsewhere "
                             "(Debian: apt-get install fonts-dejavu-core); using ImGui's built-in font, which shows "
                             "Greek letters as '?'\n", options_.font_path.c_str());
        ImFontConfig cfg;
        cfg.SizePixels = built_px_;
        io.Fonts->AddFontDefault(&cfg);
    }
    apply_theme();
}

void ImGuiLayer::apply_theme() {
    float scale = options_.ui_scale * options_.dpi_scale;
    ImGuiStyle style;
    if (options_.high_contrast) high_contrast_theme(style);
    else ImGui::StyleColorsDark(&style);
    style.ScaleAllSizes(scale);
    ImGui::GetStyle() = style;
}

void ImGuiLayer::init_backend() {
    VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 1};  // the font atlas
    VkDescriptorPoolCreateInfo pci{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
    pci.flags = VK_DESCRIPTOR_POOL_CREATE_FREE_DESCRIPTOR_SET_BIT;
    pci.maxSets = 1;
    pci.poolSizeCount = 1;
    pci.pPoolSizes = &size;
    VK_CHECK(vkCreateDescriptorPool(ctx_->device(), &pci, nullptr, &pool_));

    ImGui_ImplVulkan_InitInfo info{};
    info.Instance = ctx_->instance();
    info.PhysicalDevice = ctx_->physical();
    info.Device = ctx_->device();
    info.QueueFamily = ctx_->queue_family();
    info.Queue = ctx_->queue();
    info.DescriptorPool = pool_;
    info.Subpass = 0;
    info.MinImageCount = 2;
    info.ImageCount = image_count_;  // vertex/index buffers rotate over this many frames
    info.MSAASamples = VK_SAMPLE_COUNT_1_BIT;
    info.CheckVkResultFn = check_imgui_vk;
    if (!ImGui_ImplVulkan_Init(&info, pass_)) throw std::runtime_error("Dear ImGui: the Vulkan backend failed to initialise");
    one_shot(*ctx_, [](CommandBuffer& c) { ImGui_ImplVulkan_CreateFontsTexture(c.handle()); });
    ImGui_ImplVulkan_DestroyFontUploadObjects();
}

void ImGuiLayer::shutdown_backend() {
    ImGui_ImplVulkan_Shutdown();
    if (pool_) vkDestroyDescriptorPool(ctx_->device(), pool_, nullptr);  // frees the font's set with it
    pool_ = VK_NULL_HANDLE;
}

void ImGuiLayer::set_options(const ImGuiOptions& o) {
    pending_ = o;
    dirty_ = true;
}

void ImGuiLayer::new_frame(VkExtent2D extent, float dt) {
    if (dirty_) {
        dirty_ = false;
        bool fonts = pending_.font_px != options_.font_px || pending_.ui_scale != options_.ui_scale ||
                     pending_.dpi_scale != options_.dpi_scale || pending_.font_path != options_.font_path;
        options_ = pending_;
        if (fonts) {
            // The atlas texture may be in use by frames in flight; the backend owns it, so rebuild it all.
            VK_CHECK(vkDeviceWaitIdle(ctx_->device()));
            shutdown_backend();
            build_fonts_and_theme();
            init_backend();
        } else {
            apply_theme();
        }
    }
    entries_.clear();
    ImGuiIO& io = ImGui::GetIO();
    ImGui_ImplVulkan_NewFrame();
    if (window_) {
        ImGui_ImplGlfw_NewFrame();
    } else {
        io.DisplaySize = ImVec2(float(extent.width), float(extent.height));
        io.DisplayFramebufferScale = ImVec2(1, 1);
    }
    io.DeltaTime = dt > 0 ? dt : 1.0f / 60.0f;
    ImGui::NewFrame();
}

void ImGuiLayer::custom(ImVec2 size, CustomDraw fn) {
    ImVec2 p = ImGui::GetCursorScreenPos();
    ImGui::Dummy(size);
    ImVec2 scale = ImGui::GetIO().DisplayFramebufferScale;
    entries_.push_back({std::move(fn), Rect{p.x * scale.x, p.y * scale.y, size.x * scale.x, size.y * scale.y}});
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->AddCallback(trampoline, &entries_.back());
    dl->AddCallback(ImDrawCallback_ResetRenderState, nullptr);  // ImGui's pipeline and buffers back
}

void ImGuiLayer::trampoline(const ImDrawList*, const ImDrawCmd* cmd) {
    ImGuiLayer* self = g_drawing;
    if (!self) return;
    const auto* e = static_cast<const Entry*>(cmd->UserCallbackData);
    ImDrawData* dd = ImGui::GetDrawData();
    ImVec2 off = dd->DisplayPos, sc = dd->FramebufferScale;
    Rect clip{(cmd->ClipRect.x - off.x) * sc.x, (cmd->ClipRect.y - off.y) * sc.y, (cmd->ClipRect.z - cmd->ClipRect.x) * sc.x,
              (cmd->ClipRect.w - cmd->ClipRect.y) * sc.y};
    e->fn(self->current_cb_, self->current_target_, e->rect, to_scissor(clip, self->current_target_));
}

void ImGuiLayer::draw_data(VkCommandBuffer cb, VkExtent2D target) {
    current_cb_ = cb;
    current_target_ = target;
    g_drawing = this;
    ImGui_ImplVulkan_RenderDrawData(ImGui::GetDrawData(), cb);
    g_drawing = nullptr;
}

void ImGuiLayer::render(VkCommandBuffer cb, VkExtent2D target) {
    ImGui::Render();
    draw_data(cb, target);
}

void ImGuiLayer::render_again(VkCommandBuffer cb, VkExtent2D target) { draw_data(cb, target); }

}  // namespace engine
