#version 450
// conv2d forward, NCHW, weight [Cout,Cin,K,K] (PyTorch), K ∈ {1,3}, stride S ∈ {1,2}, padding P = K/2:
//   y[n,co,oy,ox] = b[co] + Σ_{ci<Cin} Σ_{ky,kx<K} w[co,ci,ky,kx] · x[n, ci, oy·S+ky−P, ox·S+kx−P]
// taps outside the image read 0; OH = (H + 2P − K)/S + 1, likewise OW.
//
// Implicit GEMM, y[co, pixel] = Σ_k w[co, k] · im2col(x)[k, pixel] with k = (ci,ky,kx), pixel = (n,oy,ox).
// Register tiling: an invocation owns TM output channels × TN pixels (TM·TN accumulators). Lane t of a
// subgroup loads the weight of channel co0 + t and subgroupBroadcast hands it to every lane, so one load
// per lane feeds TM·TN FMAs; an invocation's TN pixels are WG apart, so a subgroup reads consecutive x.
// Workgroup (x, y) = (block of WG·TN pixels, block of TM channels).
#extension GL_KHR_shader_subgroup_basic : enable
#extension GL_KHR_shader_subgroup_ballot : enable
#extension GL_EXT_control_flow_attributes : enable

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint TM = 8;            // output channels per invocation (≤ subgroup size)
layout(constant_id = 2) const uint TN = 4;            // pixels per invocation
layout(constant_id = 3) const uint K = 3;
layout(constant_id = 4) const uint S = 1;
layout(constant_id = 5) const bool SUBGROUP = true;   // false: each invocation loads its TM weights itself

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Wt { float w[]; };
layout(std430, binding = 2) readonly buffer B { float b[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push {
    uint N, Cin, H, W, Cout, OH, OW;
    uint x_off, w_off, b_off, y_off;  // element offsets of x[0], w[0], b[0], y[0]
    uint has_bias;
};

const uint KK = K * K;
const int PAD = int(K / 2);

void main() {
    const uint lid = gl_LocalInvocationID.x, WG = gl_WorkGroupSize.x;
    const uint OHW = OH * OW, HW = H * W, npix = N * OHW;
    const uint co0 = gl_WorkGroupID.y * TM;

    // This invocation's pixels: where their receptive fields start in x, where they go in y.
    uint xbase[TN], ybase[TN];
    int iy0[TN], ix0[TN];
    bool live[TN];
    [[unroll]] for (uint j = 0; j < TN; ++j) {
        uint p = (gl_WorkGroupID.x * TN + j) * WG + lid;
        live[j] = p < npix;
        p = live[j] ? p : 0;  // dead lanes still compute (they take part in the broadcasts), never store
        uint n = p / OHW, r = p - n * OHW;
        uint oy = r / OW, ox = r - oy * OW;
        xbase[j] = x_off + n * Cin * HW;
        ybase[j] = y_off + n * Cout * OHW + r;
        iy0[j] = int(oy * S) - PAD;
        ix0[j] = int(ox * S) - PAD;
    }

    // The weight row this lane loads (lanes ≥ TM duplicate; channels past Cout load a real row and are dropped).
    const uint lane = SUBGROUP ? gl_SubgroupInvocationID % TM : 0;
    const uint wrow = w_off + min(co0 + lane, Cout - 1) * Cin * KK;

    float acc[TM][TN];
    [[unroll]] for (uint t = 0; t < TM; ++t)
        [[unroll]] for (uint j = 0; j < TN; ++j) acc[t][j] = 0.0;

    for (uint ci = 0; ci < Cin; ++ci) {
        [[unroll]] for (uint ky = 0; ky < K; ++ky) {
            [[unroll]] for (uint kx = 0; kx < K; ++kx) {
                float xv[TN];
                [[unroll]] for (uint j = 0; j < TN; ++j) {
                    int iy = iy0[j] + int(ky), ix = ix0[j] + int(kx);
                    xv[j] = 0.0;
                    if (uint(iy) < H && uint(ix) < W) xv[j] = x[xbase[j] + ci * HW + uint(iy) * W + uint(ix)];
                }
                const uint k = ci * KK + ky * K + kx;
                const float wl = w[wrow + k];
                [[unroll]] for (uint t = 0; t < TM; ++t) {
                    float wt = SUBGROUP ? subgroupBroadcast(wl, t) : w[w_off + min(co0 + t, Cout - 1) * Cin * KK + k];
                    [[unroll]] for (uint j = 0; j < TN; ++j) acc[t][j] = fma(wt, xv[j], acc[t][j]);
                }
            }
        }
    }

    [[unroll]] for (uint t = 0; t < TM; ++t) {
        const uint co = co0 + t;
        if (co >= Cout) break;
        const float bias = has_bias != 0 ? b[b_off + co] : 0.0;
        [[unroll]] for (uint j = 0; j < TN; ++j)
            if (live[j]) y[ybase[j] + co * OHW] = acc[t][j] + bias;
    }
}
