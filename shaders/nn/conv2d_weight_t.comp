#version 450
// The conv weight w [Cout,Cin,K,K] (PyTorch) rearranged so the conv kernels' WT4 path reads 4 channels of one tap
// as one RGBA32F texel (conv2d_forward.comp, conv2d_backward_data.comp):
//   for the forward (A = Cin, B = Cout):  t[(a·KK + k)·Bpad + b] = w[b, a, k]
//   for dX          (A = Cout, B = Cin):  t[(a·KK + k)·Bpad + b] = w[a, b, k]
// with k = ky·K + kx and b < Bpad (a multiple of the kernel's channel block); channels b ≥ B are 0.
// Grid-stride over the elements of t.
// Reference: none of its own (a relayout), checked through tests/reference/conv2d.cpp (ref::conv2d_forward,
//   ref::conv2d_backward); tests: tests/test_nn_layers.cpp (conv*, conv_wt4* rows that read WT4)
layout(local_size_x = 64) in;
layout(binding = 0) uniform samplerBuffer w_t;
layout(std430, binding = 1) writeonly buffer T { float t[]; };
layout(push_constant) uniform P {
    uint A, B, Bpad, KK, w_off;
    uint dx;  // 0: forward layout, 1: dX layout
};
void main() {
    for (uint i = gl_GlobalInvocationID.x; i < A * KK * Bpad; i += gl_NumWorkGroups.x * gl_WorkGroupSize.x) {
        const uint b = i % Bpad, k = (i / Bpad) % KK, a = i / (Bpad * KK);
        float v = 0.0;
        if (b < B) {
            const uint co = dx != 0 ? a : b, ci = dx != 0 ? b : a, cin = dx != 0 ? B : A;
            v = texelFetch(w_t, int(w_off + (co * cin + ci) * KK + k)).x;
        }
        t[i] = v;
    }
}
