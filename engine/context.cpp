#include "engine/context.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <mutex>

namespace engine {

VulkanError::VulkanError(const std::string& what, VkResult r) : std::runtime_error(what), result(r) {}

const char* to_string(VkResult r) {
    switch (r) {
#define CASE(x) case x: return #x
        CASE(VK_SUCCESS); CASE(VK_NOT_READY); CASE(VK_TIMEOUT); CASE(VK_EVENT_SET); CASE(VK_EVENT_RESET);
        CASE(VK_INCOMPLETE); CASE(VK_ERROR_OUT_OF_HOST_MEMORY); CASE(VK_ERROR_OUT_OF_DEVICE_MEMORY);
        CASE(VK_ERROR_INITIALIZATION_FAILED); CASE(VK_ERROR_DEVICE_LOST); CASE(VK_ERROR_MEMORY_MAP_FAILED);
        CASE(VK_ERROR_LAYER_NOT_PRESENT); CASE(VK_ERROR_EXTENSION_NOT_PRESENT); CASE(VK_ERROR_FEATURE_NOT_PRESENT);
        CASE(VK_ERROR_INCOMPATIBLE_DRIVER); CASE(VK_ERROR_TOO_MANY_OBJECTS); CASE(VK_ERROR_FORMAT_NOT_SUPPORTED);
        CASE(VK_ERROR_FRAGMENTED_POOL); CASE(VK_ERROR_OUT_OF_POOL_MEMORY); CASE(VK_ERROR_SURFACE_LOST_KHR);
        CASE(VK_ERROR_NATIVE_WINDOW_IN_USE_KHR); CASE(VK_SUBOPTIMAL_KHR); CASE(VK_ERROR_OUT_OF_DATE_KHR);
#undef CASE
        default: return "VK_ERROR_(unknown)";
    }
}

void check(VkResult r, const char* what) {
    if (r != VK_SUCCESS) throw VulkanError(std::string(what) + " failed: " + to_string(r), r);
}

// ---------------------------------------------------------------------------------------------
// Validation messenger: prints each message once and counts it. Info/verbose are not counted.
namespace {
std::atomic<uint32_t> g_errors{0}, g_warnings{0};

VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                          VkDebugUtilsMessageTypeFlagsEXT,
                                          const VkDebugUtilsMessengerCallbackDataEXT* data, void*) {
    const char* tag = nullptr;
    if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) {
        ++g_errors;
        tag = "error";
    } else if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
        ++g_warnings;
        tag = "warning";
    }
    if (tag) std::fprintf(stderr, "[vulkan validation %s] %s\n", tag, data->pMessage ? data->pMessage : "");
    return VK_FALSE;
}
}  // namespace

ValidationCounts global_validation_counts() { return {g_errors.load(), g_warnings.load()}; }
void reset_global_validation_counts() { g_errors = 0; g_warnings = 0; }

static bool has_layer(const char* name) {
    uint32_t n = 0;
    vkEnumerateInstanceLayerProperties(&n, nullptr);
    std::vector<VkLayerProperties> layers(n);
    vkEnumerateInstanceLayerProperties(&n, layers.data());
    return std::any_of(layers.begin(), layers.end(), [&](auto& l) { return std::strcmp(l.layerName, name) == 0; });
}

static bool has_instance_extension(const char* name) {
    uint32_t n = 0;
    vkEnumerateInstanceExtensionProperties(nullptr, &n, nullptr);
    std::vector<VkExtensionProperties> ext(n);
    vkEnumerateInstanceExtensionProperties(nullptr, &n, ext.data());
    return std::any_of(ext.begin(), ext.end(), [&](auto& e) { return std::strcmp(e.extensionName, name) == 0; });
}

