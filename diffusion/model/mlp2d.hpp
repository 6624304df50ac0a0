// diffusion/model/mlp2d.hpp — a small learned denoiser for the 2-D toys, so the field view can set the field a
// network learns beside the exact one (GmmOracle) and show where they differ. Built from the UNet's layers;
// trained on the GPU by train::Mlp2dTrainer (diffusion/train/mlp2d_trainer.hpp) with the same loss, optimiser
// and EMA as the UNet.
//
//   x [N,2], λ [N] (log-SNR)
//   u = (clamp(λ, lo, hi) − lo)/(hi − lo)          the level in [0, 1] (nn/noise_level.comp)
//   e = sinusoidal(u; D = emb, scale)                [N,D]
//   h = concat(x, e)                                 [N,2+D]
//   a1 = SiLU(fc1 h), a2 = SiLU(fc2 a1), a3 = SiLU(fc3 a2)   [N,H]
//   v̂ = fc4 a3                                        [N,2]   v-prediction: v = √ᾱ ε − √(1−ᾱ) x₀
// v rather than ε so that x̂₀ = √ᾱ x − √(1−ᾱ) v̂ stays well conditioned at every level (the field needs x̂₀ on
// the whole grid, including the pure-noise end where x̂₀ from ε̂ divides by √ᾱ → 0).
// Unconditional: the field view's particles and arrows use the null label, and the toys' labels are ignored.
//
// Activations are channel-major, [C, N]: each fc is then a 1×1 convolution over a [1, C, 1, N] tensor (the batch
// is a row of pixels), so the net runs on the register-tiled conv kernels instead of the plain linear ones —
// about 10× faster on lavapipe, where a naive linear layer pays a buffer load per multiply-add. The weights keep
// PyTorch's linear layout [Out, In] (= a 1×1 conv's [Cout, Cin, 1, 1]). nn/mlp2d_input.comp builds the input
// (level, embedding, concatenation) in that layout; nn/transpose.comp turns v̂ back into [N,2].
#pragma once
#include "engine/command_list.hpp"
#include "diffusion/model/denoiser.hpp"
#include "diffusion/model/layers.hpp"
#include "diffusion/model/optim.hpp"
#include "diffusion/model/unet.hpp"  // ParamTable

#include <memory>
#include <vector>

namespace diffuscope::nn {

struct Mlp2dConfig {
    uint32_t hidden = 96;   // H
    uint32_t emb = 16;      // D (even, ≥ 4)
    float emb_scale = 0.25f;  // frequencies 0.25 … 250 over u ∈ [0, 1]: smooth in the level, yet resolving it
    float level_lo = -12.0f, level_hi = 12.0f;  // λ range the net sees (and is trained on)
};

ParamTable mlp2d_params(const Mlp2dConfig&);
// PyTorch's default U(±1/√fan_in) for every weight and bias, from a seeded generator.
std::vector<float> mlp2d_init(const Mlp2dConfig&, uint64_t seed);
double mlp2d_flops_per_sample(const Mlp2dConfig&);

// The net for batches of exactly `batch` points. Parameters are passed to every record call as a View, so the
// same recorded forward can read a trainer's live weights or its EMA.
class Mlp2d {
public:
    Mlp2d(engine::Context&, const Mlp2dConfig&, uint32_t batch, bool training);
    const Mlp2dConfig& config() const { return cfg_; }
    const ParamTable& params() const { return table_; }
    uint32_t batch() const { return batch_; }
    engine::Buffer& grad_buffer();
    // out [N,2] = v̂(x [N,2], λ [N]).
    void record_forward(engine::CommandBuffer&, View params, View x, View level, View out);
    // The gradient of Σ out·dout for every parameter, written into grad_buffer(). Needs the forward recorded just
    // before with the same parameters and inputs (training = true).
    void record_backward(engine::CommandBuffer&, View params, View dout);

private:
    struct Offsets {
        uint32_t h, z1, a1, z2, a2, z3, a3, out_t, total;  // all channel-major [C, N]
    };
    ConvShape fc(uint32_t in, uint32_t out) const { return {1, in, 1, batch_, out, 1, 1}; }
    engine::Context* ctx_;
    Mlp2dConfig cfg_;
    ParamTable table_;
    uint32_t batch_;
    bool training_;
    Offsets off_{};
    engine::Buffer act_, da_, dz_, dout_t_, grads_;
    Conv2d conv_;
    SiLU silu_;
    Kernel input_, transpose_;
    View x_;
};

// The net as a sampler's Denoiser (v-prediction, dim 2, any batch), reading its parameters from `params` at the
// time each recorded forward runs. `params` must outlive the denoiser and every recorder it binds.
Denoiser mlp2d_denoiser(engine::Context&, const Mlp2dConfig&, const engine::Buffer& params, std::string name = "mlp2d");

}  // namespace diffuscope::nn
