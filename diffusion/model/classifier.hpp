// diffusion/model/classifier.hpp — the small MNIST classifier that judges generated digits (`diffuscope eval`):
// built from the same nn layers as the UNet, trained on the GPU by `diffuscope train-classifier`.
//
//   x [N,1,28,28] in [0,1] (ink = 1)
//   conv1 3×3, 1→16, SiLU            [N,16,28,28]
//   conv2 3×3 stride 2, 16→32, SiLU  [N,32,14,14]
//   conv3 3×3 stride 2, 32→64, SiLU  [N,64,7,7]
//   fc1 3136→128, SiLU               [N,128]   ← the features the Fréchet distance is computed on
//   fc2 128→10                       [N,10]    logits; softmax cross-entropy in training
// 426,986 parameters, 4.7 MFLOP per image. Parameter names follow PyTorch (conv1.weight, fc2.bias, …).
#pragma once
#include "diffusion/model/layers.hpp"
#include "diffusion/model/optim.hpp"
#include "diffusion/model/unet.hpp"  // ParamTable

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace diffuscope::nn {

struct Classifier {
    static constexpr uint32_t classes = 10, features = 128;
    static ParamTable params();
    // PyTorch's default initialisation, U(±1/√fan_in) for weights and biases, from a seeded generator.
    static std::vector<float> init(uint64_t seed);
    static double flops_per_image();
};

// Weights to and from safetensors (metadata format = diffuscope-classifier); errors name the tensor.
void save_classifier(const std::filesystem::path&, const std::vector<float>& flat,
                     std::map<std::string, std::string> extra_metadata = {});
std::vector<float> load_classifier(const std::filesystem::path&);

// The classifier on the GPU for batches of exactly `batch` images, recorded once and replayed.
class ClassifierNet {
public:
    ClassifierNet(engine::Context&, uint32_t batch, bool training);
    uint32_t batch() const { return batch_; }
    engine::Buffer& param_buffer() { return params_; }
    engine::Buffer& grad_buffer() { return grads_; }
    // logits [N,10] and features [N,128] (after the SiLU) of x [N,1,28,28], into the net's own buffers.
    void record_forward(engine::CommandBuffer&, View x);
    // With labels [N] int32: softmax, per-sample loss, dlogits = (p − onehot)/N, and the gradient of every
    // parameter into grad_buffer(). Needs record_forward just before (training = true).
    void record_loss_and_backward(engine::CommandBuffer&, View labels);
    View logits() const { return View(act_, off_.z); }
    View features() const { return View(act_, off_.af); }
    View probs() const { return View(act_, off_.p); }
    View loss() const { return View(act_, off_.loss); }
    const engine::Buffer& activations() const { return act_; }

private:
    struct Offsets {
        uint32_t h1, a1, h2, a2, h3, a3, f, af, z, p, loss, total;
    };
    engine::Context* ctx_;
    uint32_t batch_;
    bool training_;
    ParamTable table_;
    Offsets off_{};
    engine::Buffer params_, grads_, act_, dact_;
    Conv2d conv_;
    Linear linear_;
    SiLU silu_;
    SoftmaxXent xent_;
    View x_;
    View p(const char* name) const;
    View g(const char* name) const;
};

// Outputs of the classifier for many images (any count; run in batches).
struct Classified {
    std::vector<float> probs;     // [count,10]
    std::vector<float> features;  // [count,128]
    std::vector<int32_t> predicted;
};
Classified classify(engine::Context&, const std::vector<float>& weights, const std::vector<float>& images01,
                    uint32_t batch = 200);

}  // namespace diffuscope::nn
