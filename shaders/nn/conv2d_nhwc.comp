#version 450
// A tensor x [N,C,HW] (NCHW) rewritten channel-last with the channels padded to Cpad (zeros past C):
//   t[(n·HW + p)·Cpad + c] = x[(n·C + c)·HW + p]
// so that the dW kernel's DT4 path reads 4 channels of one pixel as one RGBA32F texel
// (conv2d_backward_weight.comp). Grid-stride over the elements of t (any size fits the group-count limit).
// Reference: none of its own (a relayout), checked through tests/reference/conv2d.cpp (ref::conv2d_backward); tests:
//   tests/test_nn_layers.cpp (conv* rows with wt4 tiles, where dW reads dy channel-last)
layout(local_size_x = 64) in;
layout(binding = 0) uniform samplerBuffer x_t;
layout(std430, binding = 1) writeonly buffer T { float t[]; };
layout(push_constant) uniform P { uint N, C, HW, Cpad, x_off; };
void main() {
    for (uint i = gl_GlobalInvocationID.x; i < N * HW * Cpad; i += gl_NumWorkGroups.x * gl_WorkGroupSize.x) {
        const uint c = i % Cpad, p = (i / Cpad) % HW, n = i / (Cpad * HW);
        t[i] = c < C ? texelFetch(x_t, int(x_off + (n * C + c) * HW + p)).x : 0.0;
    }
}
