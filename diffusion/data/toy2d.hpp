// diffusion/data/toy2d.hpp — 2-D toy data sets, every one a Gaussian mixture so that the score of its noised
// version is exact in closed form (diffusion/oracle/gmm_oracle.hpp): 8 Gaussians on a circle, two rings, two
// moons, and the ten digits drawn as strokes — rings, moons and digits are many small Gaussians along curves.
// Each component carries a label (the ring, the moon, the digit) for class-conditional sampling and guidance.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace diffuscope::data {

// std430 twin of `struct Component` in shaders/diffusion/gmm_denoiser.comp (32 bytes).
struct GmmComponent {
    float mean[2];
    float log_weight;  // log π_k, Σ π_k = 1 over the whole mixture
    int32_t label;     // 0 … n_labels − 1
    float cov[4];      // Σ = [[cov0, cov1], [cov1, cov2]], cov3 unused
};
static_assert(sizeof(GmmComponent) == 32);

struct Gmm {
    std::string name;
    std::vector<GmmComponent> components;
    int32_t n_labels = 1;
};

std::vector<std::string> toy2d_names();  // gmm8, rings, moons, digits
Gmm toy2d(const std::string& name);      // throws with the list on an unknown name

// Add an isotropic component; weights are renormalised by `normalise`.
void add_component(Gmm&, float mx, float my, float sigma, float weight, int32_t label);
void normalise(Gmm&);

// n points of the data distribution (label 10 = all components; else that label's components, renormalised),
// drawn on the CPU with std::mt19937_64: the "true samples" a sampler is compared with.
std::vector<float> sample_toy2d(const Gmm&, uint32_t n, uint64_t seed, int32_t label = 10);

}  // namespace diffuscope::data
