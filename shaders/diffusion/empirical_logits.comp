#version 450
// shaders/diffusion/empirical_logits.comp — pass 1 of the empirical optimal denoiser (see empirical_mean.comp):
// the log-weights of every training image i for every query n,
//   ℓ_{n,i} = −‖x_n − √ᾱ x₀ⁱ‖² / (2(1 − ᾱ)) + const(n) = (√ᾱ ⟨x_n, x₀ⁱ⟩ − ᾱ·½‖x₀ⁱ‖²) / (1 − ᾱ)
// (‖x_n‖² is the same for all i and cancels in the softmax). A GEMM against the data set: a workgroup takes 64
// images × Q queries; the queries sit in shared memory, each invocation streams its image once (uint8, 4 per
// word, x₀ = 2·byte/255 − 1) and keeps Q dot products. Only images in a query's class range are written; a
// workgroup whose 64 images lie outside every one of its queries' ranges returns at once.
#include "diffusion/denoiser_io.glsl"

layout(local_size_x = 64) in;
layout(constant_id = 0) const uint WORDS = 196;  // uint32 words per image (pixels padded to a multiple of 4)
layout(constant_id = 1) const uint Q = 8;        // queries per workgroup
layout(std430, binding = 0) readonly buffer Images { uint images[]; };        // [M, WORDS], sorted by class
layout(std430, binding = 1) readonly buffer Norms { float half_norm[]; };     // [M] ½‖x₀ⁱ‖²
layout(std430, binding = 2) readonly buffer Classes { uint class_start[]; };  // [11]: class c is [start[c], start[c+1])
layout(std430, binding = 3) readonly buffer X { float xs[]; };                // [batch, dim]
layout(std430, binding = 4) readonly buffer Lv { float log_snr[]; };
layout(std430, binding = 5) readonly buffer Lb { int labels[]; };
layout(std430, binding = 6) writeonly buffer Logits { float logits[]; };      // [batch, M]
layout(push_constant) uniform P { uint batch, count, dim; };

shared vec4 sq[Q * WORDS];

uvec2 query_range(uint n) {  // a label with no images (or the null label) means the whole set
    int l = labels[n];
    if (l < 0 || l >= NULL_LABEL || class_start[l] == class_start[l + 1]) return uvec2(0u, count);
    return uvec2(class_start[l], class_start[l + 1]);
}

void main() {
    const uint lid = gl_LocalInvocationID.x, i0 = gl_WorkGroupID.x * 64u, q0 = gl_WorkGroupID.y * Q;
    bool any = false;
    for (uint q = 0; q < Q; ++q) {
        uint n = q0 + q;
        if (n >= batch) break;
        uvec2 r = query_range(n);
        any = any || (r.x < i0 + 64u && r.y > i0);
    }
    if (!any) return;  // uniform across the workgroup
    for (uint e = lid; e < Q * WORDS * 4u; e += 64u) {
        uint q = e / (WORDS * 4u), p = e - q * WORDS * 4u, n = q0 + q;
        sq[q * WORDS + p / 4u][p & 3u] = n < batch && p < dim ? xs[n * dim + p] : 0.0;
    }
    barrier();  // the query tile is complete
    const uint i = i0 + lid;
    if (i >= count) return;
    float acc[Q];
    for (uint q = 0; q < Q; ++q) acc[q] = 0.0;
    for (uint k = 0; k < WORDS; ++k) {
        uint w = images[i * WORDS + k];
        vec4 x0 = vec4((uvec4(w) >> uvec4(0u, 8u, 16u, 24u)) & 255u) * (2.0 / 255.0) - 1.0;
        for (uint q = 0; q < Q; ++q) acc[q] += dot(x0, sq[q * WORDS + k]);
    }
    for (uint q = 0; q < Q; ++q) {
        uint n = q0 + q;
        if (n >= batch) break;
        uvec2 r = query_range(n);
        if (i < r.x || i >= r.y) continue;
        float ab = alpha_bar_of(log_snr[n]);
        float om = max(one_minus_alpha_bar_of(log_snr[n]), 1e-10);  // clean level: finite, one-hot (nearest image)
        logits[n * count + i] = (sqrt(ab) * acc[q] - ab * half_norm[i]) / om;
    }
}
