#version 450
// conv2d backward to the input (see conv2d_forward.comp for y). With L a function of y and dy = ∂L/∂y:
//   x[n,ci,iy,ix] appears in y[n,co,oy,ox] with weight w[co,ci,ky,kx] exactly when iy = oy·S + ky − P and
//   ix = ox·S + kx − P, so
//   dx[n,ci,iy,ix] = Σ_{co<Cout} Σ_{ky,kx<K} w[co,ci,ky,kx] · dy[n, co, (iy+P−ky)/S, (ix+P−kx)/S]
//   over the taps where both divisions are exact and land inside dy (a transposed convolution).
// dx (+)= that sum: `accumulate` adds to what dx holds (a tensor read by two layers sums their gradients).
//
// The forward's tiling with Cin and Cout swapped: an invocation owns TMB·TMS input channels × TN consecutive
// input pixels of one row; lane t loads w[co, ci0 + b·TMS + t, ky, kx] and subgroupBroadcast shares it; for
// each (co, ky) the invocation loads the dy row segment its TN pixels read once. TN is even and the first
// pixel ix0 a multiple of TN, so for S = 2 which (pixel, kx) pairs divide exactly is known at compile time.
// With WT4 (CPU drivers) the weights come pre-transposed to [Cout,K,K,Cinpad] and every lane reads the same
// RGBA32F texel, 4 input channels per fetch (see conv2d_forward.comp).
// Stride 2: a dispatch covers the rows of one parity PAR, for which the taps ky whose rows divide exactly are known
// at compile time, as the kx are: half the stride-1 kernel's FMAs and dy rows are skipped rather than computed
// with zeros (llvmpipe executes both sides of a branch, so only a compile-time choice skips work).
// Workgroup (x, y) = (WG invocations over (n, iy, ix/TN), block of TMB·TMS input channels).
// Reference: tests/reference/conv2d.cpp (ref::conv2d_backward, dx); tests: tests/test_nn_layers.cpp (conv* rows,
//   tests/nn_runners_conv.cpp run_conv)
#extension GL_KHR_shader_subgroup_basic : enable
#extension GL_KHR_shader_subgroup_ballot : enable
#extension GL_EXT_control_flow_attributes : enable

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint TMB = 2;           // channel blocks per invocation
layout(constant_id = 2) const uint TN = 8;            // consecutive input pixels per invocation (even)
layout(constant_id = 3) const uint K = 3;
layout(constant_id = 4) const uint S = 1;
layout(constant_id = 5) const uint TMS = 8;           // channels per block (≤ subgroup size when SUBGROUP)
layout(constant_id = 6) const bool SUBGROUP = true;
layout(constant_id = 7) const bool WT4 = false;       // weights [Cout,K,K,Cinpad] as RGBA32F texels (TMS = 4)
layout(constant_id = 8) const bool X4 = false;        // dy read as RGBA32F texels: OW, dy_off and TN/S multiples of 4
layout(constant_id = 9) const bool Y4 = false;        // dx written (and accumulated) 4 values an access: W, dx_off, TN
layout(constant_id = 10) const uint PAR = 0;          // S = 2: this dispatch's rows iy ≡ PAR (mod 2)

layout(binding = 0) uniform samplerBuffer dy_t;  // DY: read as texels (see docs/PERFORMANCE.md); X4: RGBA32F
layout(binding = 1) uniform samplerBuffer w_t;  // W, or with WT4 its transpose as RGBA32F texels
layout(std430, binding = 2) buffer DX { float dx[]; };
layout(std430, binding = 2) buffer DX4v { vec4 dx4[]; };  // the same buffer (Y4)
layout(push_constant) uniform Push {
    uint N, Cin, H, W, Cout, OH, OW;
    uint dy_off, w_off, dx_off;       // element offsets (WT4: w_off counts texels)
    uint accumulate;
    uint wt_stride;                   // WT4: texels per (co, ky, kx) row of the transposed weights, Cinpad/4
};

