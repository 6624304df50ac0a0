#version 450
// GroupNorm backward to γ and β (see groupnorm_forward.comp): y = γ[c]·x̂ + β[c] ⇒
//   dγ[c] (+)= Σ_{n,h,w} dy[n,c,h,w] · x̂[n,c,h,w],    dβ[c] (+)= Σ_{n,h,w} dy[n,c,h,w]
// The sums over (h, w) come from groupnorm_backward.comp's `partial` [N, C, P, 2] = (Σ dy·x̂, Σ dy), P = its
// LANES or 1; here one invocation per channel sums them over the batch and the lanes in order (deterministic,
// no atomics).
// Reference: tests/reference/linear_norm.cpp (ref::groupnorm_backward, dgamma and dbeta); tests:
//   tests/test_nn_layers.cpp (groupnorm* rows, tests/nn_runners_conv.cpp run_groupnorm)
layout(local_size_x = 64) in;
layout(binding = 0) uniform samplerBuffer partial_t;  // Partial: read as texels (see docs/PERFORMANCE.md)
layout(std430, binding = 1) buffer DGamma { float dgamma[]; };
layout(std430, binding = 2) buffer DBeta { float dbeta[]; };
layout(push_constant) uniform Push { uint N, C, P, partial_off, dgamma_off, dbeta_off, accumulate; };
void main() {
    const uint c = gl_GlobalInvocationID.x;
    if (c >= C) return;
    float sg = 0.0, sb = 0.0;
    for (uint n = 0; n < N; ++n)
        for (uint l = 0; l < P; ++l) {
            const uint o = partial_off + 2 * ((n * C + c) * P + l);
            sg += texelFetch(partial_t, int(o)).x;
            sb += texelFetch(partial_t, int(o + 1)).x;
        }
    dgamma[dgamma_off + c] = accumulate != 0 ? dgamma[dgamma_off + c] + sg : sg;
    dbeta[dbeta_off + c] = accumulate != 0 ? dbeta[dbeta_off + c] + sb : sb;
}
