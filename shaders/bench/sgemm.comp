#version 450
#extension GL_KHR_shader_subgroup_shuffle : require
#extension GL_EXT_control_flow_attributes : require
// C[M,N] = Aᵀ[K,M]ᵀ · B[K,N] — the device's SGEMM ceiling for `diffuscope bench`.
// Register tiling across lanes: 8 neighbouring lanes own an 8×(8·TN) tile of C; lane j holds rows 0..7 of
// columns j, j+8, …. Per k each lane loads ONE element of Aᵀ (row j) and TN of B, and gets the other rows'
// A by subgroup shuffle: 8·TN FMAs per 1+TN loads. No shared memory, no barriers (a barrier splits a
// shader into coroutines on CPU drivers). Loops are [[unroll]]ed so accumulators stay in registers.
// M % 8 == 0, N % (8·TN) == 0, subgroup size a multiple of 8.
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint TN = 4;
layout(binding = 0) uniform samplerBuffer at_t;  // AT: read as texels (see docs/PERFORMANCE.md)  // [K][M]
layout(binding = 1) uniform samplerBuffer b_t;  // B: read as texels (see docs/PERFORMANCE.md)    // [K][N]
layout(std430, binding = 2) writeonly buffer C { float c[]; };   // [M][N]
layout(push_constant) uniform P { uint M, N, K; };
void main() {
    uint lane = gl_SubgroupInvocationID & 7u, base = gl_SubgroupInvocationID & ~7u;
    uint tile = gl_GlobalInvocationID.x / 8u;
    uint tiles_n = N / (8u * TN);
    uint m0 = (tile / tiles_n) * 8u, n0 = (tile % tiles_n) * 8u * TN + lane;
    if (m0 >= M) return;
    float acc[8][TN];
    [[unroll]] for (uint r = 0; r < 8u; ++r) [[unroll]] for (uint q = 0; q < TN; ++q) acc[r][q] = 0.0;
    for (uint k = 0; k < K; ++k) {
        float a = texelFetch(at_t, int(k * M + m0 + lane)).x;
        float bv[TN];
        [[unroll]] for (uint q = 0; q < TN; ++q) bv[q] = texelFetch(b_t, int(k * N + n0 + 8u * q)).x;
        [[unroll]] for (uint r = 0; r < 8u; ++r) {
            float ar = subgroupShuffle(a, base | r);
            [[unroll]] for (uint q = 0; q < TN; ++q) acc[r][q] = fma(ar, bv[q], acc[r][q]);
        }
    }
    [[unroll]] for (uint r = 0; r < 8u; ++r)
        [[unroll]] for (uint q = 0; q < TN; ++q) c[(m0 + r) * N + n0 + 8u * q] = acc[r][q];
}
