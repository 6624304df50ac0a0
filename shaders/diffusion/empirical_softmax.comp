#version 450
// shaders/diffusion/empirical_softmax.comp — pass 2: per query n, over its class range, the stable softmax
//   w_{n,i} = exp(ℓ_{n,i} − max_j ℓ_{n,j}) / Σ_j exp(ℓ_{n,j} − max_j ℓ_{n,j})
// written over the logits in place, and w = 0 outside the range (the weighted mean sums over the union of its
// queries' ranges). One workgroup per query: a max reduction, then a sum reduction.
// Reference: tests/reference/empirical_ref.cpp (ref::empirical_denoise); tests: tests/test_oracles.cpp
//   (EmpiricalShaderMatchesTheReference, EmpiricalChainMatchesTheReferenceChain)
#include "diffusion/denoiser_io.glsl"

layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer Classes { uint class_start[]; };
layout(std430, binding = 1) readonly buffer Lb { int labels[]; };
layout(std430, binding = 2) buffer Logits { float logits[]; };  // [batch, M] → weights
layout(push_constant) uniform P { uint batch, count; };

shared float red[256];

void main() {
    const uint n = gl_WorkGroupID.x, lid = gl_LocalInvocationID.x;
    int l = labels[n];
    uvec2 r = l < 0 || l >= NULL_LABEL || class_start[l] == class_start[l + 1] ? uvec2(0u, count)
                                                                                : uvec2(class_start[l], class_start[l + 1]);
    const uint base = n * count;
    float m = -3.4e38;
    for (uint i = r.x + lid; i < r.y; i += 256u) m = max(m, logits[base + i]);
    red[lid] = m;
    barrier();
    for (uint s = 128u; s > 0u; s >>= 1) {
        if (lid < s) red[lid] = max(red[lid], red[lid + s]);
        barrier();
    }
    m = red[0];
    barrier();  // everyone has read the max before red[] is reused
    float sum = 0.0;
    for (uint i = r.x + lid; i < r.y; i += 256u) sum += exp(logits[base + i] - m);
    red[lid] = sum;
    barrier();
    for (uint s = 128u; s > 0u; s >>= 1) {
        if (lid < s) red[lid] += red[lid + s];
        barrier();
    }
    float inv = 1.0 / red[0];
    for (uint i = lid; i < count; i += 256u) logits[base + i] = i >= r.x && i < r.y ? exp(logits[base + i] - m) * inv : 0.0;
}
