#version 450
// shaders/diffusion/chain_advance.comp — step ← step + 1 (saturating at S), after every pass of the step has
// read it. One invocation; its own dispatch so no pass of the step races with the write.
// Reference: tests/reference/sampler_ref.cpp (ref::run_chain's step loop); tests: tests/test_samplers.cpp
//   (EveryGpuChainMatchesTheDoubleReference, ARecordedStepReplaysAcrossLiveChanges)
#include "diffusion/chain.glsl"

layout(local_size_x = 1) in;
layout(std430, binding = 0) buffer State { ChainState st; };

void main() {
    if (st.step < st.n_steps) st.step += 1u;
}
