// diffusion/schedule/schedule_gpu.hpp — the level buffer on the GPU: a schedule spec goes in as a small parameter
// block, shaders/diffusion/schedule.comp writes T + 1 levels. Changing the schedule rewrites the parameter
// block and replays the one recorded pass; anything that reads the level buffer stays recorded as it is.
#pragma once
#include "diffusion/schedule/schedule.hpp"
#include "engine/commands.hpp"

namespace diffuscope {

// std430 twin of the Params block in schedule.comp.
struct ScheduleParamsGpu {
    uint32_t T, preset, space, interpolation, n_points, zero_terminal_snr;
    float beta_start, beta_end, cosine_s, beta_max, beta_min, zero_snr_floor;
    float knots[max_curve_points][4];  // (t, value, tangent, unused)
};
static_assert(sizeof(ScheduleParamsGpu) == 48 + 64 * 16);

ScheduleParamsGpu schedule_params(const ScheduleSpec&);

class ScheduleBuffer {
public:
    explicit ScheduleBuffer(engine::Context&);

    // Guards the spec (throws ScheduleError with the reason; the buffer keeps its old schedule), then writes
    // the levels and waits for them. Returns what the guard clamped or warns about.
    ScheduleReport set(const ScheduleSpec&);
    // No guard: writes whatever the parameters say (the shader's own clamps still keep NaN out). For tests.
    void set_unchecked(const ScheduleParamsGpu&);

    const engine::Buffer& levels() const { return levels_; }
    uint32_t timesteps() const { return T_; }  // levels()[T] is the clean sentinel
    const ScheduleSpec& spec() const { return spec_; }
    std::vector<Level> download() const { return levels_.download_as<Level>(T_ + 1); }

private:
    engine::Context* ctx_;
    engine::Buffer params_, levels_;
    engine::ComputePipeline pipeline_;
    VkDescriptorSet set_;
    engine::CommandBuffer cmd_;  // recorded once: params (host write) → schedule.comp → levels
    uint32_t T_ = 0;
    ScheduleSpec spec_;
};

}  // namespace diffuscope
