// shaders/diffusion/denoiser_io.glsl — what a denoiser (oracle or UNet) reads per sample besides x_t: the noise
// level it is conditioned on. Twin of `struct NoiseLevel` in diffusion/model/denoiser.hpp (std430, 16 bytes).
// Labels are a parallel int buffer: 0–9, or NULL_LABEL (10) for "no label" (classifier-free guidance).
#ifndef DIFFUSCOPE_DENOISER_IO_GLSL
#define DIFFUSCOPE_DENOISER_IO_GLSL

struct NoiseLevel {
    float log_snr;                   // λ = log(ᾱ/(1 − ᾱ)): the network's conditioning
    float alpha_bar;                 // ᾱ
    float sqrt_alpha_bar;            // √ᾱ
    float sqrt_one_minus_alpha_bar;  // √(1 − ᾱ)
};

const int NULL_LABEL = 10;
const uint PREDICT_EPS = 0u, PREDICT_X0 = 1u, PREDICT_V = 2u;

#endif
