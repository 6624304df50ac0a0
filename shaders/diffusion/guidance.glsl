// shaders/diffusion/guidance.glsl — classifier-free guidance (Ho & Salimans 2022, "Classifier-Free Diffusion
// Guidance", eq. 6), the one place its combination is written:
//   o = o_null + w (o_label − o_null)
// o_label is the model's output with the sample's label, o_null with the null label (NULL_LABEL = 10, which the
// model also learns: train/batch.comp drops labels with probability p_uncond). w = 1 is the conditional model,
// w = 0 the unconditional one, w > 1 pushes away from the unconditional output. The combination is affine in o,
// so guiding ε, x₀ or v gives the same x̂₀.
// Used by diffusion/denoise.comp (the sampling chain) and render/fieldimg.comp (the image-field view).
// The batch doubling (rows N…2N−1 repeat the samples with the null label, so both outputs come from one forward)
// is in diffusion/prepare_model_input.comp for the chain and in render/fieldimg.comp's mode 0 for the field.
// Host side: diffusion/sampler/chain.cpp (ChainConfig::guided doubles the model batch; SamplerOptions::guidance
// is w, in SamplerParams.guidance of diffusion/chain.glsl) and diffusion/vis/fieldimg.cpp (FieldImg's guided, w).
// Reference: tests/reference/sampler_ref.cpp (ref::denoise_ref, its `guided` branch); tests: tests/test_samplers.cpp
//   (EveryGpuChainMatchesTheDoubleReference), tests/test_fieldimg.cpp (FieldImgProjectionsAndHeatMapMatchADoubleReference).
#ifndef DIFFUSCOPE_GUIDANCE_GLSL
#define DIFFUSCOPE_GUIDANCE_GLSL

// o_null + w (o_label − o_null)
float guidance_combine(float o_label, float o_null, float w) { return o_null + w * (o_label - o_null); }

#endif
