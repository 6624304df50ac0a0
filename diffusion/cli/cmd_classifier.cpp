// `diffuscope train-classifier`: the MNIST classifier of diffusion/model/classifier.hpp, trained on the GPU
// (forward, softmax cross-entropy, hand-derived backward, AdamW — the same layers as the UNet) on the training
// split, judged on the held-out split, written atomically as safetensors. `diffuscope eval` uses it.
#include "diffusion/cli/cli.hpp"
#include "diffusion/data/mnist.hpp"
#include "diffusion/model/classifier.hpp"
#include "diffusion/train/classifier_trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace diffuscope::cli {

namespace {

struct ClassifierArgs {
    train::ClassifierTrainConfig cfg;
    std::string data_dir, out = "assets/classifier.safetensors";
    size_t heldout_per_class = 100;
    uint32_t max_images = 0;  // 0: the whole training split
};

int run_train_classifier(const GlobalOptions& g, const ClassifierArgs& a) {
    const auto dir = a.data_dir.empty() ? data::default_data_dir() : std::filesystem::path(a.data_dir);
    auto split = data::split_mnist(data::load_mnist_dir(dir), a.heldout_per_class);
    if (a.max_images && a.max_images < split.train.count) {  // a quick run on the first images
        split.train.count = a.max_images;
        split.train.pixels.resize(size_t(a.max_images) * split.train.rows * split.train.cols);
        split.train.labels.resize(a.max_images);
    }
    auto ctx = make_context(g);
    train::ClassifierTrainer trainer(*ctx, a.cfg, split.train);
    const auto t0 = std::chrono::steady_clock::now();
    double epoch_loss = 0;
    for (uint32_t epoch = 0; epoch < a.cfg.epochs; ++epoch) {
        epoch_loss = trainer.epoch();
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (!g.quiet)
            std::fprintf(stderr, "train-classifier: epoch %u/%u  loss %.4f  %.0f s\n", epoch + 1, a.cfg.epochs, epoch_loss,
                         secs);
    }
    const uint32_t B = a.cfg.batch, step = trainer.steps_done();
    const auto& train = split.train;
    auto weights = trainer.weights();
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
                        {{"heldout_accuracy", buf}, {"epochs", std::to_string(a.cfg.epochs)}, {"batch", std::to_string(B)},
                         {"seed", std::to_string(a.cfg.seed)}, {"train_images", std::to_string(train.count)},
                         {"device", ctx->info().name}});
    if (!g.quiet) std::fprintf(stderr, "train-classifier: wrote %s\n", a.out.c_str());
    return 0;
}

}  // namespace

void register_train_classifier(CLI::App& app, GlobalOptions& g, Command& run) {
    auto a = std::make_shared<ClassifierArgs>();
    auto* cmd = app.add_subcommand("train-classifier", "Train the MNIST classifier that `eval` judges samples with");
    cmd->add_option("--data", a->data_dir, "MNIST folder (IDX files); default: $DIFFUSCOPE_DATA, else data/mnist");
    cmd->add_option("--epochs", a->cfg.epochs, "Passes over the training split")
        ->check(whole_range<uint32_t>(1, 10'000))
        ->capture_default_str();
    cmd->add_option("--batch", a->cfg.batch, "Images per step")->capture_default_str()->check(whole_range<uint32_t>(1, 1024));
    cmd->add_option("--lr", a->cfg.lr, "AdamW peak learning rate (warm-up, then cosine decay)")
        ->check(finite_range(1e-6, 1))
        ->capture_default_str();
    cmd->add_option("--shift", a->cfg.shift, "Random shifts of up to this many pixels (augmentation)")
        ->check(whole_range<int>(0, 4, "pixels"))
        ->capture_default_str();
    cmd->add_option("--seed", a->cfg.seed, "Seed of the initialisation, the order and the shifts")
        ->check(whole_of<uint64_t>())
        ->capture_default_str();
    cmd->add_option("--heldout-per-class", a->heldout_per_class, "Held-out digits per class (the fixed split)")
        ->check(whole_of<size_t>())
        ->capture_default_str();
    cmd->add_option("--max-images", a->max_images, "Train on only the first N training images (0: all; for quick runs)")
        ->check(whole_of<uint32_t>());
    cmd->add_option("--out", a->out, "Weights to write (safetensors, atomic)")->capture_default_str();
    cmd->callback([&g, &run, a] { run = [&g, a] { return run_train_classifier(g, *a); }; });
}

}  // namespace diffuscope::cli
