#version 450
// conv2d backward to the input (see conv2d_forward.comp for y). With L a function of y and dy = ∂L/∂y:
//   x[n,ci,iy,ix] appears in y[n,co,oy,ox] with weight w[co,ci,ky,kx] exactly when iy = oy·S + ky − P and
//   ix = ox·S + kx − P, so
//   dx[n,ci,iy,ix] = Σ_{co<Cout} Σ_{ky,kx<K} w[co,ci,ky,kx] · dy[n, co, (iy+P−ky)/S, (ix+P−kx)/S]
//   over the taps where both divisions are exact and land inside dy (a transposed convolution).
// dx (+)= that sum: `accumulate` adds to what dx holds (a tensor read by two layers sums their gradients).
//
// The same implicit GEMM as the forward with the roles of Cin and Cout swapped: an invocation owns TM input
// channels × TN input pixels; lane t loads w[co, ci0+t, ky, kx] and subgroupBroadcast shares it.
// Workgroup (x, y) = (block of WG·TN input pixels, block of TM input channels).
#extension GL_KHR_shader_subgroup_basic : enable
#extension GL_KHR_shader_subgroup_ballot : enable
#extension GL_EXT_control_flow_attributes : enable

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint TM = 8;            // input channels per invocation (≤ subgroup size)
layout(constant_id = 2) const uint TN = 4;            // input pixels per invocation
layout(constant_id = 3) const uint K = 3;
layout(constant_id = 4) const uint S = 1;
layout(constant_id = 5) const bool SUBGROUP = true;

layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) readonly buffer Wt { float w[]; };
layout(std430, binding = 2) buffer DX { float dx[]; };
layout(push_constant) uniform Push {
    uint N, Cin, H, W, Cout, OH, OW;
    uint dy_off, w_off, dx_off;
    uint accumulate;
};

const uint KK = K * K;
const int PAD = int(K / 2);

void main() {
    const uint lid = gl_LocalInvocationID.x, WG = gl_WorkGroupSize.x;
    const uint OHW = OH * OW, HW = H * W, npix = N * HW;
    const uint ci0 = gl_WorkGroupID.y * TM;

    uint dybase[TN], dxbase[TN];
    int ty0[TN], tx0[TN];  // iy + P, ix + P: the tap ky reads dy row (ty0 − ky)/S
    bool live[TN];
    [[unroll]] for (uint j = 0; j < TN; ++j) {
        uint p = (gl_WorkGroupID.x * TN + j) * WG + lid;
        live[j] = p < npix;
        p = live[j] ? p : 0;
        uint n = p / HW, r = p - n * HW;
        uint iy = r / W, ix = r - iy * W;
        dybase[j] = dy_off + n * Cout * OHW;
        dxbase[j] = dx_off + n * Cin * HW + r;
        ty0[j] = int(iy) + PAD;
        tx0[j] = int(ix) + PAD;
    }

    const uint lane = SUBGROUP ? gl_SubgroupInvocationID % TM : 0;
    const uint wcol = w_off + min(ci0 + lane, Cin - 1) * KK;

    float acc[TM][TN];
    [[unroll]] for (uint t = 0; t < TM; ++t)
        [[unroll]] for (uint j = 0; j < TN; ++j) acc[t][j] = 0.0;

    for (uint co = 0; co < Cout; ++co) {
        [[unroll]] for (uint ky = 0; ky < K; ++ky) {
            [[unroll]] for (uint kx = 0; kx < K; ++kx) {
                float gv[TN];
                [[unroll]] for (uint j = 0; j < TN; ++j) {
                    int ty = ty0[j] - int(ky), tx = tx0[j] - int(kx);
                    uint oy = uint(ty) / S, ox = uint(tx) / S;
                    gv[j] = 0.0;
                    // ty, tx ≥ 0 (uint casts of negatives are huge), exact division, inside dy
                    if (ty >= 0 && tx >= 0 && uint(ty) == oy * S && uint(tx) == ox * S && oy < OH && ox < OW)
                        gv[j] = dy[dybase[j] + co * OHW + oy * OW + ox];
                }
                const uint k = co * Cin * KK + ky * K + kx;
                const float wl = w[wcol + k];
                [[unroll]] for (uint t = 0; t < TM; ++t) {
                    float wt = SUBGROUP ? subgroupBroadcast(wl, t) : w[w_off + min(ci0 + t, Cin - 1) * KK + k];
                    [[unroll]] for (uint j = 0; j < TN; ++j) acc[t][j] = fma(wt, gv[j], acc[t][j]);
                }
            }
        }
    }

    [[unroll]] for (uint t = 0; t < TM; ++t) {
        const uint ci = ci0 + t;
        if (ci >= Cin) break;
        [[unroll]] for (uint j = 0; j < TN; ++j) {
            if (!live[j]) continue;
            const uint i = dxbase[j] + ci * HW;
            dx[i] = accumulate != 0 ? dx[i] + acc[t][j] : acc[t][j];
        }
    }
}
