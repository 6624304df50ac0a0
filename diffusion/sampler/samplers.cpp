// diffusion/sampler/samplers.cpp — each sampler's step as a recipe of passes (the math is in its shader).
// k-diffusion style: a sampler is a loop over noise levels calling the model; here the loop is the replayed
// step and the levels are timesteps[i] → timesteps[i+1] read on the GPU.
#include "diffusion/sampler/chain.hpp"

namespace diffuscope {

void Chain::record_step(engine::CommandBuffer& cmd, bool final_step) {
    switch (cfg_.sampler) {
        case SamplerKind::ddpm:     // Ho et al. 2020, Alg. 2                      shaders/diffusion/ddpm_step.comp
        case SamplerKind::ddim:     // Song et al. 2020, eq. 12                    ddim_step.comp
        case SamplerKind::euler:    // Karras et al. 2022, PF-ODE in σ            euler_step.comp
        case SamplerKind::sde:      // Song et al. 2021, reverse SDE, Euler–Maruyama   sde_step.comp
        case SamplerKind::dpmpp2m:  // Lu et al. 2022, Alg. 2                      dpmpp2m_step.comp
            record_denoise(cmd, At::current);
            record_update(cmd);
            break;
        case SamplerKind::heun:     // Karras et al. 2022, Alg. 1                  heun_step.comp
            record_denoise(cmd, At::current);
            record_update(cmd, 0);                 // x̃ = Euler predictor at σ'
            if (!final_step) record_denoise(cmd, At::predictor);  // ε̂(x̃; σ'); skipped when σ' = 0
            record_update(cmd, 1);                 // trapezoid corrector (or x̃ itself on the last step)
            break;
    }
    record_advance(cmd);
}

}  // namespace diffuscope
