#version 450
// shaders/diffusion/empirical_mean.comp — pass 3 of the empirical optimal denoiser. For the training set
// {x₀ⁱ} (restricted to the query's class when labelled), the optimal denoiser under the empirical distribution
// is exact (e.g. Karras et al. 2022, appendix B.3):
//   E[x₀ | x_t = x] = Σ_i w_i x₀ⁱ,   w = softmax_i(−‖x − √ᾱ x₀ⁱ‖² / (2(1 − ᾱ)))
// Weights come from empirical_logits.comp + empirical_softmax.comp. One invocation per (query, 4-pixel word),
// summing over the range; images whose weight underflowed to 0 are skipped (the branch is uniform: one query per
// workgroup), which at low noise leaves only the few nearest images.
#include "diffusion/denoiser_io.glsl"

layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer Images { uint images[]; };
layout(std430, binding = 1) readonly buffer Classes { uint class_start[]; };
layout(std430, binding = 2) readonly buffer Lb { int labels[]; };
layout(std430, binding = 3) readonly buffer W { float weights[]; };  // [batch, M]
layout(std430, binding = 4) writeonly buffer Out { float outs[]; };  // [batch, dim] x̂₀
layout(push_constant) uniform P { uint batch, count, dim, words; };

void main() {
    const uint n = gl_WorkGroupID.y, k = gl_GlobalInvocationID.x;
    int l = labels[n];
    uvec2 r = l < 0 || l >= NULL_LABEL || class_start[l] == class_start[l + 1] ? uvec2(0u, count)
                                                                                : uvec2(class_start[l], class_start[l + 1]);
    if (k >= words) return;
    vec4 acc = vec4(0.0);
    for (uint i = r.x; i < r.y; ++i) {
        float w = weights[n * count + i];
        if (w == 0.0) continue;
        uint b = images[i * words + k];
        acc += w * (vec4((uvec4(b) >> uvec4(0u, 8u, 16u, 24u)) & 255u) * (2.0 / 255.0) - 1.0);
    }
    for (uint j = 0; j < 4u; ++j)
        if (4u * k + j < dim) outs[n * dim + 4u * k + j] = acc[j];
}
