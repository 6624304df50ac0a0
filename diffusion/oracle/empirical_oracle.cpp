#include "diffusion/oracle/empirical_oracle.hpp"

#include <algorithm>
#include <numeric>

namespace diffuscope::oracle {

EmpiricalOracle::EmpiricalOracle(engine::Context& ctx, std::span<const uint8_t> pixels, std::span<const uint8_t> labels,
                                 uint32_t dim, uint32_t max_batch)
    : ctx_(&ctx),
      count_(uint32_t(labels.size())),
      dim_(dim),
      words_((dim + 3) / 4),
      m4_((count_ + 3) / 4),
      max_batch_(max_batch) {
    if (count_ == 0 || dim == 0) throw std::invalid_argument("EmpiricalOracle: the training set is empty");
    if (pixels.size() != size_t(count_) * dim)
        throw std::invalid_argument("EmpiricalOracle: " + std::to_string(pixels.size()) + " pixels for " +
                                    std::to_string(count_) + " images of " + std::to_string(dim));
    if (max_batch == 0) throw std::invalid_argument("EmpiricalOracle: max_batch must be positive");
    const auto& info = ctx.info();
    if (!info.subgroup_shuffle || info.subgroup_size % 8 != 0)
        throw std::runtime_error("EmpiricalOracle: " + info.name + " lacks subgroup shuffles in groups of 8 (subgroup size " +
                                 std::to_string(info.subgroup_size) + "), which the oracle's GEMMs use");
    // Sort by class (stable: the order within a class is the data set's); pack 4 pixels per word image-major
    // (for the weighted mean) and 4 images per word pixel-major (for the logits).
    std::vector<uint32_t> order(count_);
    std::iota(order.begin(), order.end(), 0u);
    for (uint8_t l : labels)
        if (l > 9) throw std::invalid_argument("EmpiricalOracle: label " + std::to_string(l) + " is not 0–9");
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return labels[a] < labels[b]; });
    std::vector<uint32_t> packed(size_t(count_) * words_, 0), packed_t(size_t(dim) * m4_, 0);
    std::vector<float> half_norm(size_t(m4_) * 4, 0.0f);
    for (uint32_t j = 0; j < count_; ++j) {
        const uint8_t* img = pixels.data() + size_t(order[j]) * dim;
        double nn = 0;
        for (uint32_t p = 0; p < dim; ++p) {
            packed[size_t(j) * words_ + p / 4] |= uint32_t(img[p]) << (8 * (p % 4));
            packed_t[size_t(p) * m4_ + j / 4] |= uint32_t(img[p]) << (8 * (j % 4));
            double x0 = img[p] * (2.0 / 255.0) - 1.0;
            nn += x0 * x0;
        }
        half_norm[j] = float(0.5 * nn);
    }
    for (int c = 0; c <= 10; ++c)
        class_start_[c] = uint32_t(std::count_if(labels.begin(), labels.end(), [c](uint8_t l) { return l < c; }));
    images_ = engine::Buffer(ctx, packed.size() * 4);
    images_t_ = engine::Buffer(ctx, packed_t.size() * 4);
    half_norm_ = engine::Buffer(ctx, half_norm.size() * 4);
    classes_ = engine::Buffer(ctx, sizeof class_start_);
    images_.upload(packed);
    images_t_.upload(packed_t);
    half_norm_.upload(half_norm);
    classes_.upload(class_start_.data(), sizeof class_start_);
    logits_pass_ = std::make_unique<engine::ComputePipeline>(
        ctx, engine::PipelineDesc{"diffusion/empirical_logits.comp", 7, 16});
    softmax_pass_ = std::make_unique<engine::ComputePipeline>(ctx, engine::PipelineDesc{"diffusion/empirical_softmax.comp", 3, 8});
    mean_pass_ = std::make_unique<engine::ComputePipeline>(ctx, engine::PipelineDesc{"diffusion/empirical_mean.comp", 5, 16});
}

Denoiser EmpiricalOracle::denoiser() {
    Denoiser d;
    d.name = "empirical-oracle";
    d.prediction = Prediction::x0;
    d.dim = dim_;
    d.max_batch = max_batch_;
    d.bind = [this](const DenoiserIo& io) -> Denoiser::Recorder {
        if (io.batch == 0 || io.batch > max_batch_)
            throw std::invalid_argument("EmpiricalOracle: batch of " + std::to_string(io.batch) + "; this oracle was made for at most " +
                                        std::to_string(max_batch_));
        if (io.x->size() < uint64_t(io.batch) * dim_ * 4 || io.out->size() < uint64_t(io.batch) * dim_ * 4)
            throw std::invalid_argument("EmpiricalOracle: buffers smaller than the batch");
        auto logits = std::make_shared<engine::Buffer>(*ctx_, size_t(max_batch_) * count_ * 4);  // lives with the recorder
        auto s1 = logits_pass_->bind({images_t_, half_norm_, classes_, *io.x, *io.level, *io.label, *logits});
        auto s2 = softmax_pass_->bind({classes_, *io.label, *logits});
        auto s3 = mean_pass_->bind({images_, classes_, *io.label, *logits, *io.out});
        const uint32_t B = io.batch, M = count_, D = dim_, W = words_, M4 = m4_;
        auto *p1 = logits_pass_.get(), *p2 = softmax_pass_.get(), *p3 = mean_pass_.get();
        return [=, logits = std::move(logits)](engine::CommandBuffer& cmd) {
            (void)logits;
            struct { uint32_t batch, count, dim, m4; } push1{B, M, D, M4};
            cmd.dispatch(*p1, s1, push1, engine::groups_for(M4, 64), engine::groups_for(B, 8));
            cmd.barrier();  // RAW: the softmax reads the logits
            struct { uint32_t batch, count; } push2{B, M};
            cmd.dispatch(*p2, s2, push2, B);
            cmd.barrier();  // RAW: the weighted mean reads the weights
            struct { uint32_t batch, count, dim, words; } push3{B, M, D, W};
            cmd.dispatch(*p3, s3, push3, engine::groups_for(W, 64), engine::groups_for(B, 8));
        };
    };
    return d;
}

}  // namespace diffuscope::oracle
