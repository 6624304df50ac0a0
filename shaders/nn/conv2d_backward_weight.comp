#version 450
// conv2d backward to the weights and bias (see conv2d_forward.comp for y). y is linear in w and b:
//   ∂y[n,co,oy,ox]/∂w[co,ci,ky,kx] = x[n,ci,oy·S+ky−P,ox·S+kx−P]  and  ∂y[n,co,oy,ox]/∂b[co] = 1, so
//   dw[co,ci,ky,kx] = Σ_{n,oy,ox} dy[n,co,oy,ox] · x[n, ci, oy·S+ky−P, ox·S+kx−P]   (0 outside the image)
//   db[co]          = Σ_{n,oy,ox} dy[n,co,oy,ox]
// dw, db (+)= those sums (`accumulate`).
//
// A GEMM whose reduction runs over the N·OH·OW output pixels. Workgroup (x, y) owns the dw tile of TCI·CPL
// input channels × TCO output channels × K·K taps (and db for its TCO channels when x = 0), so no two
// workgroups write one entry. Inside it:
// - lane t of a subgroup owns input channels ci0 + c·TCI + t (c < CPL) and keeps CPL·TCO·K·K accumulators;
// - a subgroup walks pixel groups (n, oy, TN consecutive ox) together; per group each lane loads the x row
//   segments of its channels, the TCO·TN dy values are loaded once per subgroup (spread over the lanes) and
//   shared by subgroupBroadcast — one dy load feeds TCI·CPL·K·K FMAs (CPL > 1 pays for K = 1);
// - the WG/TCI subgroups take every (WG/TCI)-th pixel group, then their tiles are summed through shared
//   memory in a fixed order. Deterministic, no atomics.
// With DT4 (CPU drivers) dy comes channel-last, [N,OH,OW,Cpad] (nn/conv2d_nhwc.comp), and every lane reads the
// same RGBA32F texels, 4 channels of one pixel a fetch: TCO·TN/4 fetches per step instead of TCO·TN/TCI loads and
// TCO·TN broadcasts (on llvmpipe the broadcasts would be more than half of each step).
// Split (GPUs, diffusion/model/conv.cpp): with Z = gl_NumWorkGroups.z > 1, workgroup z takes pixel groups
// z·NSG + sg, stepping NSG·Z, and writes its partial tile at dw_off/db_off + z·split_stride of a scratch
// buffer; nn/conv2d_dw_reduce.comp then adds the Z partials in order. Z = 1, split_stride = 0 is the above.
// Reference: tests/reference/conv2d.cpp (ref::conv2d_backward, dw and db); tests: tests/test_nn_layers.cpp (conv*
//   rows, tests/nn_runners_conv.cpp run_conv)
#extension GL_KHR_shader_subgroup_basic : enable
#extension GL_KHR_shader_subgroup_ballot : enable
#extension GL_EXT_control_flow_attributes : enable

layout(local_size_x_id = 0) in;                       // WG, a multiple of the subgroup size and of TCI
layout(constant_id = 1) const uint TCO = 16;          // output channels per workgroup
layout(constant_id = 2) const uint TN = 8;            // consecutive output pixels per step
layout(constant_id = 3) const uint K = 3;
layout(constant_id = 4) const uint S = 1;
layout(constant_id = 5) const uint TCI = 8;           // input channels per workgroup = lanes used (≤ subgroup size)
layout(constant_id = 6) const bool SUBGROUP = true;   // false: each invocation loads all dy values itself
layout(constant_id = 7) const uint CPL = 1;           // input channels per lane
layout(constant_id = 8) const bool DT4 = false;       // dy channel-last as RGBA32F texels (TCO a multiple of 4)

layout(binding = 0) uniform samplerBuffer x_t;  // X: read as texels (see docs/PERFORMANCE.md)
layout(binding = 1) uniform samplerBuffer dy_t;  // DY as texels, or with DT4 channel-last as RGBA32F texels
layout(std430, binding = 2) buffer DW { float dw[]; };
layout(std430, binding = 3) buffer DB { float db[]; };
layout(push_constant) uniform Push {
    uint N, Cin, H, W, Cout, OH, OW;
    uint x_off, dy_off, dw_off, db_off;
    uint has_bias, accumulate;
    uint split_stride;  // floats between the partial tiles of workgroups z and z + 1 (0 when Z = 1)
    uint dt_stride;     // DT4: texels per pixel of the channel-last dy, Cpad/4 (dy_off counts texels)
};

const uint KK = K * K;
const int PAD = int(K / 2);
const uint RW = S * (TN - 1) + K;              // x values of one row segment
const uint NV = TCO * TN;                      // dy values per step
const uint NL = DT4 ? 1 : SUBGROUP ? (NV + TCI - 1) / TCI : NV;  // dy values each lane loads
const uint NACC = CPL * TCO * KK + TCO;        // per lane: the dw tile of its channels, and db
shared float partial[gl_WorkGroupSize.x * NACC];