const uint KK = K * K;
const int PAD = int(K / 2);
const uint TM = TMB * TMS;
// Pixel t, tap kx reads dy column ix0/S + (t + P − kx)/S when S divides t + P − kx (≥ −P ≥ −1).
const int JMIN = -PAD / int(S);                 // −1 for S = 1, K = 3; else 0
const int JMAX = (int(TN) - 1 + PAD) / int(S);
const uint RW = uint(JMAX - JMIN + 1);          // dy values of one row segment
// X4: the segment starts −JMIN values before a texel boundary (ox0 is a multiple of 4), so it spans NT texels,
// each wholly inside the row or wholly outside.
const uint XO = JMIN < 0 ? uint(4 + JMIN) : 0u, NT = (XO + RW + 3) / 4;
const uint CB = K == 1 ? 4 : 1;                 // WT4: output channels per step (K = 1 has few FMAs per channel)
// Whether tap row ky reaches a dy row from this dispatch's rows: always for S = 1; for S = 2 when iy + P − ky is
// even, iy ≡ PAR.
bool row_tap(uint ky) { return S == 1 || ((PAR + uint(PAD) + ky) & 1u) == 0u; }

// The RW values of dy row ty/S from column ox0 + JMIN on (0 outside dy, or where S does not divide ty) from
// the channel plane at dyc.
void dy_row(uint dyc, int ty, int ox0, bool live, out float gr[RW]) {
    const int oy = ty / int(S);
    const bool row_in = live && ty >= 0 && oy * int(S) == ty && oy < int(OH);
    const uint dyrow = dyc + uint(oy) * OW;
    if (X4) {
        vec4 gt[NT];
        [[unroll]] for (uint q = 0; q < NT; ++q) {
            const int ox = ox0 + JMIN - int(XO) + 4 * int(q);  // the texel's first value, a multiple of 4
            gt[q] = vec4(0.0);
            if (row_in && uint(ox) < OW) gt[q] = texelFetch(dy_t, int((dyrow + uint(ox)) / 4));
        }
        [[unroll]] for (uint r = 0; r < RW; ++r) gr[r] = gt[(XO + r) / 4][(XO + r) % 4];
        return;
    }
    [[unroll]] for (uint r = 0; r < RW; ++r) {
        const int ox = ox0 + JMIN + int(r);
        gr[r] = 0.0;
        if (row_in && uint(ox) < OW) gr[r] = texelFetch(dy_t, int(dyrow + uint(ox))).x;
    }
}

