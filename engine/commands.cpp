#include "engine/commands.hpp"

#include <utility>

namespace engine {

void queue_submit(VkQueue queue, VkCommandBuffer cmd, const SubmitSync& sync, VkFence fence,
                  const std::vector<VkSemaphore>& binary_waits, const std::vector<VkPipelineStageFlags>& binary_wait_stages,
                  const std::vector<VkSemaphore>& binary_signals) {
    if (binary_wait_stages.size() != binary_waits.size())
        throw std::invalid_argument("queue_submit: one wait stage per binary semaphore");
    std::vector<VkSemaphore> waits = binary_waits, signals = binary_signals;
    std::vector<VkPipelineStageFlags> stages = binary_wait_stages;
    std::vector<uint64_t> wait_values(binary_waits.size(), 0), signal_values(binary_signals.size(), 0);
    for (const auto& w : sync.waits) {
        waits.push_back(w.semaphore);
        stages.push_back(w.stages);
        wait_values.push_back(w.value);
    }
    for (const auto& g : sync.signals) {
        signals.push_back(g.semaphore);
        signal_values.push_back(g.value);
    }
    VkTimelineSemaphoreSubmitInfo tl{VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO};
    tl.waitSemaphoreValueCount = uint32_t(wait_values.size());
    tl.pWaitSemaphoreValues = wait_values.data();
    tl.signalSemaphoreValueCount = uint32_t(signal_values.size());
    tl.pSignalSemaphoreValues = signal_values.data();
    VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
    si.pNext = sync.empty() ? nullptr : &tl;
    si.waitSemaphoreCount = uint32_t(waits.size());
    si.pWaitSemaphores = waits.data();
    si.pWaitDstStageMask = stages.data();
    si.commandBufferCount = 1;
    si.pCommandBuffers = &cmd;
    si.signalSemaphoreCount = uint32_t(signals.size());
    si.pSignalSemaphores = signals.data();
    VK_CHECK(vkQueueSubmit(queue, 1, &si, fence));
}

TimelineSemaphore::TimelineSemaphore(Context& ctx) : ctx_(&ctx) {
    VkSemaphoreTypeCreateInfo type{VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO};
    type.semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE;
    type.initialValue = 0;
    VkSemaphoreCreateInfo ci{VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
    ci.pNext = &type;
    VK_CHECK(vkCreateSemaphore(ctx.device(), &ci, nullptr, &sem_));
}

TimelineSemaphore::~TimelineSemaphore() {
    if (sem_) vkDestroySemaphore(ctx_->device(), sem_, nullptr);
}

uint64_t TimelineSemaphore::completed() const {
    uint64_t v = 0;
    VK_CHECK(vkGetSemaphoreCounterValue(ctx_->device(), sem_, &v));
    return v;
}

VkCommandPool CommandBuffer::pool() const {
    return role_ == QueueRole::compute ? ctx_->compute_pool() : ctx_->command_pool();
}
VkQueue CommandBuffer::queue() const { return role_ == QueueRole::compute ? ctx_->compute_queue() : ctx_->queue(); }

CommandBuffer::CommandBuffer(Context& ctx, QueueRole role) : ctx_(&ctx), role_(role) {
    VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    ai.commandPool = pool();
    ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    ai.commandBufferCount = 1;
    VK_CHECK(vkAllocateCommandBuffers(ctx.device(), &ai, &cmd_));
    VkFenceCreateInfo fci{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VK_CHECK(vkCreateFence(ctx.device(), &fci, nullptr, &fence_));
}

CommandBuffer::CommandBuffer(Context& ctx, CommandList& list) : ctx_(&ctx), capture_(&list) {}

CommandBuffer::CommandBuffer(CommandBuffer&& o) noexcept
    : ctx_(o.ctx_), role_(o.role_), capture_(std::exchange(o.capture_, nullptr)), cmd_(std::exchange(o.cmd_, VK_NULL_HANDLE)), fence_(std::exchange(o.fence_, VK_NULL_HANDLE)),
      pending_(std::exchange(o.pending_, false)) {}

CommandBuffer::~CommandBuffer() {
    if (!cmd_) return;
    if (pending_) vkWaitForFences(ctx_->device(), 1, &fence_, VK_TRUE, UINT64_MAX);
    vkDestroyFence(ctx_->device(), fence_, nullptr);
    vkFreeCommandBuffers(ctx_->device(), pool(), 1, &cmd_);
}

void CommandBuffer::require_recording(const char* what) const {
    if (capture_) throw std::logic_error(std::string("CommandBuffer::") + what + " on a capturing command buffer");
}

CommandList::Op& CommandBuffer::captured(CommandList::Kind kind) {
    capture_->ops_.emplace_back();
    capture_->ops_.back().kind = kind;
    return capture_->ops_.back();
}

void CommandBuffer::begin(bool one_time) {
    require_recording("begin");
    if (pending_) wait();
    VK_CHECK(vkResetCommandBuffer(cmd_, 0));
    VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    bi.flags = one_time ? VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT : 0;
    VK_CHECK(vkBeginCommandBuffer(cmd_, &bi));
}

void CommandBuffer::end() {
    require_recording("end");
    VK_CHECK(vkEndCommandBuffer(cmd_));
}

void CommandBuffer::dispatch(const ComputePipeline& p, VkDescriptorSet set, const void* push, uint32_t push_bytes,
                             uint32_t gx, uint32_t gy, uint32_t gz) {
    if (push_bytes != p.desc().push_bytes)
        throw std::invalid_argument(p.desc().shader + ": pushed " + std::to_string(push_bytes) +
                                    " bytes of constants, the pipeline declares " + std::to_string(p.desc().push_bytes));
    const auto& lim = ctx_->info().max_group_count;
    if (gx > lim[0] || gy > lim[1] || gz > lim[2])
        throw std::invalid_argument(p.desc().shader + ": dispatch of " + std::to_string(gx) + "×" + std::to_string(gy) +
                                    "×" + std::to_string(gz) + " workgroups exceeds the device's limit " +
                                    std::to_string(lim[0]) + "×" + std::to_string(lim[1]) + "×" + std::to_string(lim[2]));
    if (capture_) {
        const uint32_t at = uint32_t(capture_->push_.size());
        auto& op = captured(CommandList::Kind::dispatch);
        op.pipeline = &p;
        op.set = set;
        op.push_offset = at;
        op.push_bytes = push_bytes;
        op.groups[0] = gx, op.groups[1] = gy, op.groups[2] = gz;
        const auto* bytes = static_cast<const uint8_t*>(push);
        if (push_bytes) capture_->push_.insert(capture_->push_.end(), bytes, bytes + push_bytes);
        return;
    }
    vkCmdBindPipeline(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, p.handle());
    vkCmdBindDescriptorSets(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, p.layout(), 0, 1, &set, 0, nullptr);
    if (push_bytes) vkCmdPushConstants(cmd_, p.layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes, push);
    if (gx && gy && gz) vkCmdDispatch(cmd_, gx, gy, gz);
}

static void memory_barrier(VkCommandBuffer cmd, VkPipelineStageFlags src_stage, VkAccessFlags src_access,
                           VkPipelineStageFlags dst_stage, VkAccessFlags dst_access) {
    VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER, nullptr, src_access, dst_access};
    vkCmdPipelineBarrier(cmd, src_stage, dst_stage, 0, 1, &mb, 0, nullptr, 0, nullptr);
}

void CommandBuffer::barrier() {
    if (capture_) {
        captured(CommandList::Kind::barrier);
        return;
    }
    const auto stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    memory_barrier(cmd_, stages, VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT, stages,
                   VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                       VK_ACCESS_TRANSFER_WRITE_BIT);
}

void CommandBuffer::barrier_to_host() {
    if (capture_) {
        captured(CommandList::Kind::barrier_to_host);
        return;
    }
    memory_barrier(cmd_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                   VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                   VK_ACCESS_HOST_READ_BIT);
}

void CommandBuffer::barrier_from_host() {
    if (capture_) {
        captured(CommandList::Kind::barrier_from_host);
        return;
    }
    memory_barrier(cmd_, VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_WRITE_BIT,
                   VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                   VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_TRANSFER_READ_BIT);
}

void CommandBuffer::copy(const Buffer& src, Buffer& dst, VkDeviceSize bytes, VkDeviceSize so, VkDeviceSize doff) {
    if (capture_) {
        auto& op = captured(CommandList::Kind::copy);
        op.src = &src, op.dst = &dst, op.bytes = bytes, op.src_offset = so, op.dst_offset = doff;
        return;
    }
    VkBufferCopy region{so, doff, bytes};
    vkCmdCopyBuffer(cmd_, src.handle(), dst.handle(), 1, &region);
}

void CommandBuffer::fill(Buffer& dst, uint32_t word, VkDeviceSize offset, VkDeviceSize bytes) {
    if (capture_) {
        auto& op = captured(CommandList::Kind::fill);
        op.dst = &dst, op.word = word, op.dst_offset = offset, op.bytes = bytes;
        return;
    }
    vkCmdFillBuffer(cmd_, dst.handle(), offset, bytes, word);
}

void CommandBuffer::submit(const SubmitSync& sync) {
    require_recording("submit");
    if (pending_) wait();
    VK_CHECK(vkResetFences(ctx_->device(), 1, &fence_));
    queue_submit(queue(), cmd_, sync, fence_);
    pending_ = true;
}

void CommandBuffer::wait() {
    if (!pending_) return;
    VK_CHECK(vkWaitForFences(ctx_->device(), 1, &fence_, VK_TRUE, UINT64_MAX));
    pending_ = false;
}

void CommandBuffer::submit_and_wait(const SubmitSync& sync) {
    submit(sync);
    wait();
    // The fence covers the batch's commands; that the batch's timeline signals are visible to
    // vkGetSemaphoreCounterValue once it is signalled is not something every driver gives (lavapipe read the old
    // value in 10 of 20 runs of GpuTest.AsyncComputeSubmissionsAreOrderedByTimelineSemaphores). A caller that reads
    // a timeline value after this call must see its own signals, so wait for them too.
    if (sync.signals.empty()) return;
    std::vector<VkSemaphore> sems;
    std::vector<uint64_t> values;
    for (const auto& g : sync.signals) {
        sems.push_back(g.semaphore);
        values.push_back(g.value);
    }
    VkSemaphoreWaitInfo wi{VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO};
    wi.semaphoreCount = uint32_t(sems.size());
    wi.pSemaphores = sems.data();
    wi.pValues = values.data();
    VK_CHECK(vkWaitSemaphores(ctx_->device(), &wi, UINT64_MAX));
}

void one_shot(Context& ctx, const std::function<void(CommandBuffer&)>& fn) {
    CommandBuffer cmd(ctx);
    cmd.begin(true);
    fn(cmd);
    cmd.barrier_to_host();
    cmd.end();
    cmd.submit_and_wait();
}

}  // namespace engine
