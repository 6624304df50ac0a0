#version 450
// dst = src (vec4 copy): the device's memory-bandwidth ceiling, bytes moved = 2 × size.
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer S { vec4 s[]; };
layout(std430, binding = 1) writeonly buffer D { vec4 d[]; };
layout(push_constant) uniform P { uint n4; };
void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i < n4) d[i] = s[i];
}
