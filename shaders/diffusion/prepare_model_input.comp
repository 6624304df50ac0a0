#version 450
// shaders/diffusion/prepare_model_input.comp — the model's batch for this step: x (or Heun's predictor) at
// level timesteps[step + level_offset], each sample's log-SNR λ, and its label. With classifier-free
// guidance the batch is doubled: samples N…2N−1 repeat x with the null label, so ε̂_label and ε̂_null come
// from one forward (Ho & Salimans 2022).
// Reference: tests/reference/sampler_ref.cpp (ref::run_chain: the model's batch, doubled for guidance); tests:
//   tests/test_samplers.cpp (EveryGpuChainMatchesTheDoubleReference, guided rows)
#include "diffusion/chain.glsl"
#include "diffusion/denoiser_io.glsl"

layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer Levels { Level levels[]; };
layout(std430, binding = 1) readonly buffer Timesteps { uint timesteps[]; };
layout(std430, binding = 2) readonly buffer State { ChainState st; };
layout(std430, binding = 3) readonly buffer Src { float src[]; };        // [n, dim]
layout(std430, binding = 4) readonly buffer Labels { int labels[]; };    // [n]
layout(std430, binding = 5) writeonly buffer MX { float model_x[]; };   // [batch, dim]
layout(std430, binding = 6) writeonly buffer ML { float model_log_snr[]; };
layout(std430, binding = 7) writeonly buffer MLb { int model_label[]; };
layout(push_constant) uniform P { uint n, dim, batch, level_offset; };

void main() {
    uint idx = gl_GlobalInvocationID.x;
    if (idx >= batch * dim) return;
    uint b = idx / dim, i = idx - b * dim, s = b < n ? b : b - n;
    model_x[idx] = src[s * dim + i];
    if (i == 0u) {
        model_log_snr[b] = levels[timesteps[min(st.step + level_offset, st.n_steps)]].log_snr;
        model_label[b] = b < n ? labels[s] : NULL_LABEL;
    }
}
