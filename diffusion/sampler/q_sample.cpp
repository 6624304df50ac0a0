#include "diffusion/sampler/q_sample.hpp"

namespace diffuscope {

QSample::QSample(engine::Context& ctx) : pipeline_(ctx, {"diffusion/q_sample.comp", 6, 24}) {}

void QSample::record(engine::CommandBuffer& cmd, const QSampleIo& io) {
    if (!io.levels || !io.timesteps || !io.x0 || !io.xt || !io.eps || !io.level)
        throw std::invalid_argument("q_sample: every buffer of QSampleIo must be given");
    if (uint64_t(io.n) * io.dim * 4 > io.x0->size() || uint64_t(io.n) * io.dim * 4 > io.xt->size())
        throw std::invalid_argument("q_sample: " + std::to_string(io.n) + "×" + std::to_string(io.dim) +
                                    " floats do not fit the x₀/x_t buffers");
    auto set = pipeline_.bind({*io.levels, *io.timesteps, *io.x0, *io.xt, *io.eps, *io.level});
    struct {
        uint32_t n, dim, seed_lo, seed_hi, first_index, draw;
    } push{io.n, io.dim, uint32_t(io.seed), uint32_t(io.seed >> 32), io.first_index, io.draw};
    cmd.dispatch(pipeline_, set, push, engine::groups_for(uint64_t(io.n) * io.dim, 64));
}

}  // namespace diffuscope
