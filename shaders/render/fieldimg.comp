#version 450
// shaders/render/fieldimg.comp — the image-mode field on a 2-D slice through image space (diffusion/vis/fieldimg.hpp).
// The plane p(α, β) = o + α·u + β·v through the chain's x_t = o with orthonormal u, v (basis = [o, u, v], dim each).
// Points j = 0 … count − 1: j = 0 is o itself; j = 1 + i is grid cell i = (c, r) = (i mod K, i div K) at
//   α = lo_a + (c + ½)·cell,  β = lo_b + (r + ½)·cell.
//   mode 0 (prepare): the model's batch for points first … first + P − 1 (padded with the last point):
//       x = o + α u + β v,  λ = the chain's log-SNR,  label = the chain's label; guided: rows P … 2P − 1 are the same
//       points with the null label 10 (the model sees 2P rows).
//   mode 1 (project): one workgroup per point. The model's output m → guidance m = m_null + w (m_label − m_null)
//       (diffusion/guidance.glsl) → x̂₀ (ε: (x − b m)/a; x₀: m; v = a ε − b x₀: a x − b m; with
//       a = √ᾱ, b = √(1 − ᾱ)) → q = x̂₀ − x (the denoise direction) or the score q = (a x̂₀ − x)/b² (Tweedie)
//       → raw[j] = (α, β, ⟨q, u⟩, ⟨q, v⟩), the sums a tree reduction in shared memory. At the clean level (b = 0)
//       x̂₀ = x and q = 0.
//   mode 2 (items, one workgroup): the arrows drawn (render/arrows.vert): items[j] = (α, β, d·max_len/L) with
//       d = (⟨q,u⟩, ⟨q,v⟩) and L = max over the grid of |d|, so the longest grid arrow spans max_len (the colour,
//       |shown|/max_len = |d|/L, tells the lengths apart). j = 0 (x_t's own arrow) of the denoise direction stays at
//       full length, d, so it ends at x̂₀(x_t) projected; the score's has no such end point and is scaled like the grid.
// Reference: the double reference in tests/test_fieldimg.cpp (FieldImgProjectionsAndHeatMapMatchADoubleReference);
//   tests: tests/test_fieldimg.cpp
#include "diffusion/denoiser_io.glsl"
#include "diffusion/guidance.glsl"

layout(local_size_x = 64) in;
layout(binding = 0) uniform samplerBuffer basis;                          // [3, dim]: o, u, v
layout(std430, binding = 1) buffer ModelX { float model_x[]; };           // [2P or P, dim]
layout(std430, binding = 2) writeonly buffer ModelLevel { float model_level[]; };
layout(std430, binding = 3) writeonly buffer ModelLabel { int model_label[]; };
layout(binding = 4) uniform samplerBuffer model_out;                      // [rows, dim]
layout(std430, binding = 5) buffer Raw { vec4 raw[]; };                   // [count]
layout(std430, binding = 6) writeonly buffer Items { vec4 items[]; };     // [count]
layout(push_constant) uniform P {
    uint mode, k, first, count;      // grid side K; first point of this batch; points in the field (1 + K²)
    uint points, guided, prediction, score;  // P = points in this batch's rows
    uint dim;
    int label;
    float lo_a, lo_b, cell;          // the square shown: [lo_a, lo_a + K·cell] × [lo_b, lo_b + K·cell]
    float log_snr, a, b, w, max_len; // λ, √ᾱ, √(1 − ᾱ), guidance w, arrow cap (plane units)
};

shared float part_u[64], part_v[64];

vec2 plane_point(uint j) {
    if (j == 0u) return vec2(0.0);
    uint i = j - 1u;
    return vec2(lo_a + (float(i % k) + 0.5) * cell, lo_b + (float(i / k) + 0.5) * cell);
}

void main() {
    if (mode == 0u) {
        uint g = gl_GlobalInvocationID.x, rows = guided != 0u ? 2u * points : points;
        if (g >= rows * dim) return;
        uint row = g / dim, p = g % dim, j = min(first + row % points, count - 1u);
        vec2 ab = plane_point(j);
        model_x[g] = texelFetch(basis, int(p)).r + ab.x * texelFetch(basis, int(dim + p)).r +
                     ab.y * texelFetch(basis, int(2u * dim + p)).r;
        if (p == 0u) {
            model_level[row] = log_snr;
            model_label[row] = row < points ? label : NULL_LABEL;
        }
    } else if (mode == 1u) {
        uint s = gl_WorkGroupID.x, j = first + s, t = gl_LocalInvocationID.x;
        if (s >= points || j >= count) return;  // uniform over the workgroup
        float su = 0.0, sv = 0.0;
        if (b > 0.0) {
            for (uint p = t; p < dim; p += 64u) {
                float m = texelFetch(model_out, int(s * dim + p)).r;
                if (guided != 0u) m = guidance_combine(m, texelFetch(model_out, int((points + s) * dim + p)).r, w);
                float x = model_x[s * dim + p];
                float x0 = prediction == PREDICT_EPS ? (x - b * m) / a : prediction == PREDICT_X0 ? m : a * x - b * m;
                float q = score != 0u ? (a * x0 - x) / (b * b) : x0 - x;
                su += q * texelFetch(basis, int(dim + p)).r;
                sv += q * texelFetch(basis, int(2u * dim + p)).r;
            }
        }
        part_u[t] = su;
        part_v[t] = sv;
        barrier();
        for (uint h = 32u; h > 0u; h >>= 1) {
            if (t < h) {
                part_u[t] += part_u[t + h];
                part_v[t] += part_v[t + h];
            }
            barrier();
        }
        if (t == 0u) raw[j] = vec4(plane_point(j), part_u[0], part_v[0]);
    } else {
        uint t = gl_LocalInvocationID.x;
        float longest = 0.0;
        for (uint j = 1u + t; j < count; j += 64u) longest = max(longest, length(raw[j].zw));
        part_u[t] = longest;
        barrier();
        for (uint h = 32u; h > 0u; h >>= 1) {
            if (t < h) part_u[t] = max(part_u[t], part_u[t + h]);
            barrier();
        }
        float f = part_u[0] > 0.0 ? max_len / part_u[0] : 0.0;
        for (uint j = t; j < count; j += 64u) {
            vec4 r = raw[j];
            items[j] = vec4(r.xy, (j == 0u && score == 0u) ? r.zw : r.zw * f);
        }
    }
}
