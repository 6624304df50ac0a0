#version 450
#extension GL_EXT_control_flow_attributes : require
// C[M,N] = Aᵀ[K,M]ᵀ · B[K,N] — the second SGEMM of `diffuscope bench`'s ceiling, shaped like the conv kernels'
// CPU path (conv2d_forward.comp with WT4): an invocation owns TM rows × TN columns of C. Its TM rows of Aᵀ
// are RGBA32F texels that every lane of a subgroup shares (the lanes split the columns), its columns are
// TN/4 texels of B. KU steps of k are loaded first, then each accumulator takes its KU FMAs in a row: on a
// CPU driver the accumulators live in memory, and this loads and stores each once per KU FMAs. No shared
// memory, no shuffles, no barriers. M % TM == 0, N % TN == 0, K % KU == 0, TM and TN multiples of 4.
// Reference: the integer GEMM in tests/test_bench_kernels.cpp (run_gemm); tests: tests/test_bench_kernels.cpp
//   (SgemmRowsIsExactOnSmallIntegers)
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint TM = 16;
layout(constant_id = 1) const uint TN = 16;
layout(constant_id = 2) const uint KU = 4;
layout(binding = 0) uniform samplerBuffer at4_t;  // [K][M/4], RGBA32F
layout(binding = 1) uniform samplerBuffer b4_t;   // [K][N/4], RGBA32F
layout(std430, binding = 2) writeonly buffer C { vec4 c4[]; };  // [M][N/4]
layout(push_constant) uniform P { uint M, N, K; };
const uint TM4 = TM / 4, TN4 = TN / 4;
void main() {
    const uint M4 = M / 4, N4 = N / 4, cols = N / TN;
    const uint inv = gl_GlobalInvocationID.x, mb = inv / cols, nb = inv % cols;
    if (mb * TM >= M) return;
    const uint m40 = mb * TM4, n40 = nb * TN4;
    vec4 acc[TM][TN4];  // acc[r][q] = C[mb·TM + r][4(n40 + q) … +3]
    [[unroll]] for (uint r = 0; r < TM; ++r) [[unroll]] for (uint q = 0; q < TN4; ++q) acc[r][q] = vec4(0.0);
    for (uint k = 0; k < K; k += KU) {
        vec4 a[KU][TM4], b[KU][TN4];
        [[unroll]] for (uint u = 0; u < KU; ++u) {
            [[unroll]] for (uint i = 0; i < TM4; ++i) a[u][i] = texelFetch(at4_t, int((k + u) * M4 + m40 + i));
            [[unroll]] for (uint q = 0; q < TN4; ++q) b[u][q] = texelFetch(b4_t, int((k + u) * N4 + n40 + q));
        }
        [[unroll]] for (uint r = 0; r < TM; ++r)
            [[unroll]] for (uint q = 0; q < TN4; ++q) {
                vec4 s = acc[r][q];
                [[unroll]] for (uint u = 0; u < KU; ++u) s = fma(vec4(a[u][r / 4][r % 4]), b[u][q], s);
                acc[r][q] = s;
            }
    }
    [[unroll]] for (uint r = 0; r < TM; ++r)
        [[unroll]] for (uint q = 0; q < TN4; ++q) c4[(mb * TM + r) * N4 + n40 + q] = acc[r][q];
}
