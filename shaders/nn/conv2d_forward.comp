#version 450
// conv2d forward, NCHW, weight [Cout,Cin,K,K] (PyTorch), K ∈ {1,3}, stride S ∈ {1,2}, padding P = K/2:
//   y[n,co,oy,ox] = b[co] + Σ_{ci<Cin} Σ_{ky,kx<K} w[co,ci,ky,kx] · x[n, ci, oy·S+ky−P, ox·S+kx−P]
//                   (+ v[n,co]) (+ r[n,co,oy,ox])
// taps outside the image read 0; OH = (H + 2P − K)/S + 1, likewise OW. The optional epilogue adds a per-sample
// channel vector v (the UNet's conditioning) and a residual r of y's shape: the passes that added them after the
// conv would read and write y once more each.
// SKIP (WT4 only, S = 1): y also takes a 1×1 conv of a second input x2 [N,Cin2,OH,OW] with weights w2 [Cout,Cin2]
// (pre-transposed as w's) and bias b2 — the residual block's skip path accumulated into conv2's tile, so the skip's
// output is never written and read back.
//
// Implicit GEMM, y[co, pixel] = Σ_k w[co, k] · im2col(x)[k, pixel] with k = (ci,ky,kx), pixel = (n,oy,ox),
// register-tiled so that every float loaded feeds many FMAs (on lavapipe a load costs ~20× an FMA):
// - an invocation owns TM = TMB·TMS output channels × TN consecutive pixels of one output row;
// - weights: lane t of a subgroup loads w[co0 + b·TMS + t, ci, ky, kx] and subgroupBroadcast hands it to
//   every lane (one load per lane per TMS channels);
// - inputs: for each (ci, ky) the invocation loads the row segment x[.., iy, ix0 … ix0 + S(TN−1) + K − 1]
//   once and reads all K taps of its TN pixels from it.
// - or, with WT4 (CPU drivers), weights come pre-transposed to [Cin,K,K,Cpad] (nn/conv2d_weight_t.comp) and every
//   lane reads the same RGBA32F texel: 4 channels per fetch, no broadcasts. On llvmpipe a broadcast costs about
//   as much as 14 FMAs, so one per channel per tap would be ~40 % of the inner loop (docs/PERFORMANCE.md).
// Workgroup (x, y) = (WG invocations over (n, oy, ox/TN), block of TM channels).
// Reference: tests/reference/conv2d.cpp (ref::conv2d_forward); tests: tests/test_nn_layers.cpp (conv* rows,
//   tests/nn_runners_conv.cpp run_conv), tests/test_unet.cpp, tests/test_classifier.cpp
#extension GL_KHR_shader_subgroup_basic : enable
#extension GL_KHR_shader_subgroup_ballot : enable
#extension GL_EXT_control_flow_attributes : enable

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint TMB = 2;           // channel blocks per invocation
layout(constant_id = 2) const uint TN = 4;            // consecutive output pixels per invocation
layout(constant_id = 3) const uint K = 3;
layout(constant_id = 4) const uint S = 1;
layout(constant_id = 5) const uint TMS = 8;           // channels per block (≤ subgroup size when SUBGROUP)
layout(constant_id = 6) const bool SUBGROUP = true;   // false: each invocation loads its TM weights itself
layout(constant_id = 7) const bool WT4 = false;       // weights [Cin,K,K,Cpad] as RGBA32F texels (TMS = 4)
layout(constant_id = 8) const bool X4 = false;        // x read as RGBA32F texels: W, x_off and TN·S (or ox0 = 0) multiples of 4
layout(constant_id = 9) const bool Y4 = false;        // y written 4 values a store: OW, y_off and TN multiples of 4
layout(constant_id = 10) const bool SKIP = false;     // + the 1×1 conv of x2 (WT4, S = 1; X4 covers x2's rows too)

layout(binding = 0) uniform samplerBuffer x_t;  // X: read as texels (see docs/PERFORMANCE.md); X4: RGBA32F
layout(binding = 1) uniform samplerBuffer w_t;  // W, or with WT4 its transpose as RGBA32F texels
layout(binding = 2) uniform samplerBuffer b_t;  // B: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
layout(std430, binding = 3) writeonly buffer Y4v { vec4 y4[]; };  // the same buffer (Y4): on llvmpipe a vec4 store
                                                                  // costs ~1.7× a float store, for 4 floats
