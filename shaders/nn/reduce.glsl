// shaders/nn/reduce.glsl — a workgroup sum in a fixed order (deterministic on a given device).
// The including shader enables GL_KHR_shader_subgroup_basic and _arithmetic (extensions go before any code).
// Include after declaring `shared float red_a[gl_WorkGroupSize.x], red_b[gl_WorkGroupSize.x];`.
// Every invocation must call it (it may contain a barrier), in uniform control flow.
//
// subgroupAdd first (registers, no shared memory); then, only when the workgroup holds several subgroups,
// one partial per subgroup goes through shared memory and every invocation adds them in subgroup order.
// The layers size their reduction workgroups to one subgroup on CPU drivers (layers.cpp: reduce_wg), where
// a barrier splits the shader into coroutines and every shared-memory access costs as much as a storage load.
// Reference: none of its own (a sum), checked through its users' references; tests: tests/test_nn_layers.cpp (mse,
//   bias_add, groupnorm rows), tests/test_nn_optim.cpp
#ifndef DIFFUSCOPE_NN_REDUCE_GLSL
#define DIFFUSCOPE_NN_REDUCE_GLSL

// Returns (Σ a, Σ b) over the workgroup to every invocation.
vec2 workgroup_sum2(float a, float b) {
    a = subgroupAdd(a);
    b = subgroupAdd(b);
    if (gl_NumSubgroups == 1) return vec2(a, b);
    if (subgroupElect()) {
        red_a[gl_SubgroupID] = a;
        red_b[gl_SubgroupID] = b;
    }
    barrier();
    vec2 r = vec2(0.0);
    for (uint i = 0; i < gl_NumSubgroups; ++i) r += vec2(red_a[i], red_b[i]);
    barrier();  // WAR: the next call overwrites red_a/red_b
    return r;
}

#endif
