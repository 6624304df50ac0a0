#version 450
// The split dW's partial tiles (conv2d_backward_weight.comp with Z > 1 workgroups along z) added in order:
//   dw[i] (+)= Σ_z part[z·stride + i]         i < nw = Cout·Cin·K²
//   db[c] (+)= Σ_z part[z·stride + nw + c]    c < Cout, when has_bias
// One invocation per output element; the fixed order keeps training deterministic.
// Reference: tests/reference/conv2d.cpp (ref::conv2d_backward, dw and db); tests: tests/test_nn_layers.cpp
//   (conv*_split rows, tests/nn_runners_conv.cpp run_conv)
layout(local_size_x = 256) in;
layout(binding = 0) uniform samplerBuffer part_t;  // read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 1) buffer DW { float dw[]; };
layout(std430, binding = 2) buffer DB { float db[]; };
layout(push_constant) uniform P { uint nw, nb, splits, stride, dw_off, db_off, has_bias, accumulate; };
void main() {
    const uint i = gl_GlobalInvocationID.x;
    if (i >= nw + nb || (i >= nw && has_bias == 0u)) return;
    float s = 0.0;
    for (uint z = 0u; z < splits; ++z) s += texelFetch(part_t, int(z * stride + i)).x;
    if (i < nw) {
        const uint d = dw_off + i;
        dw[d] = accumulate != 0u ? dw[d] + s : s;
    } else {
        const uint d = db_off + i - nw;
        db[d] = accumulate != 0u ? db[d] + s : s;
    }
}
