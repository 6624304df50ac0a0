// `diffuscope sample`: digits from noise, headless. The model is a trained UNet (--weights W.safetensors: the
// plain weights `train` exports, or a training checkpoint, whose EMA weights are used) or the empirical optimal
// denoiser of the MNIST training split (--oracle). Writes out.npy (float32 [N,1,28,28] in [0, 1]),
// out.labels.npy (int32 [N]), and optionally a labelled PNG grid and a GIF of the chains from noise to digit.
// Samples are made in batches; sample k always uses RNG stream k, so the same seed gives the same bytes for
// any --batch.
#include "diffusion/cli/cli.hpp"
#include "diffusion/cli/sample_common.hpp"
#include "diffusion/data/mnist.hpp"
#include "diffusion/io/gif.hpp"
#include "diffusion/io/npy.hpp"
#include "diffusion/io/png.hpp"
#include "diffusion/model/unet_denoiser.hpp"
#include "diffusion/oracle/empirical_oracle.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>

namespace diffuscope::cli {

namespace {

struct SampleArgs {
    SamplingArgs common;
    bool oracle = false;
    std::string weights, data_dir, label = "all", out, png, gif;
    uint32_t count = 16, batch = 64;
    size_t heldout_per_class = 100;
    int gif_frames = 60;
};

std::filesystem::path labels_path(const std::filesystem::path& out) {
    auto p = out;
    p.replace_extension();  // out.npy → out
    return p.string() + ".labels.npy";
}

int run_sample(const GlobalOptions& g, const SampleArgs& a) {
    if (a.oracle == !a.weights.empty())
        throw std::invalid_argument(a.oracle ? "sample: pass --weights or --oracle, not both"
                                             : "sample: no model; pass --weights W.safetensors (a trained UNet, e.g. from "
                                               "`diffuscope train`) or --oracle (the empirical optimal denoiser of the "
                                               "MNIST training set)");
    if (a.out.empty()) throw std::invalid_argument("sample: --out FILE.npy is required");
    if (a.count == 0 || a.batch == 0) throw std::invalid_argument("sample: --count and --batch must be positive");
    const std::vector<int32_t> labels = parse_labels(a.label, a.count);
    const auto setup = make_sampling(a.common);  // schedule spec, timesteps, options: validated before any work

    const uint32_t B = std::min(a.batch, a.count), dim = 784;
    const bool guided = setup.guided(labels);
    std::optional<nn::Weights> weights;
    data::Mnist train;
    if (!a.weights.empty()) {
        weights = nn::load_weights(a.weights);  // before the GPU: a bad file fails fast, naming the tensor
    } else {
        const std::filesystem::path dir = a.data_dir.empty() ? data::default_data_dir() : std::filesystem::path(a.data_dir);
        train = data::split_mnist(data::load_mnist_dir(dir), a.heldout_per_class).train;
        if (train.rows * train.cols != 784)
            throw std::runtime_error("sample: " + dir.string() + " holds " + std::to_string(train.rows) + "×" +
                                     std::to_string(train.cols) + " images; the sampler expects 28×28");
    }
    auto ctx = make_context(g);
    ScheduleBuffer schedule(*ctx);
    for (const auto& w : schedule.set(setup.spec).warnings) std::fprintf(stderr, "sample: schedule: %s\n", w.c_str());

    auto loaded = load_model(*ctx, weights, a.weights, train, guided ? 2 * B : B);
    Denoiser& model = loaded.denoiser;
    const std::string& model_name = loaded.name;
    const uint32_t frames = a.gif.empty() ? 0 : uint32_t(std::clamp(a.gif_frames, 2, 1000));
    ChainConfig cfg{setup.sampler, B, dim, guided, uint32_t(setup.timesteps.size()), frames};
    Chain chain(*ctx, cfg, schedule, model);

    std::vector<std::vector<float>> traj;  // [slot][sample·dim], for the GIF
    Progress progress("sample", a.count, uint32_t(setup.timesteps.size()), g.quiet);
    StepTimer timer(*ctx, a.common.timing);
    auto images = sample_images(*ctx, chain, setup, labels, progress, timer, [&](uint32_t, uint32_t n) {
        if (!frames) return;
        const uint32_t used = chain.trajectory_slots_used();
        auto t = chain.trajectory().download_as<float>(size_t(used) * B * dim);
        traj.resize(used);
        for (uint32_t s = 0; s < used; ++s)
            for (size_t i = 0; i < size_t(n) * dim; ++i)
                traj[s].push_back(std::clamp(0.5f * (t[size_t(s) * B * dim + i] + 1), 0.0f, 1.0f));
    });
    progress.done();
    timer.report(model_name, B, guided);

    const std::vector<int64_t> shape = {int64_t(a.count), 1, 28, 28}, lshape = {int64_t(a.count)};
    io::write_npy_f32(a.out, shape, images);
    io::write_npy_i32(labels_path(a.out), lshape, labels);
    std::vector<int> grid_labels(labels.begin(), labels.end());
    const io::GridOptions grid{.columns = 0, .margin = 2, .scale = 2};
    if (!a.png.empty()) io::write_png(a.png, io::image_grid(images, 28, 28, grid, grid_labels));
    if (frames) {
        std::vector<io::GifFrame> gif;
        for (size_t s = 0; s < traj.size(); ++s)
            gif.push_back({io::image_grid(traj[s], 28, 28, grid, grid_labels), uint16_t(s + 1 == traj.size() ? 200 : 6)});
        io::write_gif(a.gif, gif);
    }
    if (!g.quiet) {
        std::fprintf(stderr, "sample: wrote %s and %s", a.out.c_str(), labels_path(a.out).string().c_str());
        if (!a.png.empty()) std::fprintf(stderr, ", %s", a.png.c_str());
        if (!a.gif.empty()) std::fprintf(stderr, ", %s", a.gif.c_str());
        std::fprintf(stderr, "\n");
    }
    return 0;
}

}  // namespace

void register_sample(CLI::App& app, GlobalOptions& g, Command& run) {
    auto a = std::make_shared<SampleArgs>();
    auto* cmd = app.add_subcommand("sample", "Sample digits from noise (headless): .npy, labels, PNG grid, GIF of the chains");
    cmd->add_option("--weights", a->weights,
                    "A trained UNet (.safetensors from `diffuscope train`: exported EMA weights or a checkpoint, whose "
                    "EMA weights are used)");
    cmd->add_flag("--oracle", a->oracle,
                  "Use the empirical optimal denoiser of the MNIST training set as the model: exact for the training "
                  "set, needs no network — and its samples are training images (memorisation)");
    cmd->add_option("--data", a->data_dir, "MNIST folder (IDX files); default: $DIFFUSCOPE_DATA, else data/mnist");
    cmd->add_option("--heldout-per-class", a->heldout_per_class,
                    "Examples of each digit held out of the oracle's training set (the fixed split of `diffuscope data`)")
        ->check(whole_of<size_t>())
        ->capture_default_str();
    cmd->add_option("--label", a->label, "Digit 0–9, 'all' (cycles 0–9) or 'none' (unconditional)")->capture_default_str();
    cmd->add_option("--count", a->count, "Number of samples")->check(whole_range<uint32_t>(1, 1'000'000))->capture_default_str();
    cmd->add_option("--batch", a->batch, "Samples per GPU batch (does not change the result)")
        ->check(whole_range<uint32_t>(1, 65'536))
        ->capture_default_str();
    add_sampling_options(cmd, a->common);
    cmd->add_option("--out", a->out, "Samples as float32 [N,1,28,28] in [0,1]; labels go to <out>.labels.npy")->required();
    cmd->add_option("--png", a->png, "Also a labelled grid of the samples");
    cmd->add_option("--gif", a->gif, "Also an animated GIF of the chains from noise to digit");
    cmd->add_option("--gif-frames", a->gif_frames, "Frames kept for the GIF (every k-th step)")
        ->check(whole_range<int>(2, 1000))
        ->capture_default_str();
    cmd->callback([&g, &run, a] { run = [&g, a] { return run_sample(g, *a); }; });
}

}  // namespace diffuscope::cli
