// engine/context.hpp — the Vulkan instance, the chosen device, its compute queue, and the validation
// messenger that counts what the Khronos layer says. Knows nothing of diffusion.
#pragma once
#include <vulkan/vulkan.h>

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace engine {

// Every failing Vulkan call becomes one of these, carrying the call and the VkResult's name.
struct VulkanError : std::runtime_error {
    VkResult result;
    VulkanError(const std::string& what, VkResult r);
};
const char* to_string(VkResult r);
void check(VkResult r, const char* what);
#define VK_CHECK(call) ::engine::check((call), #call)

// What `diffuscope info` prints of a physical device, and what the device choice reads.
struct DeviceInfo {
    uint32_t index = 0;
    std::string name;
    VkPhysicalDeviceType type = VK_PHYSICAL_DEVICE_TYPE_OTHER;
    std::string type_name;
    std::string driver_name, driver_info;
    uint32_t api_version = 0, driver_version = 0;
    uint32_t subgroup_size = 0;
    bool subgroup_arithmetic = false, subgroup_shuffle = false, subgroup_ballot = false;
    uint32_t shared_memory_bytes = 0;
    uint32_t max_workgroup_invocations = 0;
    uint32_t max_group_count[3] = {0, 0, 0};
    uint32_t max_push_constant_bytes = 0;
    uint64_t max_storage_buffer_range = 0;
    uint64_t max_texel_buffer_elements = 0;
    bool shader_float16 = false, storage_16bit = false;
    bool cooperative_matrix = false;  // VK_KHR_cooperative_matrix or VK_NV_cooperative_matrix
    double timestamp_period_ns = 0;   // 0 when the compute queue has no timestamps
    uint32_t timestamp_valid_bits = 0;
    bool has_compute_queue = false;
    uint64_t device_local_bytes = 0;
    bool unified_memory = false;      // some memory type is both device-local and host-visible
    int preference = 0;               // higher is chosen first: discrete > integrated > virtual > cpu
};

// A second queue for compute that runs beside the frame's graphics work (the visualiser's sampler).
//  - off: one queue does everything;
//  - automatic: a queue of a compute-only family (a GPU's asynchronous compute engine), else a second queue of the
//    main family; none on a device with neither (lavapipe): then one queue, as `off`;
//  - on: as automatic, but a device with neither gets the main queue again, so the two-submission path (its
//    semaphores and per-slot buffers) runs and is validated on any device.
// The compute queue's family must have timestamps and the device timeline semaphores; else it is `off`.
enum class AsyncCompute { off, automatic, on };

// Where the asynchronous compute queue comes from: a queue family (−1: none) and the queue's index in it.
struct AsyncQueuePick {
    int family = -1;
    uint32_t index = 0;
};

struct ContextOptions {
    bool validate = false;                       // Khronos layer + synchronization validation
    int device_index = -1;                       // --device N; -1 = choose
    std::vector<const char*> instance_extensions; // e.g. GLFW's surface extensions
    bool need_swapchain = false;
    bool quiet = false;                          // don't print the device choice
    AsyncCompute async_compute = AsyncCompute::off;
};

// Validation messages counted since the last reset; a test fails on any.
struct ValidationCounts {
    uint32_t errors = 0, warnings = 0;
    uint32_t total() const { return errors + warnings; }
};

class Context {
public:
    explicit Context(const ContextOptions& = {});
    ~Context();
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    VkInstance instance() const { return instance_; }
    VkPhysicalDevice physical() const { return physical_; }
    VkDevice device() const { return device_; }
    VkQueue queue() const { return queue_; }
    uint32_t queue_family() const { return queue_family_; }
    const DeviceInfo& info() const { return info_; }
    const std::string& choice_reason() const { return reason_; }
    bool validating() const { return messenger_ != VK_NULL_HANDLE; }
    const VkPhysicalDeviceMemoryProperties& memory() const { return memory_; }

    // Memory type index for the given requirements; throws when none fits.
    uint32_t memory_type(uint32_t type_bits, VkMemoryPropertyFlags want, VkMemoryPropertyFlags avoid = 0) const;

    ValidationCounts validation() const;
    void reset_validation();

    // A command pool for the main queue, owned here (one per context; single-threaded use).
    VkCommandPool command_pool() const { return pool_; }

    // The asynchronous compute queue (ContextOptions::async_compute). Without one these are the main queue's.
    bool async_compute() const { return async_; }
    VkQueue compute_queue() const { return async_ ? compute_queue_ : queue_; }
    uint32_t compute_family() const { return async_ ? compute_family_ : queue_family_; }
    VkCommandPool compute_pool() const { return compute_pool_ ? compute_pool_ : pool_; }
    const std::string& async_reason() const { return async_reason_; }  // which queue, or why none
    uint32_t compute_timestamp_bits() const { return async_ ? compute_ts_bits_ : info_.timestamp_valid_bits; }
    // The queue families that share every buffer (VK_SHARING_MODE_CONCURRENT); empty: one family, exclusive.
    const std::vector<uint32_t>& sharing_families() const { return sharing_; }

    // Every physical device the loader sees, with its info; throws a clear error when there is none.
    static std::vector<DeviceInfo> enumerate(VkInstance);
    // The device `choose` would pick, and why, from a list.
    static uint32_t choose(const std::vector<DeviceInfo>&, int override_index, std::string* why);

private:
    void set_up_async(AsyncCompute, AsyncQueuePick, const std::vector<VkQueueFamilyProperties>&, bool timeline);
    VkInstance instance_ = VK_NULL_HANDLE;
    VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
    VkPhysicalDevice physical_ = VK_NULL_HANDLE;
    VkDevice device_ = VK_NULL_HANDLE;
    VkQueue queue_ = VK_NULL_HANDLE;
    uint32_t queue_family_ = 0;
    VkCommandPool pool_ = VK_NULL_HANDLE;
    bool async_ = false;
    VkQueue compute_queue_ = VK_NULL_HANDLE;
    uint32_t compute_family_ = 0;
    uint32_t compute_ts_bits_ = 0;
    VkCommandPool compute_pool_ = VK_NULL_HANDLE;  // null when the compute family is the main one
    std::string async_reason_ = "off";
    std::vector<uint32_t> sharing_;
    DeviceInfo info_;
    std::string reason_;
    VkPhysicalDeviceMemoryProperties memory_{};
};

// An instance only, for `info` (no device is created).
VkInstance create_instance(bool validate, const std::vector<const char*>& extensions,
                           VkDebugUtilsMessengerEXT* messenger);
void destroy_instance(VkInstance, VkDebugUtilsMessengerEXT);

// Process-wide counters that the messenger writes (one messenger per process in practice).
ValidationCounts global_validation_counts();
void reset_global_validation_counts();

// Thrown when the loader finds no usable Vulkan device; the message names the packages to install.
struct NoDeviceError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace engine
