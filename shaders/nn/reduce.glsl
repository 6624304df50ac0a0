// shaders/nn/reduce.glsl — a fixed-order tree sum over the workgroup through shared memory (deterministic).
// Include after declaring `shared float red_a[gl_WorkGroupSize.x], red_b[gl_WorkGroupSize.x];`
// (the workgroup size must be a power of two). Every invocation must call it (it has barriers).
#ifndef DIFFUSCOPE_NN_REDUCE_GLSL
#define DIFFUSCOPE_NN_REDUCE_GLSL

// Returns (Σ a, Σ b) over the workgroup to every invocation.
vec2 workgroup_sum2(float a, float b) {
    const uint lid = gl_LocalInvocationID.x;
    red_a[lid] = a;
    red_b[lid] = b;
    barrier();
    for (uint stride = gl_WorkGroupSize.x / 2; stride > 0; stride >>= 1) {
        if (lid < stride) {
            red_a[lid] += red_a[lid + stride];
            red_b[lid] += red_b[lid + stride];
        }
        barrier();
    }
    vec2 r = vec2(red_a[0], red_b[0]);
    barrier();  // WAR: the next call overwrites red_a/red_b
    return r;
}

#endif
