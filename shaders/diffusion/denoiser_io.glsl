// shaders/diffusion/denoiser_io.glsl — what a denoiser (oracle or UNet) reads per sample besides x_t: the noise
// level as log-SNR λ = log(ᾱ/(1 − ᾱ)) (float per sample; docs/model.md's `level`), and a label (int per sample:
// 0–9, or NULL_LABEL = 10 for "no label", used by classifier-free guidance). Everything else follows from λ:
//   ᾱ = σ(λ),  1 − ᾱ = σ(−λ)   (σ the logistic function; each side computed directly, so neither cancels)
// Reference: diffusion/model/denoiser.hpp (its C++ twin: Prediction, null_label, the level as log-SNR); tests:
//   through its users (tests/test_samplers.cpp, tests/test_oracles.cpp)
#ifndef DIFFUSCOPE_DENOISER_IO_GLSL
#define DIFFUSCOPE_DENOISER_IO_GLSL

float alpha_bar_of(float log_snr) { return 1.0 / (1.0 + exp(-log_snr)); }
float one_minus_alpha_bar_of(float log_snr) { return 1.0 / (1.0 + exp(log_snr)); }

const int NULL_LABEL = 10;
const uint PREDICT_EPS = 0u, PREDICT_X0 = 1u, PREDICT_V = 2u;

#endif
