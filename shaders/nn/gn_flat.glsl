// shaders/nn/gn_flat.glsl — the FLAT path of groupnorm_forward.comp and groupnorm_backward.comp: a group (Cg
// contiguous channels of HW ≥ 4 values, HW not a multiple of 4, Cg·HW one) walked as one run of texels.
// Reference: tests/reference/linear_norm.cpp (ref::groupnorm_forward, ref::groupnorm_backward) through its users;
//   tests: tests/test_nn_layers.cpp (groupnorm*_flat rows)
#ifndef DIFFUSCOPE_NN_GN_FLAT_GLSL
#define DIFFUSCOPE_NN_GN_FLAT_GLSL

// Texel i of the group whose first channel is c_first: c0 = the channel of its first value, c1 = the next one
// (clamped to the group); returns, per component, whether it belongs to c1 (a texel straddles at most two channels).
bvec4 flat_channels(uint i, uint c_first, uint Cg, uint HW, out uint c0, out uint c1) {
    const uint cl = 4 * i / HW, r = 4 * i - cl * HW;  // the texel's first value is pixel r of channel cl
    c0 = c_first + cl;
    c1 = c_first + min(cl + 1, Cg - 1);
    return greaterThanEqual(uvec4(r) + uvec4(0, 1, 2, 3), uvec4(HW));
}

// A per-channel value for each component: v0 for c0's, v1 for c1's.
vec4 per_component(float v0, float v1, bvec4 next) { return mix(vec4(v0), vec4(v1), next); }

#endif