layout(binding = 4) uniform samplerBuffer v_t;  // V [N,Cout] (epilogue bit 0)
layout(binding = 5) uniform samplerBuffer r_t;  // R [N,Cout,OH,OW] (epilogue bit 1)
layout(binding = 6) uniform samplerBuffer x2_t;  // SKIP: X2, as x (RGBA32F with X4)
layout(binding = 7) uniform samplerBuffer w2_t;  // SKIP: W2 transposed to [Cin2,Cpad] as RGBA32F texels
layout(binding = 8) uniform samplerBuffer b2_t;  // SKIP: B2
layout(push_constant) uniform Push {
    uint N, Cin, H, W, Cout, OH, OW;
    uint x_off, w_off, b_off, y_off;  // element offsets of x[0], w[0], b[0], y[0] (WT4: w_off counts texels)
    uint has_bias;
    uint wt_stride;                   // WT4: texels per (ci, ky, kx) row of the transposed weights, Cpad/4
    uint v_off, r_off, epilogue;      // epilogue: bit 0 adds v[n,co], bit 1 adds r[n,co,oy,ox]
    uint Cin2, x2_off, w2_off, b2_off;  // SKIP (w2_off counts texels; its rows are wt_stride texels too)
};

const uint KK = K * K;
const int PAD = int(K / 2);
const uint TM = TMB * TMS;
const uint RW = S * (TN - 1) + K;  // x values of one row segment
const uint CB = K == 1 ? 4 : 1;    // WT4: input channels per step (K = 1 has few FMAs per channel)
// X4: the segment starts PAD values before a texel boundary (ox0·S is a multiple of 4), so it spans NT texels
// of which the first may hold up to 3 values left of it; a texel is wholly inside the row or wholly outside.
const uint XO = PAD > 0 ? 4 - PAD : 0, NT = (XO + RW + 3) / 4;

#include "nn/conv_row.glsl"

// SKIP: the TN values x2[.., oy, ox0 …] of the plane at xc (0 past OW, or when !live); with X4 ox0 is a multiple
// of 4 and OW too, so every texel is wholly inside the row or wholly outside.
void x2_row(uint xc, uint oy, uint ox0, bool live, out float xr[TN]) {
    const uint xrow = xc + oy * OW;
    if (X4) {
        vec4 xt[(TN + 3) / 4];
        [[unroll]] for (uint q = 0; q < (TN + 3) / 4; ++q)
            xt[q] = live && ox0 + 4 * q < OW ? texelFetch(x2_t, int((xrow + ox0) / 4 + q)) : vec4(0.0);
        [[unroll]] for (uint r = 0; r < TN; ++r) xr[r] = xt[r / 4][r % 4];
        return;
    }
    [[unroll]] for (uint r = 0; r < TN; ++r) xr[r] = live && ox0 + r < OW ? texelFetch(x2_t, int(xrow + ox0 + r)).x : 0.0;
}

