#include "engine/timestamps.hpp"

namespace engine {

Timestamps::Timestamps(Context& ctx, uint32_t max_passes, QueueRole role) : ctx_(&ctx), capacity_(max_passes) {
    period_ns_ = ctx.info().timestamp_period_ns;
    uint32_t bits = role == QueueRole::compute ? ctx.compute_timestamp_bits() : ctx.info().timestamp_valid_bits;
    if (bits == 0) return;
    mask_ = bits >= 64 ? ~0ull : ((1ull << bits) - 1);
    VkQueryPoolCreateInfo ci{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
    ci.queryType = VK_QUERY_TYPE_TIMESTAMP;
    ci.queryCount = 2 * capacity_;
    VK_CHECK(vkCreateQueryPool(ctx.device(), &ci, nullptr, &pool_));
}

Timestamps::~Timestamps() {
    if (pool_) vkDestroyQueryPool(ctx_->device(), pool_, nullptr);
}

void Timestamps::reset(CommandBuffer& cmd) {
    names_.clear();
    if (pool_) vkCmdResetQueryPool(cmd.handle(), pool_, 0, 2 * capacity_);
}

void Timestamps::begin(CommandBuffer& cmd, std::string name) {
    if (!pool_) return;
    if (names_.size() >= capacity_) throw std::runtime_error("Timestamps: more than " + std::to_string(capacity_) + " passes");
    open_ = uint32_t(names_.size());
    names_.push_back(std::move(name));
    // Bottom of pipe for the start too: written once all earlier work has finished, so back-to-back passes
    // measure their own work, not the tail of the previous one (top of pipe can fire before it drains).
    vkCmdWriteTimestamp(cmd.handle(), VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, pool_, 2 * open_);
}

void Timestamps::end(CommandBuffer& cmd) {
    if (!pool_) return;
    vkCmdWriteTimestamp(cmd.handle(), VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, pool_, 2 * open_ + 1);
}

std::vector<PassTime> Timestamps::read() const {
    std::vector<PassTime> out;
    if (!pool_ || names_.empty()) return out;
    std::vector<uint64_t> t(2 * names_.size());
    VK_CHECK(vkGetQueryPoolResults(ctx_->device(), pool_, 0, uint32_t(t.size()), t.size() * 8, t.data(), 8,
                                   VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
    for (size_t i = 0; i < names_.size(); ++i) {
        uint64_t d = (t[2 * i + 1] - t[2 * i]) & mask_;
        out.push_back({names_[i], double(d) * period_ns_ * 1e-6});
    }
    return out;
}

}  // namespace engine
