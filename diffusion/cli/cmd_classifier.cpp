// `diffuscope train-classifier`: the MNIST classifier of diffusion/model/classifier.hpp, trained on the GPU
// (forward, softmax cross-entropy, hand-derived backward, AdamW — the same layers as the UNet) on the training
// split, judged on the held-out split, written atomically as safetensors. `diffuscope eval` uses it.
#include "diffusion/cli/cli.hpp"
#include "diffusion/data/mnist.hpp"
#include "diffusion/model/classifier.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>

namespace diffuscope::cli {

namespace {

struct ClassifierArgs {
    std::string data_dir, out = "assets/classifier.safetensors";
    uint32_t epochs = 12, batch = 128;
    float lr = 2e-3f;
    int shift = 2;
    uint64_t seed = 1;
    size_t heldout_per_class = 100;
    uint32_t max_images = 0;  // 0: the whole training split
};

// Image i shifted by (dx, dy) with zeros coming in, as floats in [0, 1].
void put_shifted(const data::Mnist& d, size_t i, int dx, int dy, float* out) {
    auto img = d.image(i);
    for (int y = 0; y < 28; ++y)
        for (int x = 0; x < 28; ++x) {
            const int sx = x - dx, sy = y - dy;
            out[y * 28 + x] = (sx >= 0 && sx < 28 && sy >= 0 && sy < 28) ? img[size_t(sy) * 28 + sx] / 255.0f : 0.0f;
        }
}

int run_train_classifier(const GlobalOptions& g, const ClassifierArgs& a) {
    if (a.epochs == 0 || a.batch == 0) throw std::invalid_argument("train-classifier: --epochs and --batch must be positive");
    if (a.shift < 0 || a.shift > 4) throw std::invalid_argument("train-classifier: --shift must be in [0, 4]");
    const auto dir = a.data_dir.empty() ? data::default_data_dir() : std::filesystem::path(a.data_dir);
    auto split = data::split_mnist(data::load_mnist_dir(dir), a.heldout_per_class);
    if (a.max_images && a.max_images < split.train.count) {  // a quick run on the first images
        split.train.count = a.max_images;
        split.train.pixels.resize(size_t(a.max_images) * split.train.rows * split.train.cols);
        split.train.labels.resize(a.max_images);
    }
    const auto& train = split.train;
    if (train.rows != 28 || train.cols != 28) throw std::runtime_error("train-classifier: the images are not 28×28");
    if (train.count < a.batch) throw std::runtime_error("train-classifier: fewer training images than one batch");
    auto ctx = make_context(g);
    const uint32_t B = a.batch, P = nn::Classifier::params().total();
    nn::ClassifierNet net(*ctx, B, true);
    net.param_buffer().upload(nn::Classifier::init(a.seed));
    nn::Optimizer opt(*ctx);
    engine::Buffer m(*ctx, uint64_t(P) * 4), v(*ctx, uint64_t(P) * 4),
        scratch(*ctx, std::max<uint64_t>(1, nn::Optimizer::scratch_count(P)) * 4),
        state(*ctx, sizeof(nn::OptState), engine::Memory::Upload), x(*ctx, uint64_t(B) * 784 * 4, engine::Memory::Upload),
        labels(*ctx, uint64_t(B) * 4, engine::Memory::Upload), loss(*ctx, uint64_t(B) * 4, engine::Memory::Readback);
    engine::one_shot(*ctx, [&](engine::CommandBuffer& cmd) {
        cmd.fill(m, 0);
        cmd.fill(v, 0);
    });
    engine::CommandBuffer cmd(*ctx);
    cmd.begin();
    cmd.barrier_from_host();  // the batch, its labels and the optimiser state
    net.record_forward(cmd, x);
    net.record_loss_and_backward(cmd, labels);
    cmd.barrier();  // RAW: the optimiser reads every gradient
    opt.grad_norm(cmd, P, net.grad_buffer(), scratch, state);
    cmd.barrier();
    opt.adamw(cmd, P, net.param_buffer(), net.grad_buffer(), m, v, state);
    cmd.copy(net.activations(), loss, uint64_t(B) * 4, uint64_t(net.loss().offset) * 4, 0);
    cmd.barrier_to_host();
    cmd.end();

    const uint32_t steps_per_epoch = train.count / B, total = steps_per_epoch * a.epochs, warmup = std::min(100u, total / 10);
    std::mt19937_64 gen(a.seed);
    std::vector<uint32_t> order(train.count);
    std::iota(order.begin(), order.end(), 0u);
    std::vector<float> xb(size_t(B) * 784);
    std::vector<int32_t> lb(B);
    std::uniform_int_distribution<int> shift(-a.shift, a.shift);
    const auto t0 = std::chrono::steady_clock::now();
    double epoch_loss = 0;
    uint32_t step = 0;
    for (uint32_t epoch = 0; epoch < a.epochs; ++epoch) {
        std::shuffle(order.begin(), order.end(), gen);
        epoch_loss = 0;
        for (uint32_t s = 0; s < steps_per_epoch; ++s, ++step) {
            for (uint32_t i = 0; i < B; ++i) {
                const uint32_t idx = order[size_t(s) * B + i];
                const int dx = shift(gen), dy = shift(gen);
                put_shifted(train, idx, dx, dy, &xb[size_t(i) * 784]);
                lb[i] = train.labels[idx];
            }
            x.upload(xb);
            labels.upload(lb);
            nn::OptState st;  // warm-up, then cosine decay to 5 % of lr
            const double progress = double(step) / double(std::max(1u, total - 1));
            st.lr = step < warmup ? a.lr * float(step + 1) / float(warmup)
                                  : float(a.lr * (0.05 + 0.95 * 0.5 * (1 + std::cos(M_PI * progress))));
            st.weight_decay = 1e-4f;
            st.max_grad_norm = 5.0f;
            st.set_step(step + 1);
            state.upload(&st, sizeof st);
            cmd.submit_and_wait();
            auto l = loss.download_as<float>(B);
            double mean = 0;
            for (float v_ : l) mean += v_;
            mean /= B;
            if (!std::isfinite(mean)) throw std::runtime_error("train-classifier: the loss is not finite at step " + std::to_string(step));
            epoch_loss += mean;
        }
        epoch_loss /= steps_per_epoch;
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (!g.quiet)
            std::fprintf(stderr, "train-classifier: epoch %u/%u  loss %.4f  %.0f s\n", epoch + 1, a.epochs, epoch_loss, secs);
    }
    auto weights = net.param_buffer().download_as<float>(P);
    auto result = nn::classify(*ctx, weights, data::pixels01(split.heldout));
    size_t right = 0;
    for (size_t i = 0; i < result.predicted.size(); ++i) right += result.predicted[i] == split.heldout.labels[i];
    const double acc = double(right) / double(std::max<size_t>(1, result.predicted.size()));
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("train-classifier: held-out accuracy %.2f %% (%zu/%zu), final epoch loss %.4f, %u steps in %.0f s on %s\n",
                100 * acc, right, result.predicted.size(), epoch_loss, step, secs, ctx->info().name.c_str());
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4f", acc);
    std::filesystem::create_directories(std::filesystem::absolute(a.out).parent_path());
    nn::save_classifier(a.out, weights,
                        {{"heldout_accuracy", buf}, {"epochs", std::to_string(a.epochs)}, {"batch", std::to_string(B)},
                         {"seed", std::to_string(a.seed)}, {"train_images", std::to_string(train.count)},
                         {"device", ctx->info().name}});
    if (!g.quiet) std::fprintf(stderr, "train-classifier: wrote %s\n", a.out.c_str());
    return 0;
}

}  // namespace

void register_train_classifier(CLI::App& app, GlobalOptions& g, Command& run) {
    auto a = std::make_shared<ClassifierArgs>();
    auto* cmd = app.add_subcommand("train-classifier", "Train the MNIST classifier that `eval` judges samples with");
    cmd->add_option("--data", a->data_dir, "MNIST folder (IDX files); default: $DIFFUSCOPE_DATA, else data/mnist");
    cmd->add_option("--epochs", a->epochs, "Passes over the training split")->capture_default_str();
    cmd->add_option("--batch", a->batch, "Images per step")->capture_default_str()->check(CLI::Range(1u, 1024u));
    cmd->add_option("--lr", a->lr, "AdamW peak learning rate (warm-up, then cosine decay)")->capture_default_str();
    cmd->add_option("--shift", a->shift, "Random shifts of up to this many pixels (augmentation)")->capture_default_str();
    cmd->add_option("--seed", a->seed, "Seed of the initialisation, the order and the shifts")->capture_default_str();
    cmd->add_option("--heldout-per-class", a->heldout_per_class, "Held-out digits per class (the fixed split)")
        ->capture_default_str();
    cmd->add_option("--max-images", a->max_images, "Train on only the first N training images (0: all; for quick runs)");
    cmd->add_option("--out", a->out, "Weights to write (safetensors, atomic)")->capture_default_str();
    cmd->callback([&g, &run, a] { run = [&g, a] { return run_train_classifier(g, *a); }; });
}

}  // namespace diffuscope::cli
