#version 450
// conv2d backward to the weights and bias with the pixels split across lanes (CPU drivers; the sums are those of
// conv2d_backward_weight.comp):
//   dw[co,ci,ky,kx] = Σ_{n,oy,ox} dy[n,co,oy,ox] · x[n, ci, oy·S+ky−P, ox·S+kx−P],   db[co] = Σ dy[n,co,oy,ox]
// Shaped like the forward's CPU path rather than as lanes over input channels: every lane owns the whole
// TCO × TCI × K² tile of its workgroup and walks its own pixel groups (n, oy, TN consecutive ox). Per group it
// loads TCO dy row segments and TCI·K x row segments, then each accumulator takes its TN FMAs in a row (the
// accumulators live in memory on a CPU: one load and store per TN FMAs). At the end subgroupAdd sums the lanes
// and lane 0 writes the tile. Workgroup = one subgroup (the host takes this kernel on CPU drivers only, where
// subgroup-size workgroups are exactly that); (x, y) = (TCI input channels, TCO output channels).
// Split: workgroup z of Z takes pixel groups z·WG + lane, stepping Z·WG, and writes its partial tile at
// dw_off/db_off + z·split_stride of a scratch buffer that nn/conv2d_dw_reduce.comp sums in order; Z = 1 writes
// dw and db themselves (+= with `accumulate`).
// X4 / D4: x / dy rows as RGBA32F texels (W or OW, the offset and TN·S or TN multiples of 4).
// Reference: tests/reference/conv2d.cpp (ref::conv2d_backward, dw and db); tests: tests/test_nn_layers.cpp (conv*
//   rows on CPU drivers, tests/nn_runners_conv.cpp run_conv)
#extension GL_KHR_shader_subgroup_basic : enable
#extension GL_KHR_shader_subgroup_arithmetic : enable
#extension GL_EXT_control_flow_attributes : enable

layout(local_size_x_id = 0) in;                       // the subgroup size
layout(constant_id = 1) const uint TCO = 8;           // output channels per workgroup
layout(constant_id = 2) const uint TN = 8;            // consecutive output pixels per step
layout(constant_id = 3) const uint K = 3;
layout(constant_id = 4) const uint S = 1;
layout(constant_id = 5) const uint TCI = 4;           // input channels per workgroup
layout(constant_id = 6) const bool X4 = false;
layout(constant_id = 7) const bool D4 = false;

layout(binding = 0) uniform samplerBuffer x_t;   // X (R32F, or RGBA32F with X4)
layout(binding = 1) uniform samplerBuffer dy_t;  // DY (R32F, or RGBA32F with D4)
layout(std430, binding = 2) buffer DW { float dw[]; };
layout(std430, binding = 3) buffer DB { float db[]; };
layout(push_constant) uniform Push {
    uint N, Cin, H, W, Cout, OH, OW;
    uint x_off, dy_off, dw_off, db_off;
    uint has_bias, accumulate;
    uint split_stride;  // floats between the partial tiles of workgroups z and z + 1 (0 when Z = 1)
    uint dt_stride;     // unused here: the push block of conv2d_backward_weight.comp, which the host shares
};

const uint KK = K * K;
const int PAD = int(K / 2);
const uint RW = S * (TN - 1) + K;                               // x values of one row segment
const uint XO = PAD > 0 ? 4 - PAD : 0, NT = (XO + RW + 3) / 4;  // X4: as in conv2d_forward.comp
const uint NTD = (TN + 3) / 4;                                  // D4: dy texels of one segment

#include "nn/conv_row.glsl"

void main() {
    const uint lane = gl_SubgroupInvocationID, WG = gl_WorkGroupSize.x;
    const uint OHW = OH * OW, HW = H * W, GW = (OW + TN - 1) / TN;
    const uint ci0 = gl_WorkGroupID.x * TCI, co0 = gl_WorkGroupID.y * TCO;

    float acc[TCO][TCI][KK], accb[TCO];
    [[unroll]] for (uint c = 0; c < TCO; ++c) {
        accb[c] = 0.0;
        [[unroll]] for (uint t = 0; t < TCI; ++t)
            [[unroll]] for (uint k = 0; k < KK; ++k) acc[c][t][k] = 0.0;
    }

    const uint groups = N * OH * GW, step = WG * gl_NumWorkGroups.z;
    for (uint q = gl_WorkGroupID.z * WG + lane; q < groups; q += step) {
        const uint g = q % GW, oy = (q / GW) % OH, n = q / (GW * OH), ox0 = g * TN;
        float gv[TCO][TN];
        [[unroll]] for (uint c = 0; c < TCO; ++c) {
            const bool has = co0 + c < Cout;
            const uint drow = dy_off + ((n * Cout + co0 + c) * OH + oy) * OW;
            if (D4) {
                [[unroll]] for (uint u = 0; u < NTD; ++u) {
                    const vec4 d4 = has && ox0 + 4 * u < OW ? texelFetch(dy_t, int((drow + ox0) / 4 + u)) : vec4(0.0);
                    [[unroll]] for (uint e = 0; e < 4; ++e)
                        if (4 * u + e < TN) gv[c][4 * u + e] = d4[e];
                }
            } else {
                [[unroll]] for (uint j = 0; j < TN; ++j)
                    gv[c][j] = has && ox0 + j < OW ? texelFetch(dy_t, int(drow + ox0 + j)).x : 0.0;
            }
            [[unroll]] for (uint j = 0; j < TN; ++j) accb[c] += gv[c][j];
        }
        const int ix0 = int(ox0 * S) - PAD;
        float xr[TCI][K][RW];
        [[unroll]] for (uint t = 0; t < TCI; ++t)
            [[unroll]] for (uint ky = 0; ky < K; ++ky)
                x_row(x_off + (n * Cin + ci0 + t) * HW, int(oy * S + ky) - PAD, ix0, ci0 + t < Cin, xr[t][ky]);
        [[unroll]] for (uint c = 0; c < TCO; ++c)
            [[unroll]] for (uint t = 0; t < TCI; ++t)
                [[unroll]] for (uint ky = 0; ky < K; ++ky)
                    [[unroll]] for (uint kx = 0; kx < K; ++kx) {
                        float a = acc[c][t][ky * K + kx];
                        [[unroll]] for (uint j = 0; j < TN; ++j) a = fma(gv[c][j], xr[t][ky][j * S + kx], a);
                        acc[c][t][ky * K + kx] = a;
                    }
    }

    const uint part = gl_WorkGroupID.z * split_stride;
    const bool add = accumulate != 0 && split_stride == 0;
    [[unroll]] for (uint c = 0; c < TCO; ++c) {
        const uint co = co0 + c;
        [[unroll]] for (uint t = 0; t < TCI; ++t)
            [[unroll]] for (uint k = 0; k < KK; ++k) {
                const float s = subgroupAdd(acc[c][t][k]);
                if (lane == 0 && co < Cout && ci0 + t < Cin) {
                    const uint d = part + dw_off + (co * Cin + ci0 + t) * KK + k;
                    dw[d] = add ? dw[d] + s : s;
                }
            }
        const float sb = subgroupAdd(accb[c]);
        if (lane == 0 && has_bias != 0 && gl_WorkGroupID.x == 0 && co < Cout) {
            const uint d = part + db_off + co;
            db[d] = add ? db[d] + sb : sb;
        }
    }
}