void main() {
    const uint lid = gl_LocalInvocationID.x, WG = gl_WorkGroupSize.x;
    // Without subgroup operations, TCI consecutive invocations play a subgroup (each loads all dy itself).
    const uint NSG = SUBGROUP ? gl_NumSubgroups : WG / TCI, sg = SUBGROUP ? gl_SubgroupID : lid / TCI;
    const uint lane = SUBGROUP ? gl_SubgroupInvocationID : lid % TCI;  // lanes ≥ TCI duplicate, never store
    const uint OHW = OH * OW, HW = H * W, GW = (OW + TN - 1) / TN;
    const uint ci0 = gl_WorkGroupID.x * TCI * CPL, co0 = gl_WorkGroupID.y * TCO;
    uint cis[CPL];  // channels past Cin compute a real channel, never stored
    [[unroll]] for (uint l = 0; l < CPL; ++l) cis[l] = min(ci0 + l * TCI + lane % TCI, Cin - 1);

    float acc[CPL][TCO][KK], accb[TCO];
    [[unroll]] for (uint c = 0; c < TCO; ++c) {
        accb[c] = 0.0;
        [[unroll]] for (uint l = 0; l < CPL; ++l)
            [[unroll]] for (uint k = 0; k < KK; ++k) acc[l][c][k] = 0.0;
    }

    // Walk the pixel groups q = q0, q0 + step, … as (n, oy, g) without dividing in the loop.
    const uint q0 = gl_WorkGroupID.z * NSG + sg, step = NSG * gl_NumWorkGroups.z;
    uint g = q0 % GW, oy = (q0 / GW) % OH, n = q0 / (GW * OH);
    const uint dg = step % GW, doy = (step / GW) % OH, dn = step / (GW * OH);
    while (n < N) {  // uniform within a subgroup
        const uint ox0 = g * TN;
        // dy[n, co0 + c, oy, ox0 + j] for value v = c·TN + j; with subgroups, lane t loads v = t + TCI·s.
        float gv[TCO][TN];
        if (DT4) {
            // dy[n, oy, ox0 + j, co0 + 4q … +3]: the same texels in every lane; pixels past the row read 0
            const uint pb = dy_off + ((n * OH + oy) * OW + ox0) * dt_stride + co0 / 4;
            [[unroll]] for (uint j = 0; j < TN; ++j) {
                const bool in_row = ox0 + j < OW;
                [[unroll]] for (uint q = 0; q < TCO / 4; ++q) {
                    const vec4 d4 = in_row ? texelFetch(dy_t, int(pb + j * dt_stride + q)) : vec4(0.0);
                    [[unroll]] for (uint c = 0; c < 4; ++c) gv[q * 4 + c][j] = d4[c];
                }
            }
        } else {
            float dyl[NL];
            [[unroll]] for (uint s = 0; s < NL; ++s) {
                const uint v = SUBGROUP ? lane + TCI * s : s, c = v / TN, j = v % TN;
                dyl[s] = 0.0;
                if (v < NV && co0 + c < Cout && ox0 + j < OW) dyl[s] = texelFetch(dy_t, int(dy_off + ((n * Cout + co0 + c) * OH + oy) * OW + ox0 + j)).x;
            }
            [[unroll]] for (uint v = 0; v < NV; ++v)
                gv[v / TN][v % TN] = SUBGROUP ? subgroupBroadcast(dyl[v / TCI], v % TCI) : dyl[v];
        }
        [[unroll]] for (uint c = 0; c < TCO; ++c)
            [[unroll]] for (uint j = 0; j < TN; ++j) accb[c] += gv[c][j];

        const int ix0 = int(ox0 * S) - PAD;
        [[unroll]] for (uint l = 0; l < CPL; ++l) {
            const uint xb = x_off + (n * Cin + cis[l]) * HW;
            [[unroll]] for (uint ky = 0; ky < K; ++ky) {
                const int iy = int(oy * S) + int(ky) - PAD;
                const bool row_in = uint(iy) < H;
                float xr[RW];
                [[unroll]] for (uint r = 0; r < RW; ++r) {
                    const int ix = ix0 + int(r);
                    xr[r] = 0.0;
                    if (row_in && uint(ix) < W) xr[r] = texelFetch(x_t, int(xb + uint(iy) * W + uint(ix))).x;
                }
                [[unroll]] for (uint kx = 0; kx < K; ++kx)
                    [[unroll]] for (uint c = 0; c < TCO; ++c)
                        [[unroll]] for (uint j = 0; j < TN; ++j)
                            acc[l][c][ky * K + kx] = fma(gv[c][j], xr[j * S + kx], acc[l][c][ky * K + kx]);
            }
        }

        g += dg;
        if (g >= GW) { g -= GW; oy += 1; }
        oy += doy;
        if (oy >= OH) { oy -= OH; n += 1; }
        n += dn;
    }

    // partial[(e·NSG + sg)·TCI + lane]: sum over the subgroups in order.
    if (lane < TCI) {
        [[unroll]] for (uint c = 0; c < TCO; ++c) {
            [[unroll]] for (uint l = 0; l < CPL; ++l)
                [[unroll]] for (uint k = 0; k < KK; ++k)
                    partial[(((l * TCO + c) * KK + k) * NSG + sg) * TCI + lane] = acc[l][c][k];
            partial[((CPL * TCO * KK + c) * NSG + sg) * TCI + lane] = accb[c];
        }
    }
    barrier();

    const bool do_bias = has_bias != 0 && gl_WorkGroupID.x == 0;
    const uint part = gl_WorkGroupID.z * split_stride;
    for (uint i = lid; i < NACC * TCI; i += WG) {
        const uint e = i / TCI, t = i % TCI;
        float s = 0.0;
        for (uint q = 0; q < NSG; ++q) s += partial[(e * NSG + q) * TCI + t];
        if (e < CPL * TCO * KK) {
            const uint l = e / (TCO * KK), co = co0 + (e / KK) % TCO, cin = ci0 + l * TCI + t;
            if (co < Cout && cin < Cin) {
                const uint d = part + dw_off + (co * Cin + cin) * KK + e % KK;
                dw[d] = accumulate != 0 ? dw[d] + s : s;
            }
        } else if (do_bias && t == 0) {
            const uint co = co0 + (e - CPL * TCO * KK);
            if (co < Cout) {
                const uint d = part + db_off + co;
                db[d] = accumulate != 0 ? db[d] + s : s;
            }
        }
    }
}
