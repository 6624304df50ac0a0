#include "diffusion/schedule/schedule_gpu.hpp"

#include <cstring>

namespace diffuscope {

ScheduleParamsGpu schedule_params(const ScheduleSpec& spec_in) {
    const ScheduleSpec s = with_defaults(spec_in);
    ScheduleParamsGpu p{};
    p.T = s.timesteps;
    p.preset = uint32_t(s.preset);
    p.space = uint32_t(s.space);
    p.interpolation = uint32_t(s.interpolation);
    p.n_points = uint32_t(std::min<size_t>(s.points.size(), max_curve_points));
    p.zero_terminal_snr = s.zero_terminal_snr;
    p.beta_start = float(s.beta_start);
    p.beta_end = float(s.beta_end);
    p.cosine_s = float(s.cosine_s);
    p.beta_max = float(s.beta_max);
    p.beta_min = float(s.beta_min);
    p.zero_snr_floor = float(zero_snr_floor);
    auto m = monotone_tangents(s.points);
    for (uint32_t k = 0; k < p.n_points; ++k) {
        p.knots[k][0] = float(s.points[k].t);
        p.knots[k][1] = float(s.points[k].value);
        p.knots[k][2] = float(m[k]);
    }
    return p;
}

ScheduleBuffer::ScheduleBuffer(engine::Context& ctx)
    : ctx_(&ctx),
      params_(ctx, sizeof(ScheduleParamsGpu), engine::Memory::Upload),
      levels_(ctx, (max_timesteps + 1) * sizeof(Level)),
      pipeline_(ctx, {"diffusion/schedule.comp", 2, 0}),
      cmd_(ctx) {
    set_ = pipeline_.bind({params_, levels_});
    cmd_.begin();
    cmd_.barrier_from_host();  // RAW: the shader reads the parameters the host just wrote
    cmd_.barrier();            // WAR: earlier submissions' samplers read the levels this pass overwrites
    cmd_.dispatch(pipeline_, set_, static_cast<const void*>(nullptr), 0u, 1u);
    cmd_.barrier();            // RAW: later submissions read the new levels
    cmd_.barrier_to_host();    // the host may download them
    cmd_.end();
}

void ScheduleBuffer::set_unchecked(const ScheduleParamsGpu& p) {
    if (p.T < min_timesteps || p.T > max_timesteps)
        throw ScheduleError("schedule: T = " + std::to_string(p.T) + " is outside [2, 4000]");
    std::memcpy(params_.map().data(), &p, sizeof p);
    cmd_.submit_and_wait();
    T_ = p.T;
}

ScheduleReport ScheduleBuffer::set(const ScheduleSpec& spec) {
    ScheduleReport r = check_schedule(spec);
    set_unchecked(schedule_params(spec));
    spec_ = with_defaults(spec);
    return r;
}

}  // namespace diffuscope
