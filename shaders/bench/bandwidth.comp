#version 450
// dst = src (vec4 copy): the device's memory-bandwidth ceiling, bytes moved = 2 × size. The source is read
// as RGBA32F texels, the way the nn kernels read (a storage-buffer load is far dearer on CPU drivers).
// Reference: none (no CPU reference: a timed copy, `diffuscope bench` in diffusion/cli/cmd_bench.cpp); tests: none
layout(local_size_x = 64) in;
layout(binding = 0) uniform samplerBuffer s_t;
layout(std430, binding = 1) writeonly buffer D { vec4 d[]; };
layout(push_constant) uniform P { uint n4; };
void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i < n4) d[i] = texelFetch(s_t, int(i));
}
