#version 450
#extension GL_KHR_shader_subgroup_shuffle : require
#extension GL_EXT_control_flow_attributes : require
// shaders/diffusion/empirical_logits.comp — pass 1 of the empirical optimal denoiser (see empirical_mean.comp):
// the log-weight of every training image i for every query n,
//   ℓ_{n,i} = −‖x_n − √ᾱ x₀ⁱ‖² / (2(1 − ᾱ)) + const(n) = (√ᾱ ⟨x_n, x₀ⁱ⟩ − ᾱ·½‖x₀ⁱ‖²) / (1 − ᾱ)
// (‖x_n‖² is the same for every i and cancels in the softmax). A GEMM against the data set, tiled for CPU
// drivers as in shaders/bench/sgemm.comp: no shared memory, no barrier; 8 neighbouring lanes share 8 queries,
// lane j owns the 4 images packed in word j of each pixel row (images stored pixel-major, uint8, x₀ = 2·b/255 − 1)
// and gets the 8 queries' pixel by subgroup shuffle: per pixel 1 image word + 1 query value loaded, 32 FMAs.
// Only images in a query's class range are written; a lane group whose 32 images are outside all 8 ranges
// returns at once.
// Reference: tests/reference/empirical_ref.cpp (ref::empirical_denoise); tests: tests/test_oracles.cpp
//   (EmpiricalShaderMatchesTheReference, EmpiricalChainMatchesTheReferenceChain)
#include "diffusion/denoiser_io.glsl"

layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer ImagesT { uint images_t[]; };     // [dim, m4]: pixel p of images 4j…4j+3
layout(std430, binding = 1) readonly buffer Norms { vec4 half_norm[]; };      // [m4] ½‖x₀ⁱ‖², 4 images per vec4
layout(std430, binding = 2) readonly buffer Classes { uint class_start[]; };  // [11]: class c is [start[c], start[c+1])
layout(std430, binding = 3) readonly buffer X { float xs[]; };                // [batch, dim]
layout(std430, binding = 4) readonly buffer Lv { float log_snr[]; };
layout(std430, binding = 5) readonly buffer Lb { int labels[]; };
layout(std430, binding = 6) writeonly buffer Logits { float logits[]; };      // [batch, count]
layout(push_constant) uniform P { uint batch, count, dim, m4; };

uvec2 query_range(uint n) {  // a label with no images (or the null label) means the whole set
    int l = labels[n];
    if (l < 0 || l >= NULL_LABEL || class_start[l] == class_start[l + 1]) return uvec2(0u, count);
    return uvec2(class_start[l], class_start[l + 1]);
}

void main() {
    const uint lane = gl_SubgroupInvocationID & 7u, base = gl_SubgroupInvocationID & ~7u;
    const uint j = gl_GlobalInvocationID.x, first = (j & ~7u) * 4u, q0 = gl_WorkGroupID.y * 8u, mine = q0 + lane;
    bool any = false;
    [[unroll]] for (uint r = 0; r < 8u; ++r) {
        uvec2 rg = q0 + r < batch ? query_range(q0 + r) : uvec2(0u);
        any = any || (rg.x < first + 32u && rg.y > first);
    }
    if (!any) return;  // the same for all 8 lanes of the group: the shuffles below stay within live groups
    vec4 acc[8];
    [[unroll]] for (uint r = 0; r < 8u; ++r) acc[r] = vec4(0.0);
    for (uint p = 0; p < dim; ++p) {
        float xq = mine < batch ? xs[mine * dim + p] : 0.0;
        uint w = j < m4 ? images_t[p * m4 + j] : 0u;
        vec4 x0 = vec4((uvec4(w) >> uvec4(0u, 8u, 16u, 24u)) & 255u) * (2.0 / 255.0) - 1.0;
        [[unroll]] for (uint r = 0; r < 8u; ++r) acc[r] = fma(vec4(subgroupShuffle(xq, base | r)), x0, acc[r]);
    }
    if (j >= m4) return;
    vec4 hn = half_norm[j];
    [[unroll]] for (uint r = 0; r < 8u; ++r) {
        uint n = q0 + r;
        if (n >= batch) break;
        uvec2 rg = query_range(n);
        float ab = alpha_bar_of(log_snr[n]);
        float om = max(one_minus_alpha_bar_of(log_snr[n]), 1e-10);  // clean level: finite, one-hot (nearest image)
        vec4 l = (sqrt(ab) * acc[r] - ab * hn) / om;
        [[unroll]] for (uint c = 0; c < 4u; ++c) {
            uint i = 4u * j + c;
            if (i >= rg.x && i < rg.y) logits[n * count + i] = l[c];
        }
    }
}
