#version 450
// TEMPORARY stand-in for the diffusion branch's chain + MNIST empirical oracle, so the visualiser has something
// real to show until that branch is merged (then this file and diffusion/app/vis_standin.* go).
//
// Data set: 10 labels × M procedural seven-segment glyphs y_j ∈ [−1, 1]^784 (slant, shift, stroke width vary).
// Its exact optimal denoiser at noise level ᾱ (the empirical oracle):
//   x̂₀(x) = Σ_j w_j y_j,  w = softmax_j(−‖x − √ᾱ y_j‖² / (2(1 − ᾱ)))     over the label's glyphs (conditional)
//   or over all 10·M glyphs (unconditional); guidance: x̂₀ = x̂₀ᵤ + w_g (x̂₀꜀ − x̂₀ᵤ) (Ho & Salimans 2022).
//   ε̂ = (x − √ᾱ x̂₀)/√(1 − ᾱ),  v̂ = √ᾱ ε̂ − √(1 − ᾱ) x̂₀,  score = −ε̂/√(1 − ᾱ).
// One DDIM step ᾱ → ᾱ' (Song et al. 2020, eq. 12):
//   σ = η √((1 − ᾱ')/(1 − ᾱ)) √(1 − ᾱ/ᾱ'),  x' = √ᾱ' x̂₀ + √(1 − ᾱ' − σ²) ε̂ + σ z.
// mode 0: x_T = z.  mode 1: the step above.  mode 2: forward, x_t = √ᾱ y + √(1 − ᾱ) z (q_sample) with fixed z.
// mode 3: render the glyphs into their buffer (once; one workgroup per glyph).
// One workgroup per chain; each invocation owns pixels i ≡ local id (mod 256), so x is updated in place.
#include "common/rng.glsl"
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer X { float x[]; };                 // [N, 784]
layout(std430, binding = 1) writeonly buffer X0 { float x0[]; };     // [N, 784]
layout(std430, binding = 2) writeonly buffer Pred { float pred[]; }; // [N, 784], the chosen prediction view
layout(std430, binding = 3) buffer Glyphs { float glyphs[]; };       // [10·M, 784]
layout(std430, binding = 4) buffer GlyphsT { float glyphs_t[]; };    // [784, 10·M]: lanes = candidates read contiguously
layout(push_constant) uniform P {
    uint mode, variants, label, label_mode;  // label_mode 0: all `label`, 1: chain k gets k mod 10, 2: unconditional
    float alpha_bar, alpha_bar_next, eta, guidance;
    uvec2 seed;
    uint step, view;                         // view 0 x̂₀, 1 ε̂, 2 v̂, 3 score
    uint chain_offset;                       // workgroup g works on chain chain_offset + g (a step split in parts)
};
const uint D = 784u, MAX_C = 10u * 8u;
shared float xs_shared[D];
shared float logit[MAX_C];
shared float w_all[MAX_C], w_lab[MAX_C];
shared float softmax[4];  // max and normaliser, over all glyphs and over the label's

uint hash(uint a) { a ^= a >> 16; a *= 0x7feb352du; a ^= a >> 15; a *= 0x846ca68bu; a ^= a >> 16; return a; }
float h01(uint a) { return float(hash(a) & 0xffffu) / 65535.0; }

float seg_dist(vec2 p, vec2 a, vec2 b) {
    vec2 pa = p - a, ba = b - a;
    return length(pa - ba * clamp(dot(pa, ba) / dot(ba, ba), 0.0, 1.0));
}

// Glyph j of `digit` at pixel i, in [−1, 1].
float glyph(uint digit, uint j, uint i) {
    const uint masks[10] = uint[10](0x3Fu, 0x06u, 0x5Bu, 0x4Fu, 0x66u, 0x6Du, 0x7Du, 0x07u, 0x7Fu, 0x6Fu);  // gfedcba
    uint h = digit * 97u + j * 13u + 7u;
    float slant = (h01(h) - 0.5) * 0.5, width = 1.2 + 1.1 * h01(h + 1u);
    vec2 shift = vec2(h01(h + 2u) - 0.5, h01(h + 3u) - 0.5) * 4.0;
    float half_w = 4.5 + 2.0 * h01(h + 4u), half_h = 8.0 + 1.5 * h01(h + 5u);
    vec2 p = vec2(float(i % 28u), float(i / 28u)) + 0.5 - vec2(14.0, 14.0) - shift;
    p.x += slant * p.y;                        // undo the slant: the glyph leans by `slant`
    vec2 tl = vec2(-half_w, -half_h), tr = vec2(half_w, -half_h), ml = vec2(-half_w, 0), mr = vec2(half_w, 0);
    vec2 bl = vec2(-half_w, half_h), br = vec2(half_w, half_h);
    vec2 sa[7] = vec2[7](tl, tr, mr, bl, ml, tl, ml);
    vec2 sb[7] = vec2[7](tr, mr, br, br, bl, ml, mr);
    float d = 1e9;
    for (uint s = 0u; s < 7u; ++s)
        if ((masks[digit] & (1u << s)) != 0u) d = min(d, seg_dist(p, sa[s], sb[s]));
    return 2.0 * clamp(width + 0.5 - d, 0.0, 1.0) - 1.0;
}