void main() {
    const uint OHW = OH * OW, HW = H * W, GW = (W + TN - 1) / TN;
    const uint RH = S == 2 ? (H + 1 - PAR) / 2 : H;  // rows of this dispatch
    uint p = gl_WorkGroupID.x * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    const bool live = p < N * RH * GW;
    p = live ? p : 0;
    const uint g = p % GW, row = p / GW, n = row / RH, iy = S == 2 ? 2 * (row % RH) + PAR : row % H, ix0 = g * TN;
    const uint dyb = dy_off + n * Cout * OHW;
    const int ox0 = int(ix0 / S);
    const uint ci0 = gl_WorkGroupID.y * TM;

    const uint lane = SUBGROUP ? gl_SubgroupInvocationID % TMS : 0;
    uint wcol[TMB];
    [[unroll]] for (uint bb = 0; bb < TMB; ++bb) wcol[bb] = w_off + min(ci0 + bb * TMS + lane, Cin - 1) * KK;

    float acc[TM][TN];
    [[unroll]] for (uint t = 0; t < TM; ++t)
        [[unroll]] for (uint j = 0; j < TN; ++j) acc[t][j] = 0.0;

    for (uint co = 0; co < Cout; co += WT4 ? CB : 1) {
        if (WT4) {
            // CB channels' K rows and K² taps' weights first, then each accumulator takes all its FMAs in a row:
            // it is loaded and stored once per CB·K² taps instead of once per tap (see conv2d_forward.comp).
            float gr[CB * K][RW];
            vec4 wv[CB * KK][(TM + 3) / 4];  // (TM is a multiple of 4 with WT4)
            [[unroll]] for (uint c = 0; c < CB; ++c) {
                const bool has = co + c < Cout;
                [[unroll]] for (uint ky = 0; ky < K; ++ky) {
                    if (!row_tap(ky)) continue;  // compile-time
                    dy_row(dyb + (co + c) * OHW, int(iy) + PAD - int(ky), ox0, live && has, gr[c * K + ky]);
                }
                const uint wk = w_off + (co + c) * KK * wt_stride + ci0 / 4;  // the same texels in every lane
                [[unroll]] for (uint kk = 0; kk < KK; ++kk) {
                    if (!row_tap(kk / K)) continue;
                    [[unroll]] for (uint q = 0; q < TM / 4; ++q)
                        wv[c * KK + kk][q] = has ? texelFetch(w_t, int(wk + kk * wt_stride + q)) : vec4(0.0);
                }
            }
            [[unroll]] for (uint t = 0; t < TM; ++t)
                [[unroll]] for (uint j = 0; j < TN; ++j) {
                    float a = acc[t][j];
                    [[unroll]] for (uint c = 0; c < CB; ++c)
                        [[unroll]] for (uint ky = 0; ky < K; ++ky)
                            [[unroll]] for (uint kx = 0; kx < K; ++kx) {
                                if (!row_tap(ky)) continue;
                                const int num = int(j) + PAD - int(kx);
                                if (S == 2 && (num & 1) != 0) continue;  // compile-time: no exact division
                                a = fma(wv[(c * K + ky) * K + kx][t / 4][t % 4], gr[c * K + ky][num / int(S) - JMIN], a);
                            }
                    acc[t][j] = a;
                }
            continue;
        }
        [[unroll]] for (uint ky = 0; ky < K; ++ky) {
            if (!row_tap(ky)) continue;  // compile-time
            float gr[RW];
            dy_row(dyb + co * OHW, int(iy) + PAD - int(ky), ox0, live, gr);
            [[unroll]] for (uint kx = 0; kx < K; ++kx) {
                const uint k = co * Cin * KK + ky * K + kx;
                [[unroll]] for (uint bb = 0; bb < TMB; ++bb) {
                    const float wl = texelFetch(w_t, int(wcol[bb] + k)).x;
                    [[unroll]] for (uint t = 0; t < TMS; ++t) {
                        const float wt = SUBGROUP ? subgroupBroadcast(wl, t)
                                                  : texelFetch(w_t, int(w_off + min(ci0 + bb * TMS + t, Cin - 1) * KK + k)).x;
                        [[unroll]] for (uint j = 0; j < TN; ++j) {
                            const int num = int(j) + PAD - int(kx);
                            if (S == 2 && (num & 1) != 0) continue;  // compile-time: no exact division
                            acc[bb * TMS + t][j] = fma(wt, gr[num / int(S) - JMIN], acc[bb * TMS + t][j]);
                        }
                    }
                }
            }
        }
    }

    if (!live) return;
    const uint xb = dx_off + n * Cin * HW + iy * W + ix0;
    [[unroll]] for (uint t = 0; t < TM; ++t) {
        const uint ci = ci0 + t;
        if (ci >= Cin) break;
        if (Y4) {  // ix0 and W are multiples of 4: each group of 4 pixels is wholly inside the row or outside
            [[unroll]] for (uint q = 0; q < TN / 4; ++q) {
                if (ix0 + 4 * q >= W) continue;
                const uint i = (xb + ci * HW) / 4 + q;
                const vec4 v = vec4(acc[t][4 * q], acc[t][4 * q + 1], acc[t][4 * q + 2], acc[t][4 * q + 3]);
                dx4[i] = accumulate != 0 ? dx4[i] + v : v;
            }
            continue;
        }
        [[unroll]] for (uint j = 0; j < TN; ++j) {
            if (ix0 + j >= W) continue;
            const uint i = xb + ci * HW + j;
            dx[i] = accumulate != 0 ? dx[i] + acc[t][j] : acc[t][j];
        }
    }
}
