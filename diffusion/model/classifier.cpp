#include "diffusion/model/classifier.hpp"

#include "diffusion/io/safetensors.hpp"
#include "diffusion/model/weights.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

namespace diffuscope::nn {

namespace {
constexpr uint32_t k_c1 = 16, k_c2 = 32, k_c3 = 64, k_flat = k_c3 * 7 * 7;
ConvShape conv_shape(uint32_t which, uint32_t n) {
    switch (which) {
        case 1: return {n, 1, 28, 28, k_c1, 3, 1};
        case 2: return {n, k_c1, 28, 28, k_c2, 3, 2};
        default: return {n, k_c2, 14, 14, k_c3, 3, 2};
    }
}
}  // namespace

ParamTable Classifier::params() {
    ParamTable t;
    t.add("conv1.weight", {k_c1, 1, 3, 3});
    t.add("conv1.bias", {k_c1});
    t.add("conv2.weight", {k_c2, k_c1, 3, 3});
    t.add("conv2.bias", {k_c2});
    t.add("conv3.weight", {k_c3, k_c2, 3, 3});
    t.add("conv3.bias", {k_c3});
    t.add("fc1.weight", {features, k_flat});
    t.add("fc1.bias", {features});
    t.add("fc2.weight", {classes, features});
    t.add("fc2.bias", {classes});
    return t;
}

std::vector<float> Classifier::init(uint64_t seed) {
    auto t = params();
    std::vector<float> flat(t.total(), 0.0f);
    std::mt19937_64 gen(seed);
    // fan_in of each layer: the weight's elements per output unit
    const std::map<std::string, double> fan_in = {{"conv1", 9}, {"conv2", k_c1 * 9.0}, {"conv3", k_c2 * 9.0},
                                                  {"fc1", double(k_flat)}, {"fc2", double(features)}};
    for (const auto& p : t.all()) {
        const double bound = 1.0 / std::sqrt(fan_in.at(p.name.substr(0, p.name.find('.'))));
        std::uniform_real_distribution<double> u(-bound, bound);
        for (uint32_t i = 0; i < p.count; ++i) flat[p.offset + i] = float(u(gen));
    }
    return flat;
}

double Classifier::flops_per_image() {
    double f = 0;
    for (uint32_t c = 1; c <= 3; ++c) f += conv_shape(c, 1).flops();
    return f + 2.0 * k_flat * features + 2.0 * features * classes;
}

void save_classifier(const std::filesystem::path& path, const std::vector<float>& flat,
                     std::map<std::string, std::string> extra) {
    io::SafeTensors st;
    st.metadata = {{"format", "diffuscope-classifier"}, {"version", "1"}};
    for (auto& [k, v] : extra) st.metadata[k] = v;
    put_weights(st, Classifier::params(), flat);
    io::write_safetensors(path, st);
}

std::vector<float> load_classifier(const std::filesystem::path& path) {
    auto st = io::read_safetensors(path);
    auto it = st.metadata.find("format");
    if (it == st.metadata.end() || it->second != "diffuscope-classifier")
        throw std::runtime_error(path.string() + ": not a diffuscope classifier (metadata \"format\" is " +
                                 (it == st.metadata.end() ? std::string("missing") : "\"" + it->second + "\"") +
                                 ", expected \"diffuscope-classifier\"; make one with `diffuscope train-classifier`)");
    return take_weights(st, Classifier::params());
}

// ---- the network on the GPU ----------------------------------------------------------------------------

ClassifierNet::ClassifierNet(engine::Context& ctx, uint32_t batch, bool training)
    : ctx_(&ctx), batch_(batch), training_(training), table_(Classifier::params()), conv_(ctx), linear_(ctx),
      silu_(ctx), xent_(ctx) {
    if (batch == 0) throw std::invalid_argument("classifier: batch is 0");
    uint64_t at = 0;
    auto take = [&](uint64_t count) {
        const uint64_t o = at;
        at += (count + 3) / 4 * 4;
        return uint32_t(o);
    };
    const uint64_t B = batch;
    off_.h1 = take(B * k_c1 * 784);
    off_.a1 = take(B * k_c1 * 784);
    off_.h2 = take(B * k_c2 * 196);
    off_.a2 = take(B * k_c2 * 196);
    off_.h3 = take(B * k_flat);
    off_.a3 = take(B * k_flat);
    off_.f = take(B * Classifier::features);
    off_.af = take(B * Classifier::features);
    off_.z = take(B * Classifier::classes);
    off_.p = take(B * Classifier::classes);
    off_.loss = take(B);
    off_.total = uint32_t(at);
    if (at * 4 > ctx.info().max_storage_buffer_range)
        throw std::invalid_argument("classifier: batch " + std::to_string(batch) + " needs " + std::to_string(at * 4 >> 20) +
                                    " MiB of activations, more than this device's storage-buffer range; use a smaller batch");
    params_ = engine::Buffer(ctx, uint64_t(table_.total()) * 4);
    act_ = engine::Buffer(ctx, at * 4);
    if (training) {
        grads_ = engine::Buffer(ctx, uint64_t(table_.total()) * 4);
        dact_ = engine::Buffer(ctx, at * 4);
    }
    // The padding between tensors is never written by a layer but the optimiser runs over the whole flat
    // buffers: start them at zero.
    engine::one_shot(ctx, [&](engine::CommandBuffer& cmd) {
        cmd.fill(params_, 0);
        if (training) cmd.fill(grads_, 0);
    });
}

View ClassifierNet::p(const char* name) const { return View(params_, table_[name].offset); }
View ClassifierNet::g(const char* name) const { return View(grads_, table_[name].offset); }

void ClassifierNet::record_forward(engine::CommandBuffer& cmd, View x) {
    x_ = x;
    const uint32_t B = batch_;
    auto a = [&](uint32_t o) { return View(act_, o); };
    conv_.forward(cmd, conv_shape(1, B), x, p("conv1.weight"), p("conv1.bias"), a(off_.h1));
    cmd.barrier();
    silu_.forward(cmd, uint64_t(B) * k_c1 * 784, a(off_.h1), a(off_.a1));
    cmd.barrier();
    conv_.forward(cmd, conv_shape(2, B), a(off_.a1), p("conv2.weight"), p("conv2.bias"), a(off_.h2));
    cmd.barrier();
    silu_.forward(cmd, uint64_t(B) * k_c2 * 196, a(off_.h2), a(off_.a2));
    cmd.barrier();
    conv_.forward(cmd, conv_shape(3, B), a(off_.a2), p("conv3.weight"), p("conv3.bias"), a(off_.h3));
    cmd.barrier();
    silu_.forward(cmd, uint64_t(B) * k_flat, a(off_.h3), a(off_.a3));
    cmd.barrier();
    linear_.forward(cmd, {B, k_flat, Classifier::features}, a(off_.a3), p("fc1.weight"), p("fc1.bias"), a(off_.f));
    cmd.barrier();
    silu_.forward(cmd, uint64_t(B) * Classifier::features, a(off_.f), a(off_.af));
    cmd.barrier();
    linear_.forward(cmd, {B, Classifier::features, Classifier::classes}, a(off_.af), p("fc2.weight"), p("fc2.bias"),
                    a(off_.z));
}

void ClassifierNet::record_loss_and_backward(engine::CommandBuffer& cmd, View labels) {
    if (!training_) throw std::logic_error("classifier: backward on a net made for inference");
    const uint32_t B = batch_;
    auto a = [&](uint32_t o) { return View(act_, o); };
    auto d = [&](uint32_t o) { return View(dact_, o); };
    cmd.barrier();  // RAW: the loss reads the logits
    xent_.forward(cmd, B, Classifier::classes, a(off_.z), labels, a(off_.p), a(off_.loss));
    cmd.barrier();
    xent_.backward(cmd, B, Classifier::classes, a(off_.p), labels, d(off_.z), 1.0f / float(B));
    cmd.barrier();
    linear_.backward_data(cmd, {B, Classifier::features, Classifier::classes}, d(off_.z), p("fc2.weight"), d(off_.af));
    cmd.barrier();  // bindings are whole buffers: dx and dy share dact_
    linear_.backward_weight(cmd, {B, Classifier::features, Classifier::classes}, a(off_.af), d(off_.z), g("fc2.weight"),
                            g("fc2.bias"));
    cmd.barrier();
    silu_.backward(cmd, uint64_t(B) * Classifier::features, a(off_.f), d(off_.af), d(off_.f));
    cmd.barrier();
    linear_.backward_data(cmd, {B, k_flat, Classifier::features}, d(off_.f), p("fc1.weight"), d(off_.a3));
    cmd.barrier();  // bindings are whole buffers: dx and dy share dact_
    linear_.backward_weight(cmd, {B, k_flat, Classifier::features}, a(off_.a3), d(off_.f), g("fc1.weight"), g("fc1.bias"));
    cmd.barrier();
    silu_.backward(cmd, uint64_t(B) * k_flat, a(off_.h3), d(off_.a3), d(off_.h3));
    cmd.barrier();
    conv_.backward_data(cmd, conv_shape(3, B), d(off_.h3), p("conv3.weight"), d(off_.a2));
    cmd.barrier();  // bindings are whole buffers: dx and dy share dact_
    conv_.backward_weight(cmd, conv_shape(3, B), a(off_.a2), d(off_.h3), g("conv3.weight"), g("conv3.bias"));
    cmd.barrier();
    silu_.backward(cmd, uint64_t(B) * k_c2 * 196, a(off_.h2), d(off_.a2), d(off_.h2));
    cmd.barrier();
    conv_.backward_data(cmd, conv_shape(2, B), d(off_.h2), p("conv2.weight"), d(off_.a1));
    cmd.barrier();  // bindings are whole buffers: dx and dy share dact_
    conv_.backward_weight(cmd, conv_shape(2, B), a(off_.a1), d(off_.h2), g("conv2.weight"), g("conv2.bias"));
    cmd.barrier();
    silu_.backward(cmd, uint64_t(B) * k_c1 * 784, a(off_.h1), d(off_.a1), d(off_.h1));
    cmd.barrier();
    conv_.backward_weight(cmd, conv_shape(1, B), x_, d(off_.h1), g("conv1.weight"), g("conv1.bias"));
}

Classified classify(engine::Context& ctx, const std::vector<float>& weights, const std::vector<float>& images,
                    uint32_t batch) {
    if (images.size() % 784) throw std::invalid_argument("classify: images must be a whole number of 28×28 images");
    const uint32_t count = uint32_t(images.size() / 784);
    Classified out;
    if (count == 0) return out;
    const uint32_t B = std::min(batch, count);
    ClassifierNet net(ctx, B, false);
    net.param_buffer().upload(weights);
    engine::Buffer x(ctx, uint64_t(B) * 784 * 4, engine::Memory::Upload);
    engine::Buffer result(ctx, uint64_t(B) * (Classifier::classes + Classifier::features) * 4, engine::Memory::Readback);
    engine::CommandBuffer cmd(ctx);
    cmd.begin();
    cmd.barrier_from_host();
    net.record_forward(cmd, x);
    cmd.barrier();
    // logits, then features, into one readback buffer
    cmd.copy(net.activations(), result, uint64_t(B) * Classifier::classes * 4, uint64_t(net.logits().offset) * 4, 0);
    cmd.copy(net.activations(), result, uint64_t(B) * Classifier::features * 4, uint64_t(net.features().offset) * 4,
             uint64_t(B) * Classifier::classes * 4);
    cmd.barrier_to_host();
    cmd.end();
    out.probs.resize(size_t(count) * Classifier::classes);
    out.features.resize(size_t(count) * Classifier::features);
    out.predicted.resize(count);
    for (uint32_t first = 0; first < count; first += B) {
        const uint32_t n = std::min(B, count - first);
        std::vector<float> xb(size_t(B) * 784, 0.0f);
        std::copy_n(images.begin() + size_t(first) * 784, size_t(n) * 784, xb.begin());
        x.upload(xb);
        cmd.submit_and_wait();
        auto r = result.download_as<float>(size_t(B) * (Classifier::classes + Classifier::features));
        for (uint32_t i = 0; i < n; ++i) {
            const float* z = &r[size_t(i) * Classifier::classes];
            const float m = *std::max_element(z, z + Classifier::classes);
            double s = 0;
            for (uint32_t k = 0; k < Classifier::classes; ++k) s += std::exp(double(z[k]) - m);
            for (uint32_t k = 0; k < Classifier::classes; ++k)
                out.probs[size_t(first + i) * Classifier::classes + k] = float(std::exp(double(z[k]) - m) / s);
            out.predicted[first + i] = int32_t(std::max_element(z, z + Classifier::classes) - z);
            std::copy_n(&r[size_t(B) * Classifier::classes + size_t(i) * Classifier::features], Classifier::features,
                        &out.features[size_t(first + i) * Classifier::features]);
        }
    }
    return out;
}

}  // namespace diffuscope::nn
