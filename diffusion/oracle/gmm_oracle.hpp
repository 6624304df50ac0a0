// diffusion/oracle/gmm_oracle.hpp — the exact denoiser of a 2-D Gaussian mixture (shaders/diffusion/gmm_denoiser.comp)
// as a Denoiser: every sampler can be judged against a known answer without any network. It can answer as an
// ε-, x₀- or v-prediction model, so the samplers' conversions are exercised too.
#pragma once
#include "diffusion/data/toy2d.hpp"
#include "diffusion/model/denoiser.hpp"
#include "engine/pipeline.hpp"

#include <memory>

namespace diffuscope::oracle {

class GmmOracle {
public:
    GmmOracle(engine::Context&, const data::Gmm&, Prediction = Prediction::eps);
    // The Denoiser view; valid while this oracle lives.
    Denoiser denoiser();
    const data::Gmm& mixture() const { return gmm_; }

private:
    data::Gmm gmm_;
    Prediction prediction_;
    engine::Buffer components_;
    std::unique_ptr<engine::ComputePipeline> pipeline_;
};

}  // namespace diffuscope::oracle
