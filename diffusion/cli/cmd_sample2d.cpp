// `diffuscope sample2d`: the samplers on a 2-D toy whose exact denoiser is known (a Gaussian mixture): points
// as .npy (float32 [N, 2]) + labels, and a PNG scatter of the samples (coloured by label) over the true density
// (grey). The quickest way to see what a sampler, a step count or a schedule does.
#include "diffusion/cli/cli.hpp"
#include "diffusion/cli/sample_common.hpp"
#include "diffusion/io/npy.hpp"
#include "diffusion/io/png.hpp"
#include "diffusion/oracle/gmm_oracle.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace diffuscope::cli {

namespace {

struct Sample2dArgs {
    SamplingArgs common;
    std::string toy = "digits", label = "all", prediction = "eps", out, png;
    uint32_t count = 4096;
};

// 512×512 RGB: the true density in grey (log-scaled counts of 200k true samples; of the one label when all
// samples share it), the samples as coloured dots.
io::Image scatter(const data::Gmm& g, const std::vector<float>& pts, const std::vector<int32_t>& labels) {
    const int W = 512;
    const float lo = -1.5f, hi = 1.5f;
    auto px = [&](float v) { return int((v - lo) / (hi - lo) * W); };
    io::Image img(W, W, 3, 16);
    std::vector<uint32_t> density(size_t(W) * W, 0);
    const bool one = std::all_of(labels.begin(), labels.end(), [&](int32_t l) { return l == labels[0]; });
    auto truth = data::sample_toy2d(g, 200000, 12345, one ? labels[0] : null_label);
    for (size_t i = 0; i + 1 < truth.size(); i += 2) {
        int x = px(truth[i]), y = W - 1 - px(truth[i + 1]);
        if (x >= 0 && x < W && y >= 0 && y < W) ++density[size_t(y) * W + x];
    }
    const uint32_t peak = std::max<uint32_t>(1, *std::max_element(density.begin(), density.end()));
    for (int y = 0; y < W; ++y)
        for (int x = 0; x < W; ++x) {
            uint8_t v = uint8_t(16 + 80 * std::log1p(double(density[size_t(y) * W + x])) / std::log1p(double(peak)));
            for (int c = 0; c < 3; ++c) img.at(x, y, c) = v;
        }
    static const uint8_t palette[11][3] = {{255, 99, 71},  {255, 165, 0},  {255, 215, 0},   {154, 205, 50},
                                           {64, 224, 208}, {30, 144, 255}, {147, 112, 219}, {255, 105, 180},
                                           {210, 180, 140}, {240, 240, 240}, {255, 255, 255}};
    for (size_t i = 0; 2 * i + 1 < pts.size(); ++i) {
        int cx = px(pts[2 * i]), cy = W - 1 - px(pts[2 * i + 1]);
        const uint8_t* col = palette[std::clamp(labels[i], 0, 10)];
        for (int dy = -1; dy <= 1; ++dy)
            for (int dx = -1; dx <= 1; ++dx) {
                int x = cx + dx, y = cy + dy;
                if (x < 0 || y < 0 || x >= W || y >= W) continue;
                for (int c = 0; c < 3; ++c) img.at(x, y, c) = col[c];
            }
    }
    return img;
}

int run_sample2d(const GlobalOptions& g, const Sample2dArgs& a) {
    if (a.out.empty() && a.png.empty()) throw std::invalid_argument("sample2d: give --out FILE.npy and/or --png FILE.png");
    if (a.count == 0) throw std::invalid_argument("sample2d: --count must be positive");
    const data::Gmm gmm = data::toy2d(a.toy);
    const auto labels = parse_labels(a.label, a.count, gmm.n_labels);
    const auto setup = make_sampling(a.common);
    Prediction pred = a.prediction == "eps" ? Prediction::eps : a.prediction == "x0" ? Prediction::x0 : Prediction::v;
    if (a.prediction != "eps" && a.prediction != "x0" && a.prediction != "v")
        throw std::invalid_argument("--prediction " + a.prediction + ": use eps, x0 or v");

    auto ctx = make_context(g);
    ScheduleBuffer schedule(*ctx);
    for (const auto& w : schedule.set(setup.spec).warnings) std::fprintf(stderr, "sample2d: schedule: %s\n", w.c_str());
    oracle::GmmOracle orc(*ctx, gmm, pred);
    const bool guided = setup.guided(labels);
    Chain chain(*ctx, {setup.sampler, a.count, 2, guided, uint32_t(setup.timesteps.size())}, schedule, orc.denoiser());
    chain.reset(setup.timesteps, labels, setup.options);
    Progress progress("sample2d", a.count, uint32_t(setup.timesteps.size()), g.quiet);
    StepTimer timer(*ctx, a.common.timing);
    run_chain(*ctx, chain, progress, timer, 0, a.count);
    progress.done();
    timer.report("2-D mixture oracle \"" + a.toy + "\"", a.count, guided);
    auto pts = chain.x().download_as<float>(size_t(a.count) * 2);
    require_finite_samples(*ctx, chain, "sample2d", pts, 0, a.count,
                           [&] { chain.reset(setup.timesteps, labels, setup.options); });
    if (!a.out.empty()) {
        const std::vector<int64_t> shape = {int64_t(a.count), 2}, lshape = {int64_t(a.count)};
        io::write_npy_f32(a.out, shape, pts);
        auto lp = std::filesystem::path(a.out).replace_extension().string() + ".labels.npy";
        io::write_npy_i32(lp, lshape, labels);
    }
    if (!a.png.empty()) io::write_png(a.png, scatter(gmm, pts, labels));
    return 0;
}

}  // namespace

void register_sample2d(CLI::App& app, GlobalOptions& g, Command& run) {
    auto a = std::make_shared<Sample2dArgs>();
    auto* cmd = app.add_subcommand("sample2d", "Sample a 2-D toy (exact Gaussian-mixture denoiser): points .npy and a PNG scatter");
    cmd->add_option("--toy", a->toy, "gmm8, rings, moons or digits")->capture_default_str();
    cmd->add_option("--label", a->label, "A label of the toy, 'all' (cycling) or 'none'")->capture_default_str();
    cmd->add_option("--count", a->count, "Number of points")->check(whole_range<uint32_t>(1, 1u << 24))->capture_default_str();
    cmd->add_option("--prediction", a->prediction, "What the oracle answers: eps, x0 or v")->capture_default_str();
    add_sampling_options(cmd, a->common);
    cmd->add_option("--out", a->out, "Points as float32 [N, 2]; labels go to <out>.labels.npy");
    cmd->add_option("--png", a->png, "A 512×512 scatter over the true density");
    cmd->callback([&g, &run, a] { run = [&g, a] { return run_sample2d(g, *a); }; });
}

}  // namespace diffuscope::cli
