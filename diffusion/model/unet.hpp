// diffusion/model/unet.hpp — the conditional UNet of docs/model.md on the GPU: its parameter table (one flat
// buffer, PyTorch names at fixed offsets), its initialisation, and the recording of its whole forward and
// backward for one batch size into a command buffer (recorded once, replayed every step).
#pragma once
#include "diffusion/model/layers.hpp"
#include "engine/timestamps.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace diffuscope::nn {

enum class Prediction { eps, v };

struct UNetConfig {
    uint32_t base = 16;      // C: widths C, 2C, 4C at 28², 14², 7²
    uint32_t emb_dim = 64;   // sinusoidal embedding width
    uint32_t cond_dim = 128; // conditioning width
    uint32_t groups = 8;     // GroupNorm groups (divides every width)
    Prediction prediction = Prediction::eps;
    static constexpr uint32_t image = 28, labels = 11, null_label = 10;
    static constexpr float level_lo = -20.0f, level_hi = 20.0f;  // λ clamp before the embedding
    std::map<std::string, std::string> to_metadata() const;
    // Throws naming the key when a value is missing, malformed or unsupported.
    static UNetConfig from_metadata(const std::map<std::string, std::string>&, const std::string& file);
};

struct ParamInfo {
    std::string name;
    std::vector<int64_t> shape;
    uint32_t offset = 0, count = 0;  // in floats; offsets are multiples of 4 (16-byte aligned)
};

// Every tensor of the model in a fixed order; the same table serves the GPU model, the CPU reference and
// the safetensors names.
class ParamTable {
public:
    uint32_t add(std::string name, std::vector<int64_t> shape);
    const ParamInfo& operator[](const std::string& name) const;
    bool contains(const std::string& name) const { return index_.count(name) != 0; }
    const std::vector<ParamInfo>& all() const { return params_; }
    uint32_t total() const { return total_; }

private:
    std::vector<ParamInfo> params_;
    std::map<std::string, size_t> index_;
    uint32_t total_ = 0;
};

ParamTable unet_params(const UNetConfig&);
// PyTorch's default initialisation (U(±1/√fan_in) for weights and biases, GroupNorm γ = 1, β = 0, the
// label table N(0, 1)), from a seeded generator, so a run is reproducible; conv_out starts at zero so the
// first prediction is 0 and the first loss is E[target²].
std::vector<float> unet_init(const UNetConfig&, const ParamTable&, uint64_t seed);
double unet_flops_per_image(const UNetConfig&);

// The model on the GPU for batches of exactly `batch` images.
class UNet {
public:
    UNet(engine::Context&, const UNetConfig&, uint32_t batch, bool training);
    ~UNet();

    const UNetConfig& config() const { return cfg_; }
    const ParamTable& params() const { return table_; }
    uint32_t batch() const { return batch_; }
    engine::Buffer& param_buffer() { return params_; }
    engine::Buffer& grad_buffer();

    // out [N,1,28,28] = model(x [N,1,28,28], level λ [N], label int32 [N]). Views may lie in any buffers;
    // the activations saved for the backward live in the UNet's own arena.
    void record_forward(engine::CommandBuffer&, View x, View level, View label, View out);
    // Gradients of Σ out·dout for every parameter (written into grad_buffer()) and, if dx is set, for x.
    // Needs the forward recorded just before with the same inputs (training = true).
    void record_backward(engine::CommandBuffer&, View dout, View dx = {});

    double flops_per_image() const { return unet_flops_per_image(cfg_); }

    // Per-layer GPU times: while set, record_forward/record_backward write a timestamp pair around every
    // layer call, named like "down0.conv1", "down0.conv1 dW" (for `diffuscope bench`). Null: none.
    void set_profiler(engine::Timestamps* ts) { prof_ = ts; }

private:
    struct Block;
    struct Tensor { View v; uint64_t count = 0; };
    Tensor alloc(uint64_t count);
    void block_forward(engine::CommandBuffer&, Block&, View x);
    void block_backward(engine::CommandBuffer&, Block&, View dout, View dx, bool accumulate_dx, bool first_cond);
    void mark(engine::CommandBuffer&, std::string name);
    void end_marks(engine::CommandBuffer&);
    View p(const std::string& name) const;
    View g(const std::string& name) const;

    engine::Context* ctx_;
    UNetConfig cfg_;
    ParamTable table_;
    uint32_t batch_;
    bool training_;
    engine::Buffer params_, grads_;
    // Saved tensors, in chunks no larger than the device's storage-buffer range (128 MiB on lavapipe).
    std::vector<engine::Buffer> arena_;
    std::vector<uint64_t> chunk_used_;  // floats used per chunk while planning
    uint64_t chunk_floats_ = 0;

    Conv2d conv_;
    Linear linear_;
    GroupNorm norm_;
    SiLU silu_;
    Concat concat_;
    BiasAdd bias_;
    Add add_;
    SinusoidalEmbed sin_;
    LabelEmbed label_;
    Kernel level_;

    // Saved tensors of the last recorded forward.
    struct Saved;
    std::unique_ptr<Saved> s_;
    View saved_x_, saved_label_;
    engine::Timestamps* prof_ = nullptr;
    bool prof_open_ = false;  // the forward's inputs, read again by the backward
};

}  // namespace diffuscope::nn
