// engine/command_list.hpp — compute work captured on the host (dispatches, barriers, copies, fills) to be replayed
// into command buffers a slice at a time. This is how the visualiser spreads one sampler step (a whole UNet
// forward) over several frames: the step is recorded once through the ordinary recording code into a
// CommandList (a CommandBuffer constructed over it captures instead of recording), and each frame replays the next
// few operations its GPU-time budget allows. The UNet's activations live in its own buffers, so a forward cut
// between any two operations resumes exactly where it stopped.
//
// Captured operations refer to pipelines, descriptor sets and buffers by pointer or handle: those must outlive the
// list (they do for anything a Kernel or ComputePipeline owns — their descriptor sets live as long as they do).
#pragma once
#include "engine/pipeline.hpp"

#include <cstdint>
#include <vector>

namespace engine {

class CommandBuffer;

class CommandList {
public:
    enum class Kind : uint8_t { dispatch, barrier, barrier_to_host, barrier_from_host, copy, fill };
    struct Op {
        Kind kind = Kind::barrier;
        const ComputePipeline* pipeline = nullptr;
        VkDescriptorSet set = VK_NULL_HANDLE;
        uint32_t push_offset = 0, push_bytes = 0;  // into the list's push-constant bytes
        uint32_t groups[3] = {0, 0, 0};
        const Buffer* src = nullptr;
        Buffer* dst = nullptr;
        VkDeviceSize bytes = 0, src_offset = 0, dst_offset = 0;
        uint32_t word = 0;
    };

    size_t size() const { return ops_.size(); }
    bool empty() const { return ops_.empty(); }
    void clear();
    const Op& operator[](size_t i) const { return ops_.at(i); }
    // Replays operations [first, last) into `cmd`, exactly as they were recorded.
    void replay(CommandBuffer& cmd, size_t first, size_t last) const;
    // "The same work" across captures: the pipeline, its descriptor set, the workgroup counts and the push
    // constants of a dispatch (0 for anything else). A cost learned for one step applies to the next.
    uint64_t signature(size_t i) const;

private:
    friend class CommandBuffer;
    std::vector<Op> ops_;
    std::vector<uint8_t> push_;
};

}  // namespace engine