VkInstance create_instance(bool validate, const std::vector<const char*>& extensions,
                           VkDebugUtilsMessengerEXT* messenger) {
    static const char* k_validation = "VK_LAYER_KHRONOS_validation";
    std::vector<const char*> layers, exts = extensions;
    if (validate) {
        if (!has_layer(k_validation))
            throw std::runtime_error(
                "--validate: the Khronos validation layer is not installed "
                "(Debian: apt-get install vulkan-validationlayers)");
        layers.push_back(k_validation);
        exts.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
    }
    if (has_instance_extension(VK_KHR_GET_PHYSICAL_DEVICE_PROPERTIES_2_EXTENSION_NAME))
        exts.push_back(VK_KHR_GET_PHYSICAL_DEVICE_PROPERTIES_2_EXTENSION_NAME);

    VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
    app.pApplicationName = "diffuscope";
    app.applicationVersion = VK_MAKE_VERSION(0, 1, 0);
    app.pEngineName = "diffuscope-engine";
    app.apiVersion = VK_API_VERSION_1_2;

    // Synchronization validation is off by default in the layer; we always want it with --validate.
    VkValidationFeatureEnableEXT enables[] = {VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
    VkValidationFeaturesEXT features{VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT};
    features.enabledValidationFeatureCount = 1;
    features.pEnabledValidationFeatures = enables;

    VkDebugUtilsMessengerCreateInfoEXT mci{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
    mci.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
    mci.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                      VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
    mci.pfnUserCallback = on_message;
    if (validate) {
        features.pNext = &mci;  // also catches messages from vkCreateInstance itself
    }

    VkInstanceCreateInfo ci{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
    ci.pNext = validate ? &features : nullptr;
    ci.pApplicationInfo = &app;
    ci.enabledLayerCount = uint32_t(layers.size());
    ci.ppEnabledLayerNames = layers.data();
    ci.enabledExtensionCount = uint32_t(exts.size());
    ci.ppEnabledExtensionNames = exts.data();
    VkInstance instance = VK_NULL_HANDLE;
    VkResult r = vkCreateInstance(&ci, nullptr, &instance);
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER || r == VK_ERROR_INITIALIZATION_FAILED)
        throw NoDeviceError(std::string("no Vulkan driver could be loaded (") + to_string(r) +
                            "). Install one: on Debian, apt-get install libvulkan1 mesa-vulkan-drivers "
                            "(lavapipe runs Vulkan on the CPU), or your GPU vendor's driver.");
    check(r, "vkCreateInstance");
    *messenger = VK_NULL_HANDLE;
    if (validate) {
        auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
            vkGetInstanceProcAddr(instance, "vkCreateDebugUtilsMessengerEXT"));
        check(create(instance, &mci, nullptr, messenger), "vkCreateDebugUtilsMessengerEXT");
    }
    return instance;
}

void destroy_instance(VkInstance instance, VkDebugUtilsMessengerEXT messenger) {
    if (messenger) {
        auto destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
            vkGetInstanceProcAddr(instance, "vkDestroyDebugUtilsMessengerEXT"));
        destroy(instance, messenger, nullptr);
    }
    if (instance) vkDestroyInstance(instance, nullptr);
}

// ---------------------------------------------------------------------------------------------
static bool device_has_extension(VkPhysicalDevice pd, const char* name) {
    uint32_t n = 0;
    vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, nullptr);
    std::vector<VkExtensionProperties> ext(n);
    vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, ext.data());
    return std::any_of(ext.begin(), ext.end(), [&](auto& e) { return std::strcmp(e.extensionName, name) == 0; });
}

static std::vector<VkQueueFamilyProperties> queue_families(VkPhysicalDevice pd) {
    uint32_t n = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, nullptr);
    std::vector<VkQueueFamilyProperties> fam(n);
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, fam.data());
    return fam;
}

