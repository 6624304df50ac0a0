// diffusion/train/classifier_trainer.hpp — training the MNIST classifier (diffusion/model/classifier.hpp) that
// `diffuscope eval` judges samples with: minibatches of shuffled training digits with random shifts (drawn on the
// host, uploaded per step), forward, softmax cross-entropy, hand-derived backward, gradient clipping and AdamW with a
// warm-up then cosine decay — one command buffer recorded once and replayed every step.
#pragma once
#include "diffusion/data/mnist.hpp"
#include "diffusion/model/classifier.hpp"
#include "diffusion/model/optim.hpp"

#include <cstdint>
#include <random>
#include <vector>

namespace diffuscope::train {

struct ClassifierTrainConfig {
    uint32_t epochs = 12, batch = 128;
    float lr = 2e-3f;  // peak, after a warm-up of min(100, steps/10) steps; cosine decay to 5 % of it
    int shift = 2;     // random shifts of up to this many pixels in x and y (augmentation), 0–4
    uint64_t seed = 1; // the initialisation, the order and the shifts
};

class ClassifierTrainer {
public:
    // `train`: 28×28 digits, at least one batch of them. Throws std::invalid_argument naming the bad value.
    ClassifierTrainer(engine::Context&, const ClassifierTrainConfig&, const data::Mnist& train);

    // One pass over the training split in a fresh order; returns the epoch's mean loss. Throws when a step's loss
    // is not finite, naming the step.
    double epoch();
    uint32_t steps_done() const { return step_; }
    uint32_t total_steps() const { return total_; }
    std::vector<float> weights();

private:
    void record();
    void fill_batch(uint32_t first);  // images order_[first … first + B) shifted, and their labels
    nn::OptState opt_state() const;   // the step's learning rate and hyperparameters

    engine::Context* ctx_;
    ClassifierTrainConfig cfg_;
    const data::Mnist* train_;
    uint32_t P_, steps_per_epoch_, total_, warmup_, step_ = 0;
    nn::ClassifierNet net_;
    nn::Optimizer opt_;
    engine::Buffer m_, v_, scratch_, state_, x_, labels_, loss_;
    engine::CommandBuffer cmd_;
    std::mt19937_64 gen_;
    std::uniform_int_distribution<int> shift_;
    std::vector<uint32_t> order_;
    std::vector<float> xb_;
    std::vector<int32_t> lb_;
};

}  // namespace diffuscope::train