void main() {
    const uint OHW = OH * OW, HW = H * W, GW = (OW + TN - 1) / TN;
    uint p = gl_WorkGroupID.x * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    const bool live = p < N * OH * GW;
    p = live ? p : 0;  // dead lanes still compute (they take part in the broadcasts), never store
    const uint g = p % GW, row = p / GW, oy = row % OH, n = row / OH, ox0 = g * TN;
    const int iy0 = int(oy * S) - PAD, ix0 = int(ox0 * S) - PAD;
    const uint xb = x_off + n * Cin * HW;
    const uint co0 = gl_WorkGroupID.y * TM;

    // The weight rows this lane loads (channels past Cout load a real row and are dropped).
    const uint lane = SUBGROUP ? gl_SubgroupInvocationID % TMS : 0;
    uint wrow[TMB];
    [[unroll]] for (uint bb = 0; bb < TMB; ++bb) wrow[bb] = w_off + min(co0 + bb * TMS + lane, Cout - 1) * Cin * KK;

    float acc[TM][TN];
    [[unroll]] for (uint t = 0; t < TM; ++t)
        [[unroll]] for (uint j = 0; j < TN; ++j) acc[t][j] = 0.0;

    for (uint ci = 0; ci < Cin; ci += WT4 ? CB : 1) {
        if (WT4) {
            // CB channels' K rows and K² taps' weights first, then each accumulator takes its CB·K² FMAs in a
            // row: the accumulators do not fit a CPU's registers, and this loads and stores each once per CB·K²
            // FMAs instead of once per FMA. Channels past Cin read zeros.
            float xr[CB * K][RW];
            vec4 wv[CB * KK][(TM + 3) / 4];  // (TM is a multiple of 4 with WT4)
            [[unroll]] for (uint c = 0; c < CB; ++c) {
                const bool has = ci + c < Cin;
                [[unroll]] for (uint ky = 0; ky < K; ++ky)
                    x_row(xb + (ci + c) * HW, iy0 + int(ky), ix0, live && has, xr[c * K + ky]);
                const uint wk = w_off + (ci + c) * KK * wt_stride + co0 / 4;  // the same texels in every lane
                [[unroll]] for (uint kk = 0; kk < KK; ++kk)
                    [[unroll]] for (uint q = 0; q < TM / 4; ++q)
                        wv[c * KK + kk][q] = has ? texelFetch(w_t, int(wk + kk * wt_stride + q)) : vec4(0.0);
            }
            [[unroll]] for (uint t = 0; t < TM; ++t)
                [[unroll]] for (uint j = 0; j < TN; ++j) {
                    float a = acc[t][j];
                    [[unroll]] for (uint c = 0; c < CB; ++c)
                        [[unroll]] for (uint ky = 0; ky < K; ++ky)
                            [[unroll]] for (uint kx = 0; kx < K; ++kx)
                                a = fma(wv[(c * K + ky) * K + kx][t / 4][t % 4], xr[c * K + ky][j * S + kx], a);
                    acc[t][j] = a;
                }
            continue;
        }
        [[unroll]] for (uint ky = 0; ky < K; ++ky) {
            float xr[RW];
            x_row(xb + ci * HW, iy0 + int(ky), ix0, live, xr);
            [[unroll]] for (uint kx = 0; kx < K; ++kx) {
                const uint k = ci * KK + ky * K + kx;
                [[unroll]] for (uint bb = 0; bb < TMB; ++bb) {
                    const float wl = texelFetch(w_t, int(wrow[bb] + k)).x;
                    [[unroll]] for (uint t = 0; t < TMS; ++t) {
                        const float wt = SUBGROUP ? subgroupBroadcast(wl, t)
                                                  : texelFetch(w_t, int(w_off + min(co0 + bb * TMS + t, Cout - 1) * Cin * KK + k)).x;
                        [[unroll]] for (uint j = 0; j < TN; ++j)
                            acc[bb * TMS + t][j] = fma(wt, xr[j * S + kx], acc[bb * TMS + t][j]);
                    }
                }
            }
        }
    }

    if (SKIP && WT4) {
        // The skip's 1×1: 4 of x2's channels a step, as the K = 1 path above (channels past Cin2 read zeros).
        const uint x2b = x2_off + n * Cin2 * OHW;
        for (uint ci = 0; ci < Cin2; ci += 4) {
            float xr[4][TN];
            vec4 wv[4][(TM + 3) / 4];
            [[unroll]] for (uint c = 0; c < 4; ++c) {
                const bool has = ci + c < Cin2;
                x2_row(x2b + (ci + c) * OHW, oy, ox0, live && has, xr[c]);
                const uint wk = w2_off + (ci + c) * wt_stride + co0 / 4;
                [[unroll]] for (uint q = 0; q < TM / 4; ++q) wv[c][q] = has ? texelFetch(w2_t, int(wk + q)) : vec4(0.0);
            }
            [[unroll]] for (uint t = 0; t < TM; ++t)
                [[unroll]] for (uint j = 0; j < TN; ++j) {
                    float a = acc[t][j];
                    [[unroll]] for (uint c = 0; c < 4; ++c) a = fma(wv[c][t / 4][t % 4], xr[c][j], a);
                    acc[t][j] = a;
                }
        }
    }

    if (!live) return;
    const uint yi = n * Cout * OHW + oy * OW + ox0;  // y's element (n, 0, oy, ox0) less y_off
    [[unroll]] for (uint t = 0; t < TM; ++t) {
        const uint co = co0 + t;
        if (co >= Cout) break;
        float bias = has_bias != 0 ? texelFetch(b_t, int(b_off + co)).x : 0.0;
        if ((epilogue & 1u) != 0) bias += texelFetch(v_t, int(v_off + n * Cout + co)).x;
        if (SKIP) bias += texelFetch(b2_t, int(b2_off + co)).x;
        const uint i = yi + co * OHW;
        if (Y4) {  // ox0 and OW are multiples of 4: each group of 4 pixels is wholly inside the row or outside
            [[unroll]] for (uint q = 0; q < TN / 4; ++q) {
                if (ox0 + 4 * q >= OW) continue;
                vec4 v = vec4(acc[t][4 * q], acc[t][4 * q + 1], acc[t][4 * q + 2], acc[t][4 * q + 3]) + bias;
                if ((epilogue & 2u) != 0)
                    [[unroll]] for (uint e = 0; e < 4; ++e) v[e] += texelFetch(r_t, int(r_off + i + 4 * q + e)).x;
                y4[(y_off + i) / 4 + q] = v;
            }
            continue;
        }
        [[unroll]] for (uint j = 0; j < TN; ++j) {
            if (ox0 + j >= OW) continue;
            const float r = (epilogue & 2u) != 0 ? texelFetch(r_t, int(r_off + i + j)).x : 0.0;
            y[y_off + i + j] = acc[t][j] + bias + r;
        }
    }
}
