#version 450
#extension GL_KHR_shader_subgroup_shuffle : require
#extension GL_EXT_control_flow_attributes : require
// C[M,N] = Aᵀ[K,M]ᵀ · B[K,N] — the device's SGEMM ceiling for `diffuscope bench`.
// Register tiling across lanes: 8 neighbouring lanes own an 8×(8·TN) tile of C; lane j holds rows 0..7 of
// columns 4j…4j+3 of each 32-column block. Per k each lane loads ONE element of Aᵀ (row j) and TN/4 vec4
// texels of B, and gets the other rows' A by subgroup shuffle: 8·TN FMAs per 1 + TN/4 fetches. Operands
// are read as texels (Aᵀ as R32F, B as RGBA32F; far cheaper than storage-buffer loads on CPU drivers). No
// shared memory, no barriers (a barrier splits a shader into coroutines on CPU drivers); loops are
// [[unroll]]ed so the accumulators stay in registers.
// M % 8 == 0, N % (8·TN) == 0, TN % 4 == 0, subgroup size a multiple of 8.
// Reference: the integer GEMM in tests/test_bench_kernels.cpp (run_gemm); tests: tests/test_bench_kernels.cpp
//   (SgemmShuffleIsExactOnSmallIntegers)
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint TN = 8;
layout(binding = 0) uniform samplerBuffer at_t;  // [K][M], R32F
layout(binding = 1) uniform samplerBuffer b4_t;  // [K][N/4], RGBA32F
layout(std430, binding = 2) writeonly buffer C { vec4 c4[]; };  // [M][N/4]
layout(push_constant) uniform P { uint M, N, K; };
const uint TQ = TN / 4;
void main() {
    uint lane = gl_SubgroupInvocationID & 7u, base = gl_SubgroupInvocationID & ~7u;
    uint tile = gl_GlobalInvocationID.x / 8u;
    uint tiles_n = N / (8u * TN);
    uint m0 = (tile / tiles_n) * 8u, n40 = (tile % tiles_n) * 2u * TN + lane;  // in vec4 columns
    if (m0 >= M) return;
    const uint N4 = N / 4u;
    vec4 acc[8][TQ];
    [[unroll]] for (uint r = 0; r < 8u; ++r) [[unroll]] for (uint q = 0; q < TQ; ++q) acc[r][q] = vec4(0.0);
    for (uint k = 0; k < K; ++k) {
        float a = texelFetch(at_t, int(k * M + m0 + lane)).x;
        vec4 bv[TQ];
        [[unroll]] for (uint q = 0; q < TQ; ++q) bv[q] = texelFetch(b4_t, int(k * N4 + n40 + 8u * q));
        [[unroll]] for (uint r = 0; r < 8u; ++r) {
            float ar = subgroupShuffle(a, base | r);
            [[unroll]] for (uint q = 0; q < TQ; ++q) acc[r][q] = fma(vec4(ar), bv[q], acc[r][q]);
        }
    }
    [[unroll]] for (uint r = 0; r < 8u; ++r)
        [[unroll]] for (uint q = 0; q < TQ; ++q) c4[(m0 + r) * N4 + n40 + 8u * q] = acc[r][q];
}
