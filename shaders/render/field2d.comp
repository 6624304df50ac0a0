#version 450
// shaders/render/field2d.comp — the 2-D field view's items (vec4 each, read by render/arrows.vert):
//   mode 0: the K×K grid's model inputs: x = the grid point, λ = levels[t].log_snr, label = null (10).
//   mode 1: arrows at the grid points: the denoise direction d = x̂₀ − x_t, or the score
//           s = ∇ log p_t(x_t) = (√ᾱ x̂₀ − x_t)/(1 − ᾱ) (Tweedie), each shortened to at most `max_len` (keeps the
//           direction; the colour carries |d| / max_len, so far-away arrows read as long).
//   mode 2: the particles as dots: items[i] = (x_i, 0, 0) from the chain's x (or a trajectory slot).
//   mode 3: the trails as segments between trajectory slots s·stride and min((s + 1)·stride, last) for s < `slots`
//           (`last` = slots·stride clamped to the step shown, passed as `slot`): (x_a, x_b).
//   mode 4: arrows of the learned model, whose output at the grid points is v̂ (v-prediction):
//           x̂₀ = √ᾱ x_t − √(1 − ᾱ) v̂, then as mode 1.
//   mode 5: the difference learned − exact of the two arrows (before shortening): the learned model's error.
// Reference: none (no CPU reference: the 2-D view's items, judged by what they show); tests:
//   tests/test_render_app.cpp (Field2dArrowsPointToTheDataAndParticlesReachIt,
//   Field2dLearnedFieldApproachesTheExactOneAndItsParticlesReachTheData)
#include "diffusion/level.glsl"

layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer Levels { Level levels[]; };
layout(std430, binding = 1) buffer GridX { float grid_x[]; };
layout(std430, binding = 2) writeonly buffer GridLevel { float grid_level[]; };
layout(std430, binding = 3) writeonly buffer GridLabel { int grid_label[]; };
layout(std430, binding = 4) readonly buffer GridOut { float grid_out[]; };
layout(std430, binding = 5) writeonly buffer Items { vec4 items[]; };
layout(std430, binding = 6) readonly buffer Traj { float traj[]; };
layout(std430, binding = 7) readonly buffer GridV { float grid_v[]; };  // the learned model's v̂ on the grid
layout(push_constant) uniform P {
    uint mode, k, t, n;          // grid side K; timestep t (level); particles n
    float lo, hi, max_len;       // grid domain [lo, hi]²; arrow length cap (data units)
    uint score, slot, slots;     // arrows: score (1) or x̂₀ − x (0); particles (and trails' end): trajectory slot;
                                 // trails: segments per particle
    uint stride;                 // trails: trajectory slots per segment
};

// The arrow at x for the denoiser's guess x̂₀: the denoise direction, or the score by Tweedie.
vec2 direction(Level L, vec2 x, vec2 x0) {
    return score != 0u ? (L.sqrt_alpha_bar * x0 - x) / max(L.one_minus_alpha_bar, 1e-6) : x0 - x;
}

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (mode == 0u) {
        if (i >= k * k) return;
        float step = (hi - lo) / float(k);
        grid_x[2u * i] = lo + (float(i % k) + 0.5) * step;
        grid_x[2u * i + 1u] = lo + (float(i / k) + 0.5) * step;
        grid_level[i] = levels[t].log_snr;
        grid_label[i] = 10;
    } else if (mode == 1u || mode == 4u || mode == 5u) {
        if (i >= k * k) return;
        vec2 x = vec2(grid_x[2u * i], grid_x[2u * i + 1u]);
        Level L = levels[t];
        vec2 x0 = vec2(grid_out[2u * i], grid_out[2u * i + 1u]);
        vec2 d = direction(L, x, x0);
        if (mode != 1u) {
            vec2 v = vec2(grid_v[2u * i], grid_v[2u * i + 1u]);
            vec2 learned = direction(L, x, L.sqrt_alpha_bar * x - L.sqrt_one_minus_alpha_bar * v);
            d = mode == 4u ? learned : learned - d;
        }
        float len = length(d);
        // Shaft shortened to max_len; the length the colour map sees is kept in proportion (len/max_len ≤ 1).
        vec2 shown = len > max_len ? d * (max_len / len) : d;
        items[i] = vec4(x, shown);
    } else if (mode == 2u) {
        if (i >= n) return;
        uint b = (slot * n + i) * 2u;
        items[i] = vec4(traj[b], traj[b + 1u], 0.0, 0.0);
    } else {
        if (i >= n * slots) return;
        uint s = i / n, p = i % n;
        uint a = (s * stride * n + p) * 2u, b = (min((s + 1u) * stride, slot) * n + p) * 2u;
        items[i] = vec4(traj[a], traj[a + 1u], traj[b], traj[b + 1u]);
    }
}