static int main_family(VkPhysicalDevice pd, uint32_t* ts_bits) {
    const auto fam = queue_families(pd);
    const uint32_t n = uint32_t(fam.size());
    // Prefer a family with graphics+compute (the renderer shares it); any compute family otherwise.
    int best = -1;
    for (uint32_t i = 0; i < n; ++i) {
        if (!(fam[i].queueFlags & VK_QUEUE_COMPUTE_BIT)) continue;
        if (best < 0 || (fam[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)) {
            if (best < 0 || !(fam[best].queueFlags & VK_QUEUE_GRAPHICS_BIT)) best = int(i);
        }
    }
    if (best >= 0 && ts_bits) *ts_bits = fam[best].timestampValidBits;
    return best;
}

std::vector<DeviceInfo> Context::enumerate(VkInstance instance) {
    uint32_t n = 0;
    vkEnumeratePhysicalDevices(instance, &n, nullptr);
    std::vector<VkPhysicalDevice> pds(n);
    vkEnumeratePhysicalDevices(instance, &n, pds.data());
    std::vector<DeviceInfo> out;
    for (uint32_t i = 0; i < n; ++i) {
        DeviceInfo d;
        d.index = i;
        VkPhysicalDeviceDriverProperties driver{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
        VkPhysicalDeviceSubgroupProperties sub{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
        sub.pNext = &driver;
        VkPhysicalDeviceProperties2 p2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
        p2.pNext = &sub;
        vkGetPhysicalDeviceProperties2(pds[i], &p2);
        const auto& p = p2.properties;
        d.name = p.deviceName;
        d.type = p.deviceType;
        switch (p.deviceType) {
            case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: d.type_name = "discrete GPU"; d.preference = 4; break;
            case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: d.type_name = "integrated GPU"; d.preference = 3; break;
            case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: d.type_name = "virtual GPU"; d.preference = 2; break;
            case VK_PHYSICAL_DEVICE_TYPE_CPU: d.type_name = "CPU"; d.preference = 1; break;
            default: d.type_name = "other"; d.preference = 0; break;
        }
        d.driver_name = driver.driverName;
        d.driver_info = driver.driverInfo;
        d.api_version = p.apiVersion;
        d.driver_version = p.driverVersion;
        d.subgroup_size = sub.subgroupSize;
        d.subgroup_arithmetic = sub.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT;
        d.subgroup_shuffle = sub.supportedOperations & VK_SUBGROUP_FEATURE_SHUFFLE_BIT;
        d.subgroup_ballot = sub.supportedOperations & VK_SUBGROUP_FEATURE_BALLOT_BIT;
        d.shared_memory_bytes = p.limits.maxComputeSharedMemorySize;
        d.max_workgroup_invocations = p.limits.maxComputeWorkGroupInvocations;
        for (int k = 0; k < 3; ++k) d.max_group_count[k] = p.limits.maxComputeWorkGroupCount[k];
        d.max_push_constant_bytes = p.limits.maxPushConstantsSize;
        d.max_storage_buffer_range = p.limits.maxStorageBufferRange;
        d.max_texel_buffer_elements = p.limits.maxTexelBufferElements;
        d.timestamp_period_ns = p.limits.timestampPeriod;

        VkPhysicalDevice16BitStorageFeatures s16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
        VkPhysicalDeviceShaderFloat16Int8Features f16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
        f16.pNext = &s16;
        VkPhysicalDeviceFeatures2 f2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
        f2.pNext = &f16;
        vkGetPhysicalDeviceFeatures2(pds[i], &f2);
        d.shader_float16 = f16.shaderFloat16;
        d.storage_16bit = s16.storageBuffer16BitAccess;
        d.cooperative_matrix = device_has_extension(pds[i], "VK_KHR_cooperative_matrix") ||
                               device_has_extension(pds[i], "VK_NV_cooperative_matrix");

        d.has_compute_queue = main_family(pds[i], &d.timestamp_valid_bits) >= 0;
        if (d.timestamp_valid_bits == 0) d.timestamp_period_ns = 0;

        VkPhysicalDeviceMemoryProperties mem;
        vkGetPhysicalDeviceMemoryProperties(pds[i], &mem);
        for (uint32_t h = 0; h < mem.memoryHeapCount; ++h)
            if (mem.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) d.device_local_bytes += mem.memoryHeaps[h].size;
        for (uint32_t t = 0; t < mem.memoryTypeCount; ++t) {
            auto f = mem.memoryTypes[t].propertyFlags;
            if ((f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) && (f & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)) d.unified_memory = true;
        }
        out.push_back(std::move(d));
    }
    return out;
}

uint32_t Context::choose(const std::vector<DeviceInfo>& devices, int override_index, std::string* why) {
    if (devices.empty())
        throw NoDeviceError(
            "no Vulkan device found. Install a driver: on Debian, apt-get install mesa-vulkan-drivers "
            "(lavapipe, Vulkan on the CPU) or your GPU vendor's Vulkan driver; `vulkaninfo --summary` "
            "(package vulkan-tools) shows what the loader sees.");
    if (override_index >= 0) {
        if (size_t(override_index) >= devices.size())
            throw std::runtime_error("--device " + std::to_string(override_index) + ": there are only " +
                                     std::to_string(devices.size()) + " Vulkan devices (0.." +
                                     std::to_string(devices.size() - 1) + "); `diffuscope info` lists them");
        if (!devices[override_index].has_compute_queue)
            throw std::runtime_error("--device " + std::to_string(override_index) + " (" + devices[override_index].name +
                                     ") has no compute queue");
        if (why) *why = "chosen by --device " + std::to_string(override_index);
        return uint32_t(override_index);
    }
    int best = -1;
    for (const auto& d : devices) {
        if (!d.has_compute_queue) continue;
        if (best < 0 || d.preference > devices[best].preference ||
            (d.preference == devices[best].preference && d.device_local_bytes > devices[best].device_local_bytes))
            best = int(d.index);
    }
    if (best < 0) throw NoDeviceError("no Vulkan device has a compute queue");
    if (why) {
        const auto& d = devices[best];
        *why = "the first " + d.type_name + " with a compute queue";
        if (d.preference < 4) *why += " (no discrete GPU found" + std::string(d.preference < 3 ? ", no integrated GPU" : "") + ")";
        *why += "; --device N picks another";
    }
    return uint32_t(best);
}

namespace {

// The asynchronous compute queue: a compute-only family with timestamps first, then a second queue of the main
// family; family −1 when there is neither.
AsyncQueuePick pick_async_queue(const std::vector<VkQueueFamilyProperties>& fam, uint32_t main_family) {
    for (uint32_t i = 0; i < fam.size(); ++i)
        if (i != main_family && (fam[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && !(fam[i].queueFlags & VK_QUEUE_GRAPHICS_BIT) &&
            fam[i].timestampValidBits > 0)
            return {int(i), 0};
    if (fam[main_family].queueCount >= 2) return {int(main_family), 1};
    return {};
}

// The logical device with the main queue (and the asynchronous one), the swapchain extension when asked, and the
// optional features the kernels use where the device has them. `timeline`: whether timeline semaphores are on.
VkDevice create_device(VkPhysicalDevice pd, uint32_t main_family, AsyncQueuePick async, bool swapchain, bool* timeline) {
    const float priorities[2] = {1.0f, 1.0f};
    std::vector<VkDeviceQueueCreateInfo> qcis;
    VkDeviceQueueCreateInfo qci{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
    qci.queueFamilyIndex = main_family;
    qci.queueCount = async.family == int(main_family) ? 2 : 1;
    qci.pQueuePriorities = priorities;
    qcis.push_back(qci);
    if (async.family >= 0 && async.family != int(main_family)) {
        qci.queueFamilyIndex = uint32_t(async.family);
        qci.queueCount = 1;
        qcis.push_back(qci);
    }
    std::vector<const char*> exts;
    if (swapchain) exts.push_back(VK_KHR_SWAPCHAIN_EXTENSION_NAME);

    // Features the kernels may use when present.
    VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
    VkPhysicalDeviceVulkan11Features f11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
    f11.pNext = &f12;
    VkPhysicalDeviceFeatures2 have{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    have.pNext = &f11;
    vkGetPhysicalDeviceFeatures2(pd, &have);
    VkPhysicalDeviceVulkan12Features want12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
    want12.shaderFloat16 = f12.shaderFloat16;
    want12.hostQueryReset = f12.hostQueryReset;
    want12.timelineSemaphore = f12.timelineSemaphore;
    VkPhysicalDeviceVulkan11Features want11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
    want11.storageBuffer16BitAccess = f11.storageBuffer16BitAccess;
    want11.pNext = &want12;
    VkPhysicalDeviceFeatures2 want{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    want.pNext = &want11;
    want.features.shaderInt64 = have.features.shaderInt64;
    want.features.fillModeNonSolid = have.features.fillModeNonSolid;
    want.features.wideLines = have.features.wideLines;

    VkDeviceCreateInfo dci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
    dci.pNext = &want;
    dci.queueCreateInfoCount = uint32_t(qcis.size());
    dci.pQueueCreateInfos = qcis.data();
    dci.enabledExtensionCount = uint32_t(exts.size());
    dci.ppEnabledExtensionNames = exts.data();
    // The handle is returned only once created: on failure the spec leaves the output undefined.
    VkDevice device = VK_NULL_HANDLE;
    VK_CHECK(vkCreateDevice(pd, &dci, nullptr, &device));
    *timeline = want12.timelineSemaphore;
    return device;
}

VkCommandPool create_pool(VkDevice device, uint32_t family) {
    VkCommandPoolCreateInfo pci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pci.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pci.queueFamilyIndex = family;
    VkCommandPool pool = VK_NULL_HANDLE;
    VK_CHECK(vkCreateCommandPool(device, &pci, nullptr, &pool));
    return pool;
}

}  // namespace

Context::Context(const ContextOptions& opt) {
    instance_ = create_instance(opt.validate, opt.instance_extensions, &messenger_);
    try {
        auto devices = enumerate(instance_);
        uint32_t chosen = choose(devices, opt.device_index, &reason_);
        info_ = devices[chosen];
        uint32_t n = 0;
        vkEnumeratePhysicalDevices(instance_, &n, nullptr);
        std::vector<VkPhysicalDevice> pds(n);
        vkEnumeratePhysicalDevices(instance_, &n, pds.data());
        physical_ = pds[chosen];
        queue_family_ = uint32_t(main_family(physical_, nullptr));
        vkGetPhysicalDeviceMemoryProperties(physical_, &memory_);
        if (!opt.quiet)
            std::fprintf(stderr, "diffuscope: Vulkan device %u: %s (%s, %s) — %s\n", chosen, info_.name.c_str(),
                         info_.type_name.c_str(), info_.driver_name.c_str(), reason_.c_str());

        const auto fam = queue_families(physical_);
        const AsyncQueuePick async = opt.async_compute != AsyncCompute::off ? pick_async_queue(fam, queue_family_)
                                                                             : AsyncQueuePick{};
        bool timeline = false;
        // Handles are kept only once created; the cleanup below destroys what the members hold.
        device_ = create_device(physical_, queue_family_, async, opt.need_swapchain, &timeline);
        vkGetDeviceQueue(device_, queue_family_, 0, &queue_);
        pool_ = create_pool(device_, queue_family_);
        set_up_async(opt.async_compute, async, fam, timeline);
    } catch (...) {
        if (compute_pool_) vkDestroyCommandPool(device_, compute_pool_, nullptr);
        if (pool_) vkDestroyCommandPool(device_, pool_, nullptr);
        if (device_) vkDestroyDevice(device_, nullptr);
        destroy_instance(instance_, messenger_);
        throw;
    }
}

// The asynchronous compute queue's members and the reason shown for it (`diffuscope info`, the overlay).
void Context::set_up_async(AsyncCompute mode, AsyncQueuePick async, const std::vector<VkQueueFamilyProperties>& fam,
                           bool timeline) {
    // (A second queue of the main family shares the main family's timestamp bits.)
    if (mode != AsyncCompute::off && !timeline) {
        async_reason_ = "off: the device has no timeline semaphores";
    } else if (async.family >= 0) {
        async_ = true;
        compute_family_ = uint32_t(async.family);
        compute_ts_bits_ = fam[compute_family_].timestampValidBits;
        vkGetDeviceQueue(device_, compute_family_, async.index, &compute_queue_);
        if (compute_family_ != queue_family_) {
            compute_pool_ = create_pool(device_, compute_family_);
            sharing_ = {queue_family_, compute_family_};
            async_reason_ = "queue family " + std::to_string(compute_family_) + " (compute only)";
        } else {
            compute_pool_ = VK_NULL_HANDLE;
            async_reason_ = "a second queue of family " + std::to_string(queue_family_);
        }
    } else if (mode == AsyncCompute::on) {
        // No second queue: the same one, in its own submissions (the path still runs, without overlap).
        async_ = true;
        compute_family_ = queue_family_;
        compute_ts_bits_ = fam[queue_family_].timestampValidBits;
        compute_queue_ = queue_;
        async_reason_ = "the main queue again (the device has no second compute queue)";
    } else if (mode == AsyncCompute::automatic) {
        async_reason_ = "off: the device has no second compute queue";
    }
}

Context::~Context() {
    if (device_) {
        vkDeviceWaitIdle(device_);
        if (compute_pool_) vkDestroyCommandPool(device_, compute_pool_, nullptr);
        if (pool_) vkDestroyCommandPool(device_, pool_, nullptr);
        vkDestroyDevice(device_, nullptr);
    }
    destroy_instance(instance_, messenger_);
}

uint32_t Context::memory_type(uint32_t bits, VkMemoryPropertyFlags want, VkMemoryPropertyFlags avoid) const {
    for (uint32_t i = 0; i < memory_.memoryTypeCount; ++i) {
        auto f = memory_.memoryTypes[i].propertyFlags;
        if ((bits & (1u << i)) && (f & want) == want && !(f & avoid)) return i;
    }
    for (uint32_t i = 0; i < memory_.memoryTypeCount; ++i) {  // relax `avoid`
        auto f = memory_.memoryTypes[i].propertyFlags;
        if ((bits & (1u << i)) && (f & want) == want) return i;
    }
    throw std::runtime_error("no Vulkan memory type with the wanted properties");
}

ValidationCounts Context::validation() const { return global_validation_counts(); }
void Context::reset_validation() { reset_global_validation_counts(); }

}  // namespace engine
