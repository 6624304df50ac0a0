// `diffuscope eval`: how good are the digits? Samples N digits spread over the labels (with the sampler,
// steps and guidance given), classifies them with the project's classifier (assets/classifier.safetensors,
// from `diffuscope train-classifier`) and reports label accuracy (the classifier agrees with the requested
// label), mean confidence in the requested label, per-label accuracy, and the Fréchet distance between the
// samples' classifier features and the held-out real digits'. The same figures for real digits are the
// ceiling: held-out accuracy, and the Fréchet distance of N training digits to the held-out ones.
#include "diffusion/cli/cli.hpp"
#include "diffusion/cli/sample_common.hpp"
#include "diffusion/data/assets.hpp"
#include "diffusion/eval/frechet.hpp"
#include "diffusion/model/classifier.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>

namespace diffuscope::cli {

namespace {

struct EvalArgs {
    SamplingArgs common;
    bool oracle = false;
    std::string weights, classifier, data_dir, json;
    uint32_t count = 1000, batch = 100;
    size_t heldout_per_class = 100;
};

struct Scores {
    double accuracy = 0, confidence = 0, frechet = 0;
    std::array<double, 10> per_label{};
    nlohmann::json to_json() const {
        return {{"label_accuracy", accuracy}, {"mean_confidence", confidence}, {"frechet", frechet},
                {"per_label_accuracy", per_label}};
    }
};

Scores score(const nn::Classified& c, const std::vector<int32_t>& wanted, const eval::Gaussian& reference) {
    Scores s;
    std::array<double, 10> right{}, seen{};
    for (size_t i = 0; i < wanted.size(); ++i) {
        const int y = wanted[i];
        seen[y] += 1;
        right[y] += c.predicted[i] == y;
        s.confidence += c.probs[i * nn::Classifier::classes + y];
    }
    double total_right = 0;
    for (int k = 0; k < 10; ++k) {
        total_right += right[k];
        s.per_label[k] = seen[k] ? right[k] / seen[k] : 0.0;
    }
    s.accuracy = total_right / double(wanted.size());
    s.confidence /= double(wanted.size());
    s.frechet = eval::frechet_distance(eval::fit_gaussian(c.features, nn::Classifier::features), reference);
    return s;
}

void print_scores(const char* what, const Scores& s, bool reference = false) {
    std::printf("  %-26s label accuracy %6.2f %%   confidence %.3f   ", what, 100 * s.accuracy, s.confidence);
    if (reference) std::printf("Fréchet (the reference)   per label:");
    else std::printf("Fréchet %8.3f   per label:", s.frechet);
    for (double a : s.per_label) std::printf(" %3.0f", 100 * a);
    std::printf("\n");
}

int run_eval(const GlobalOptions& g, const EvalArgs& a) {
    if (a.oracle == !a.weights.empty())
        throw std::invalid_argument("eval: pass --weights W.safetensors (a trained UNet) or --oracle, not both or neither");
    if (a.count < 10) throw std::invalid_argument("eval: --count must be at least 10 (one per label)");
    const auto setup = make_sampling(a.common);
    const std::filesystem::path cls_path = a.classifier.empty() ? data::find_asset("classifier.safetensors") : std::filesystem::path(a.classifier);
    if (cls_path.empty())
        throw std::runtime_error("eval: no classifier: assets/classifier.safetensors was not found; pass --classifier FILE "
                                 "(make one with `diffuscope train-classifier`)");
    const auto cls = nn::load_classifier(cls_path);
    std::optional<nn::Weights> weights;
    if (!a.weights.empty()) weights = nn::load_weights(a.weights);
    const auto dir = a.data_dir.empty() ? data::default_data_dir() : std::filesystem::path(a.data_dir);
    auto split = data::split_mnist(data::load_mnist_dir(dir), a.heldout_per_class);
    if (split.heldout.count < 2 || split.heldout.rows * split.heldout.cols != 784)
        throw std::runtime_error("eval: the held-out split of " + dir.string() + " is empty or not 28×28");
    auto ctx = make_context(g);

    // The ceiling: real digits.
    std::vector<int32_t> heldout_labels(split.heldout.labels.begin(), split.heldout.labels.end());
    auto real = nn::classify(*ctx, cls, data::pixels01(split.heldout));
    const auto reference = eval::fit_gaussian(real.features, nn::Classifier::features);
    const Scores real_scores = score(real, heldout_labels, reference);
    const size_t n_train = std::min<size_t>(a.count, split.train.count);
    std::vector<int32_t> train_labels(split.train.labels.begin(), split.train.labels.begin() + n_train);
    const Scores train_scores = score(nn::classify(*ctx, cls, data::pixels01(split.train, 0, n_train)), train_labels, reference);

    // The model's digits.
    const std::vector<int32_t> labels = parse_labels("all", a.count);
    const uint32_t B = std::min(a.batch, a.count);
    const bool guided = setup.guided(labels);
    ScheduleBuffer schedule(*ctx);
    for (const auto& w : schedule.set(setup.spec).warnings) std::fprintf(stderr, "eval: schedule: %s\n", w.c_str());
    auto model = load_model(*ctx, weights, a.weights, split.train, guided ? 2 * B : B);
    Chain chain(*ctx, {setup.sampler, B, 784, guided, uint32_t(setup.timesteps.size()), 0}, schedule, model.denoiser);
    Progress progress("eval", a.count, uint32_t(setup.timesteps.size()), g.quiet);
    StepTimer timer(*ctx, false);
    const auto t0 = std::chrono::steady_clock::now();
    auto images = sample_images(*ctx, chain, setup, labels, progress, timer);
    const double sample_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    progress.done();
    const Scores model_scores = score(nn::classify(*ctx, cls, images), labels, reference);

    std::printf("eval: %s, %s %u steps, guidance %.2f, %u samples in %.1f s (%.2f s per 100) on %s\n", model.name.c_str(),
                a.common.sampler.c_str(), uint32_t(setup.timesteps.size()), a.common.guidance, a.count, sample_s,
                100 * sample_s / a.count, ctx->info().name.c_str());
    std::printf("  classifier %s; Fréchet distance on its %u features against the %u held-out digits (comparable only "
                "at equal N and classifier)\n", cls_path.string().c_str(), nn::Classifier::features, split.heldout.count);
    print_scores("samples", model_scores);
    print_scores("real held-out (ceiling)", real_scores, true);
    char what[64];
    std::snprintf(what, sizeof what, "real training, N=%zu", n_train);
    print_scores(what, train_scores);
    if (!a.json.empty()) {
        nlohmann::json j{{"device", ctx->info().name}, {"model", model.name}, {"sampler", a.common.sampler},
                         {"steps", setup.timesteps.size()}, {"guidance", a.common.guidance}, {"count", a.count},
                         {"seed", a.common.seed}, {"seconds", sample_s}, {"seconds_per_100", 100 * sample_s / a.count},
                         {"classifier", cls_path.string()}, {"samples", model_scores.to_json()},
                         {"real_heldout", real_scores.to_json()}, {"real_train", train_scores.to_json()}};
        std::ofstream(a.json) << j.dump(2) << "\n";
    }
    return 0;
}

}  // namespace

void register_eval(CLI::App& app, GlobalOptions& g, Command& run) {
    auto a = std::make_shared<EvalArgs>();
    auto* cmd = app.add_subcommand("eval", "Sample digits and judge them with the classifier: label accuracy, Fréchet distance");
    cmd->add_option("--weights", a->weights, "A trained UNet (.safetensors; a checkpoint's EMA weights are used)");
    cmd->add_flag("--oracle", a->oracle, "Judge the empirical optimal denoiser of the training split instead");
    cmd->add_option("--classifier", a->classifier, "Classifier weights; default: the bundled assets/classifier.safetensors");
    cmd->add_option("--data", a->data_dir, "MNIST folder (IDX files); default: $DIFFUSCOPE_DATA, else data/mnist");
    cmd->add_option("--heldout-per-class", a->heldout_per_class, "Held-out digits per class (the fixed split)")
        ->check(whole_of<size_t>())
        ->capture_default_str();
    cmd->add_option("--count", a->count, "Digits to sample (labels 0–9 in turn)")
        ->check(whole_range<uint32_t>(10, 1'000'000))
        ->capture_default_str();
    cmd->add_option("--batch", a->batch, "Chains per GPU batch (does not change the result)")
        ->check(whole_range<uint32_t>(1, 65'536))
        ->capture_default_str();
    add_sampling_options(cmd, a->common);
    cmd->add_option("--json", a->json, "Also write the figures as JSON");
    cmd->callback([&g, &run, a] { run = [&g, a] { return run_eval(g, *a); }; });
}

}  // namespace diffuscope::cli
