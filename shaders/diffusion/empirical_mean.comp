#version 450
#extension GL_KHR_shader_subgroup_shuffle : require
#extension GL_EXT_control_flow_attributes : require
// shaders/diffusion/empirical_mean.comp — pass 3 of the empirical optimal denoiser. For the training set
// {x₀ⁱ} (restricted to the query's class when labelled), the optimal denoiser under the empirical distribution
// is exact (e.g. Karras et al. 2022, appendix B.3):
//   E[x₀ | x_t = x] = Σ_i w_i x₀ⁱ,   w = softmax_i(−‖x − √ᾱ x₀ⁱ‖² / (2(1 − ᾱ)))
// with the weights from empirical_logits.comp + empirical_softmax.comp (0 outside a query's class). A GEMM
// [batch × count]·[count × dim] tiled like empirical_logits.comp: 8 lanes share 8 queries (weights by subgroup
// shuffle), lane k owns pixels 4k…4k+3 (one uint8×4 word of each image). An image whose 8 weights all
// underflowed to 0 is skipped — at low noise that leaves only the few nearest images.
// Reference: tests/reference/empirical_ref.cpp (ref::empirical_denoise); tests: tests/test_oracles.cpp
//   (EmpiricalShaderMatchesTheReference, EmpiricalChainMatchesTheReferenceChain)
#include "diffusion/denoiser_io.glsl"

layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer Images { uint images[]; };        // [count, words]
layout(std430, binding = 1) readonly buffer Classes { uint class_start[]; };
layout(std430, binding = 2) readonly buffer Lb { int labels[]; };
layout(std430, binding = 3) readonly buffer W { float weights[]; };  // [batch, count]
layout(std430, binding = 4) writeonly buffer Out { float outs[]; };  // [batch, dim] x̂₀
layout(push_constant) uniform P { uint batch, count, dim, words; };

void main() {
    const uint lane = gl_SubgroupInvocationID & 7u, base = gl_SubgroupInvocationID & ~7u;
    const uint k = gl_GlobalInvocationID.x, q0 = gl_WorkGroupID.y * 8u, mine = q0 + lane;
    uint lo = count, hi = 0u;  // the union of the 8 queries' class ranges
    [[unroll]] for (uint r = 0; r < 8u; ++r) {
        uint n = q0 + r;
        if (n >= batch) break;
        int l = labels[n];
        bool all = l < 0 || l >= NULL_LABEL || class_start[l] == class_start[l + 1];
        lo = min(lo, all ? 0u : class_start[l]);
        hi = max(hi, all ? count : class_start[l + 1]);
    }
    vec4 acc[8];
    [[unroll]] for (uint r = 0; r < 8u; ++r) acc[r] = vec4(0.0);
    for (uint i = lo; i < hi; ++i) {
        float wme = mine < batch ? weights[mine * count + i] : 0.0;
        float w[8];
        bool any = false;
        [[unroll]] for (uint r = 0; r < 8u; ++r) {
            w[r] = subgroupShuffle(wme, base | r);
            any = any || w[r] != 0.0;
        }
        if (!any) continue;  // the same in all 8 lanes
        uint b = k < words ? images[i * words + k] : 0u;
        vec4 x0 = vec4((uvec4(b) >> uvec4(0u, 8u, 16u, 24u)) & 255u) * (2.0 / 255.0) - 1.0;
        [[unroll]] for (uint r = 0; r < 8u; ++r) acc[r] = fma(vec4(w[r]), x0, acc[r]);
    }
    if (k >= words) return;
    [[unroll]] for (uint r = 0; r < 8u; ++r) {
        uint n = q0 + r;
        if (n >= batch) break;
        [[unroll]] for (uint c = 0; c < 4u; ++c)
            if (4u * k + c < dim) outs[n * dim + 4u * k + c] = acc[r][c];
    }
}
