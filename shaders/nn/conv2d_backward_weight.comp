#version 450
// conv2d backward to the weights and bias (see conv2d_forward.comp for y). y is linear in w and b:
//   ∂y[n,co,oy,ox]/∂w[co,ci,ky,kx] = x[n,ci,oy·S+ky−P,ox·S+kx−P]  and  ∂y[n,co,oy,ox]/∂b[co] = 1, so
//   dw[co,ci,ky,kx] = Σ_{n,oy,ox} dy[n,co,oy,ox] · x[n, ci, oy·S+ky−P, ox·S+kx−P]   (0 outside the image)
//   db[co]          = Σ_{n,oy,ox} dy[n,co,oy,ox]
// dw, db (+)= those sums (`accumulate`).
//
// A GEMM whose reduction runs over the N·OH·OW output pixels. Workgroup (x, y) owns the dw tile of TCI input
// channels × TCO output channels × K·K taps (and db for its TCO channels when x = 0). Its invocations split
// the pixels (p = lid, lid+WG, …) and each keeps TCO·TCI·K·K accumulators; the WG partial tiles are then
// summed through shared memory in a fixed order. Deterministic, no atomics.
#extension GL_EXT_control_flow_attributes : enable

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint TCO = 4;  // output channels per workgroup
layout(constant_id = 2) const uint TCI = 1;  // input channels per workgroup
layout(constant_id = 3) const uint K = 3;
layout(constant_id = 4) const uint S = 1;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) buffer DW { float dw[]; };
layout(std430, binding = 3) buffer DB { float db[]; };
layout(push_constant) uniform Push {
    uint N, Cin, H, W, Cout, OH, OW;
    uint x_off, dy_off, dw_off, db_off;
    uint has_bias, accumulate;
};

const uint KK = K * K;
const int PAD = int(K / 2);
const uint COLS = TCI * KK;           // dw columns (ci, ky, kx) of the tile
const uint NACC = TCO * COLS + TCO;   // dw tile + db
shared float partial[NACC * gl_WorkGroupSize.x];

void main() {
    const uint lid = gl_LocalInvocationID.x, WG = gl_WorkGroupSize.x;
    const uint OHW = OH * OW, HW = H * W;
    const uint ci0 = gl_WorkGroupID.x * TCI, co0 = gl_WorkGroupID.y * TCO;
    const bool do_bias = has_bias != 0 && gl_WorkGroupID.x == 0;

    float acc[TCO][COLS], accb[TCO];
    [[unroll]] for (uint t = 0; t < TCO; ++t) {
        accb[t] = 0.0;
        [[unroll]] for (uint c = 0; c < COLS; ++c) acc[t][c] = 0.0;
    }

    // Walk the pixels p = lid + i·WG as (n, oy, ox), advancing by WG without dividing in the loop.
    uint n = lid / OHW, oy = (lid % OHW) / OW, ox = lid % OW;
    const uint dn = WG / OHW, doy = (WG % OHW) / OW, dox = WG % OW;
    while (n < N) {
        float g[TCO];
        [[unroll]] for (uint t = 0; t < TCO; ++t) {
            g[t] = 0.0;
            if (co0 + t < Cout) g[t] = dy[dy_off + (n * Cout + co0 + t) * OHW + oy * OW + ox];
            accb[t] += g[t];
        }
        const int iy0 = int(oy * S) - PAD, ix0 = int(ox * S) - PAD;
        [[unroll]] for (uint c = 0; c < TCI; ++c) {
            const uint ci = min(ci0 + c, Cin - 1);  // channels past Cin compute a real column, never stored
            const uint xb = x_off + (n * Cin + ci) * HW;
            [[unroll]] for (uint ky = 0; ky < K; ++ky) {
                [[unroll]] for (uint kx = 0; kx < K; ++kx) {
                    int iy = iy0 + int(ky), ix = ix0 + int(kx);
                    float xv = 0.0;
                    if (uint(iy) < H && uint(ix) < W) xv = x[xb + uint(iy) * W + uint(ix)];
                    [[unroll]] for (uint t = 0; t < TCO; ++t)
                        acc[t][c * KK + ky * K + kx] = fma(g[t], xv, acc[t][c * KK + ky * K + kx]);
                }
            }
        }
        ox += dox;
        if (ox >= OW) { ox -= OW; oy += 1; }
        oy += doy;
        if (oy >= OH) { oy -= OH; n += 1; }
        n += dn;
    }

    [[unroll]] for (uint t = 0; t < TCO; ++t) {
        [[unroll]] for (uint c = 0; c < COLS; ++c) partial[(t * COLS + c) * WG + lid] = acc[t][c];
        partial[(TCO * COLS + t) * WG + lid] = accb[t];
    }
    barrier();

    for (uint e = lid; e < NACC; e += WG) {
        float s = 0.0;
        for (uint i = 0; i < WG; ++i) s += partial[e * WG + i];
        if (e < TCO * COLS) {
            const uint t = e / COLS, col = e % COLS, ci = ci0 + col / KK, co = co0 + t;
            if (co < Cout && ci < Cin) {
                const uint i = dw_off + (co * Cin + ci) * KK + col % KK;
                dw[i] = accumulate != 0 ? dw[i] + s : s;
            }
        } else if (do_bias) {
            const uint co = co0 + (e - TCO * COLS);
            if (co < Cout) {
                const uint i = db_off + co;
                db[i] = accumulate != 0 ? db[i] + s : s;
            }
        }
    }
}
