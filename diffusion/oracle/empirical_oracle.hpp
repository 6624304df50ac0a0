// diffusion/oracle/empirical_oracle.hpp — the empirical optimal denoiser: E[x₀ | x_t] over a training set of
// images is a softmax-weighted mean of the images (weights ∝ exp(−‖x_t − √ᾱ x₀ⁱ‖²/(2(1−ᾱ)))), exact for the
// empirical distribution and label-conditional by restricting to one class. It needs no network, so the
// visualiser and `diffuscope sample --oracle` work before anything is trained — and it shows memorisation: its
// samples are training images. As a Denoiser it predicts x₀.
//
// GPU: the images live on the device as uint8 (sorted by class; once image-major, once pixel-major so both GEMMs
// read contiguous words), three passes per evaluation: empirical_logits.comp (batch × images × pixels),
// empirical_softmax.comp, empirical_mean.comp (batch × pixels × images). Needs subgroup shuffles in groups of 8.
#pragma once
#include "diffusion/model/denoiser.hpp"
#include "engine/pipeline.hpp"

#include <array>
#include <memory>
#include <span>

namespace diffuscope::oracle {

class EmpiricalOracle {
public:
    // `pixels`: count × dim bytes (0 = −1, 255 = +1 after x₀ = 2·byte/255 − 1); `labels`: count values 0–9.
    // `max_batch`: the largest batch a bound recorder may be given. Each bind owns its logits (max_batch × count
    // floats), so forwards bound for different callers may be cut between passes and interleaved (the visualiser
    // replays them a slice per frame) without one overwriting the other's logits.
    EmpiricalOracle(engine::Context&, std::span<const uint8_t> pixels, std::span<const uint8_t> labels, uint32_t dim,
                    uint32_t max_batch);
    Denoiser denoiser();

    uint32_t count() const { return count_; }
    uint32_t dim() const { return dim_; }
    const std::array<uint32_t, 11>& class_start() const { return class_start_; }  // into the class-sorted order

private:
    engine::Context* ctx_;
    uint32_t count_, dim_, words_, m4_, max_batch_;
    std::array<uint32_t, 11> class_start_{};
    engine::Buffer images_, images_t_, half_norm_, classes_;
    std::unique_ptr<engine::ComputePipeline> logits_pass_, softmax_pass_, mean_pass_;
};

}  // namespace diffuscope::oracle
