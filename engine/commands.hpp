// engine/commands.hpp — recording helpers over one VkCommandBuffer, a fence, and a one-shot submit.
// A CommandBuffer can be recorded once and submitted many times (per-step values live in buffers).
// Constructed over a CommandList it captures instead (engine/command_list.hpp): the same recording code then
// produces work that can be replayed later in slices.
#pragma once
#include "engine/command_list.hpp"
#include "engine/pipeline.hpp"

#include <functional>
#include <stdexcept>
#include <vector>

namespace engine {

// Which queue a command buffer is submitted to: the main one (compute, graphics, present) or the asynchronous
// compute queue (Context::compute_queue(); the main queue again when the context has none).
enum class QueueRole { main, compute };

// Timeline-semaphore waits and signals around a submission (the binary semaphores of a swapchain are separate).
struct SemaphoreWait {
    VkSemaphore semaphore = VK_NULL_HANDLE;
    uint64_t value = 0;
    VkPipelineStageFlags stages = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;  // what in this submission waits
};
struct SemaphoreSignal {
    VkSemaphore semaphore = VK_NULL_HANDLE;
    uint64_t value = 0;
};
struct SubmitSync {
    std::vector<SemaphoreWait> waits;
    std::vector<SemaphoreSignal> signals;
    bool empty() const { return waits.empty() && signals.empty(); }
};

// One vkQueueSubmit of `cmd` with `sync`, and the binary semaphores given beside it (their values are ignored).
void queue_submit(VkQueue, VkCommandBuffer cmd, const SubmitSync& sync, VkFence fence,
                  const std::vector<VkSemaphore>& binary_waits = {},
                  const std::vector<VkPipelineStageFlags>& binary_wait_stages = {},
                  const std::vector<VkSemaphore>& binary_signals = {});

// A timeline semaphore: a 64-bit counter the GPU raises; waits name the value they need.
class TimelineSemaphore {
public:
    explicit TimelineSemaphore(Context&);
    ~TimelineSemaphore();
    TimelineSemaphore(const TimelineSemaphore&) = delete;
    TimelineSemaphore& operator=(const TimelineSemaphore&) = delete;
    VkSemaphore handle() const { return sem_; }
    uint64_t completed() const;  // the value the GPU has reached
    // The next value to signal (advances the counter kept here) and the last one handed out.
    uint64_t next() { return ++issued_; }
    uint64_t issued() const { return issued_; }

private:
    Context* ctx_;
    VkSemaphore sem_ = VK_NULL_HANDLE;
    uint64_t issued_ = 0;
};

class CommandBuffer {
public:
    explicit CommandBuffer(Context&, QueueRole = QueueRole::main);
    // A capturing command buffer: dispatch, barriers, copy and fill append to `list`; anything that needs a real
    // VkCommandBuffer (handle(), begin, submit: e.g. timestamps or render passes) throws.
    CommandBuffer(Context&, CommandList& list);
    CommandBuffer(CommandBuffer&&) noexcept;
    CommandBuffer(const CommandBuffer&) = delete;
    CommandBuffer& operator=(const CommandBuffer&) = delete;
    ~CommandBuffer();

    void begin(bool one_time = false);
    void end();
    VkCommandBuffer handle() const {
        if (capture_) throw std::logic_error("CommandBuffer::handle() on a capturing command buffer (CommandList)");
        return cmd_;
    }
    bool capturing() const { return capture_ != nullptr; }

    // Dispatch `groups` workgroups of `p` with descriptor set `set` and push constants.
    void dispatch(const ComputePipeline& p, VkDescriptorSet set, const void* push, uint32_t push_bytes,
                  uint32_t gx, uint32_t gy = 1, uint32_t gz = 1);
    template <class Push>
    void dispatch(const ComputePipeline& p, VkDescriptorSet set, const Push& push, uint32_t gx, uint32_t gy = 1,
                  uint32_t gz = 1) {
        dispatch(p, set, &push, sizeof(Push), gx, gy, gz);
    }

    // Hazard: a compute pass reads or overwrites what an earlier compute/transfer pass wrote or read
    // (RAW, WAR and WAW all covered). The one barrier between dependent dispatches.
    void barrier();
    // Hazard: the host reads what compute/transfer wrote (before the fence wait).
    void barrier_to_host();
    // Hazard: compute reads what the host wrote into a mapped buffer since the last submit.
    void barrier_from_host();

    void copy(const Buffer& src, Buffer& dst, VkDeviceSize bytes, VkDeviceSize src_off = 0, VkDeviceSize dst_off = 0);
    void fill(Buffer& dst, uint32_t word, VkDeviceSize offset = 0, VkDeviceSize bytes = VK_WHOLE_SIZE);

    // Submits to its queue and waits for the fence.
    void submit_and_wait(const SubmitSync& sync = {});
    // Submits; `wait()` later.
    void submit(const SubmitSync& sync = {});
    void wait();
    QueueRole role() const { return role_; }

private:
    CommandList::Op& captured(CommandList::Kind);
    void require_recording(const char* what) const;

    VkCommandPool pool() const;
    VkQueue queue() const;

    Context* ctx_;
    QueueRole role_ = QueueRole::main;
    CommandList* capture_ = nullptr;
    VkCommandBuffer cmd_ = VK_NULL_HANDLE;
    VkFence fence_ = VK_NULL_HANDLE;
    bool pending_ = false;
};

// Record with `fn`, submit, wait. Ends with a barrier so the host may read what was written.
void one_shot(Context&, const std::function<void(CommandBuffer&)>& fn);

inline uint32_t groups_for(uint64_t n, uint32_t group_size) { return uint32_t((n + group_size - 1) / group_size); }

}  // namespace engine