void main() {
    uint k = chain_offset + gl_WorkGroupID.x, t = gl_LocalInvocationID.x;
    uint M = min(variants, 8u), C = 10u * M;
    if (mode == 3u) {
        for (uint i = t; i < D; i += 256u) {
            float y = glyph(k / M, k % M, i);
            glyphs[k * D + i] = y;
            glyphs_t[i * C + k] = y;
        }
        return;
    }
    uint chain_label = label_mode == 1u ? k % 10u : label;
    if (mode == 0u || mode == 2u) {
        uint j = hash(k + seed.x) % M;
        for (uint i = t; i < D; i += 256u) {
            float z = gaussian(seed, k, mode == 0u ? step : 0u, i);
            float y = glyphs[(chain_label * M + j) * D + i];
            x[k * D + i] = mode == 0u ? z : sqrt(alpha_bar) * y + sqrt(1.0 - alpha_bar) * z;
            x0[k * D + i] = mode == 0u ? 0.0 : y;
            pred[k * D + i] = mode == 0u ? 0.0 : z;
        }
        return;
    }
    for (uint i = t; i < D; i += 256u) xs_shared[i] = x[k * D + i];
    barrier();
    // Invocation c < C: the logit of candidate glyph c (all 10·M: the unconditional set; the label's are a subset).
    float sa = sqrt(alpha_bar), inv2var = 0.5 / max(1.0 - alpha_bar, 1e-12);
    if (t < C) {
        float acc = 0.0;
        for (uint i = 0u; i < D; ++i) { float r = xs_shared[i] - sa * glyphs_t[i * C + t]; acc += r * r; }
        logit[t] = -acc * inv2var;
    }
    barrier();
    // Softmax weights, max-subtracted (the logits are −O(784/(1−ᾱ)) and underflow otherwise), once per chain.
    if (t == 0u) {
        float m_all = -1e30, m_lab = -1e30, z_all = 0.0, z_lab = 0.0;
        for (uint c = 0u; c < C; ++c) {
            m_all = max(m_all, logit[c]);
            if (c / M == chain_label) m_lab = max(m_lab, logit[c]);
        }
        for (uint c = 0u; c < C; ++c) {
            z_all += exp(logit[c] - m_all);
            if (c / M == chain_label) z_lab += exp(logit[c] - m_lab);
        }
        softmax[0] = m_all; softmax[1] = z_all; softmax[2] = m_lab; softmax[3] = z_lab;
    }
    barrier();
    if (t < C) {
        w_all[t] = exp(logit[t] - softmax[0]) / softmax[1];
        w_lab[t] = t / M == chain_label ? exp(logit[t] - softmax[2]) / softmax[3] : 0.0;
    }
    barrier();
    float wg = label_mode == 2u ? 0.0 : guidance;
    float sigma = eta * sqrt((1.0 - alpha_bar_next) / max(1.0 - alpha_bar, 1e-12)) *
                  sqrt(max(1.0 - alpha_bar / alpha_bar_next, 0.0));
    float noise_coef = sqrt(max(1.0 - alpha_bar_next - sigma * sigma, 0.0));
    float inv_sd = 1.0 / sqrt(max(1.0 - alpha_bar, 1e-12));
    for (uint i = t; i < D; i += 256u) {
        float xu = 0.0, xc = 0.0;
        for (uint c = 0u; c < C; ++c) {
            if (w_all[c] + w_lab[c] < 1e-8) continue;  // a glyph the chain is nowhere near (uniform branch)
            float y = glyphs[c * D + i];
            xu += w_all[c] * y;
            xc += w_lab[c] * y;
        }
        float x0h = xu + wg * (xc - xu);
        float eps = (xs_shared[i] - sa * x0h) * inv_sd;
        float v = sa * eps - sqrt(1.0 - alpha_bar) * x0h;
        x0[k * D + i] = x0h;
        pred[k * D + i] = view == 0u ? x0h : view == 1u ? eps : view == 2u ? v : -eps * inv_sd;
        float z = sigma > 0.0 ? gaussian(seed, k, step + 1u, i) : 0.0;
        x[k * D + i] = sqrt(alpha_bar_next) * x0h + noise_coef * eps + sigma * z;
    }
}
