#include "diffusion/oracle/gmm_oracle.hpp"

namespace diffuscope::oracle {

GmmOracle::GmmOracle(engine::Context& ctx, const data::Gmm& gmm, Prediction p)
    : gmm_(gmm),
      prediction_(p),
      components_(ctx, std::max<size_t>(gmm.components.size(), 1) * sizeof(data::GmmComponent)),
      pipeline_(std::make_unique<engine::ComputePipeline>(ctx, engine::PipelineDesc{"diffusion/gmm_denoiser.comp", 5, 12})) {
    if (gmm.components.empty()) throw std::invalid_argument("GmmOracle: the mixture \"" + gmm.name + "\" is empty");
    for (const auto& c : gmm.components) {
        double det = double(c.cov[0]) * c.cov[2] - double(c.cov[1]) * c.cov[1];
        if (!(c.cov[0] > 0 && det > 0))
            throw std::invalid_argument("GmmOracle: a component of \"" + gmm.name + "\" has a covariance that is not positive definite");
    }
    components_.upload(gmm.components);
}

Denoiser GmmOracle::denoiser() {
    Denoiser d;
    d.name = "gmm-oracle:" + gmm_.name;
    d.prediction = prediction_;
    d.dim = 2;
    d.bind = [this](const DenoiserIo& io) -> Denoiser::Recorder {
        if (io.x->size() < io.batch * 8ull || io.out->size() < io.batch * 8ull)
            throw std::invalid_argument("GmmOracle: buffers smaller than the batch of " + std::to_string(io.batch));
        VkDescriptorSet set = pipeline_->bind({components_, *io.x, *io.level, *io.label, *io.out});
        struct { uint32_t batch, n, prediction; } push{io.batch, uint32_t(gmm_.components.size()), uint32_t(prediction_)};
        engine::ComputePipeline* p = pipeline_.get();
        return [p, set, push](engine::CommandBuffer& cmd) { cmd.dispatch(*p, set, push, engine::groups_for(push.batch, 64)); };
    };
    return d;
}

}  // namespace diffuscope::oracle
