#version 450
// Label embedding (a lookup table with one row per class plus the null label of classifier-free guidance):
//   y[n,d] = table[label[n], d],   table [rows, D]
// Labels outside [0, rows) read the last row (the null label) instead of memory that is not the table.
// Reference: tests/reference/embed_loss_optim.cpp (ref::label_embed_forward); tests: tests/test_nn_layers.cpp
//   (label_embed rows, tests/nn_runners_misc.cpp run_label_embed)
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer Label { int label[]; };
layout(binding = 1) uniform samplerBuffer table_t;  // Table: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint N, rows, D, label_off, table_off, y_off; };
void main() {
    const uint idx = gl_GlobalInvocationID.x;
    if (idx >= N * D) return;
    const uint n = idx / D, d = idx % D;
    const int l = label[label_off + n];
    const uint row = (l >= 0 && uint(l) < rows) ? uint(l) : rows - 1;
    y[y_off + idx] = texelFetch(table_t, int(table_off + row * D + d)).x;
}
