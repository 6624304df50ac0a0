#version 450
// Label embedding backward. y[n,:] = table[label[n],:] is a copy, so each row collects the gradients of
// the samples that read it:
//   dtable[r,d] (+)= Σ_{n : label[n] = r} dy[n,d]
// One invocation per (r, d) looping over the batch in order: a deterministic scatter-add, no atomics.
// Reference: tests/reference/embed_loss_optim.cpp (ref::label_embed_backward); tests: tests/test_nn_layers.cpp
//   (label_embed rows, tests/nn_runners_misc.cpp run_label_embed)
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer Label { int label[]; };
layout(binding = 1) uniform samplerBuffer dy_t;  // DY: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 2) buffer DTable { float dtable[]; };
layout(push_constant) uniform Push { uint N, rows, D, label_off, dy_off, dtable_off, accumulate; };
void main() {
    const uint idx = gl_GlobalInvocationID.x;
    if (idx >= rows * D) return;
    const uint r = idx / D, d = idx % D;
    float s = 0.0;
    for (uint n = 0; n < N; ++n) {
        const int l = label[label_off + n];
        const uint row = (l >= 0 && uint(l) < rows) ? uint(l) : rows - 1;
        if (row == r) s += texelFetch(dy_t, int(dy_off + n * D + d)).x;
    }
    dtable[dtable_off + idx] = accumulate != 0 ? dtable[dtable_off + idx] + s : s;
}
