// Splitting a sampler step across frames is exact: a UNet forward captured into an engine::CommandList and replayed
// in slices (each its own submission, as frames are) writes bit for bit what the direct recording writes, and the
// visualiser's chains stepped a few operations at a time under a GPU-time budget end exactly where whole steps do.
// Changes asked for in the middle of a step wait for its end. The training panel's steps, sliced the same way, give
// bit for bit the weights of `diffuscope train`'s trainer, and the learned 2-D field's those of its MLP trainer. Uses small random UNets and synthetic digits: no data.
#include "diffusion/vis/chains.hpp"
#include "diffusion/vis/training.hpp"
#include "diffusion/data/toy2d.hpp"
#include "diffusion/model/mlp2d.hpp"
#include "diffusion/train/mlp2d_trainer.hpp"
#include "diffusion/model/unet_denoiser.hpp"
#include "tests/gpu.hpp"
#include "tests/model_cli.hpp"

#include <random>

using namespace diffuscope;
using namespace diffuscope::vis;

namespace {
class VisSlicing : public test::GpuTest {};

std::vector<float> run_chain(engine::Context& ctx, const Denoiser& d, const ChainSettings& cs, int steps,
                             uint32_t slice_seed, int* submits) {
    VisChain chain(ctx, d, nullptr, 4);  // groups of 4 on every device (a GPU would take all chains in one)
    ScheduleSettings ss;
    ss.steps = 10;
    engine::one_shot(ctx, [&](engine::CommandBuffer& c) { chain.restart(c, cs, make_schedule(ss)); });
    if (slice_seed == 0) {
        engine::one_shot(ctx, [&](engine::CommandBuffer& c) {
            for (int i = 0; i < steps; ++i) EXPECT_TRUE(chain.record_step(c));
        });
    } else {
        // Budgets from 0 (one operation per submission) to a few ms, or half a step where a whole step takes less
        // (a GPU), with costs learned from timestamps as the window does; a new group only when "playback"
        // allows it.
        engine::Timestamps ts(ctx, 64);
        OpTimer timer{&ts, 64, {}};
        OpCosts costs;
        std::mt19937 rng(slice_seed);
        while (chain.step_index() < steps) {
            const double step_ms = chain.step_ms_estimate();  // 0 until the costs are known
            const double top = step_ms > 0 ? std::min(3.0, 0.5 * step_ms) : 3.0;
            const double budget = std::uniform_real_distribution<double>(0.0, top)(rng);
            engine::CommandBuffer c(ctx);
            c.begin(true);
            timer.reset(c);
            const Slice s = chain.record_budgeted(c, budget, rng() % 3 ? 8 : 0, &costs, &timer);
            c.barrier_to_host();
            c.end();
            c.submit_and_wait();
            timer.harvest(costs);
            if (s.dispatches > 1) {
                EXPECT_LE(s.predicted_ms, budget + 1e-9) << "a second dispatch went over the budget";
            }
            ++*submits;
        }
        EXPECT_GT(costs.known(), 5u) << "the cost model learns from the per-operation timestamps";
    }
    return chain.x_t().download_as<float>(size_t(cs.chains) * 784);
}
}  // namespace

TEST_F(VisSlicing, CapturedForwardReplayedInSlicesEqualsTheDirectRecording) {
    const auto cfg = modeltest::tiny_config(nn::Prediction::v);
    nn::Weights w{cfg, modeltest::random_params(cfg, 11)};
    const Denoiser d = nn::unet_denoiser(ctx, w, "tiny");
    const uint32_t n = 3;
    engine::Buffer x(ctx, n * 784 * 4), level(ctx, n * 4), label(ctx, n * 4), direct(ctx, n * 784 * 4),
        sliced(ctx, n * 784 * 4);
    x.upload(nncheck::to_float(nncheck::randn(n * 784, 5)));
    level.upload(std::vector<float>{-3.0f, 0.5f, 6.0f});
    label.upload(std::vector<int32_t>{1, 10, 7});
    test::poison(direct);
    test::poison(sliced);
    auto direct_rec = d.bind(DenoiserIo{&x, &level, &label, &direct, n});
    auto sliced_rec = d.bind(DenoiserIo{&x, &level, &label, &sliced, n});
    engine::one_shot(ctx, [&](engine::CommandBuffer& c) { direct_rec(c); });

    engine::CommandList list;
    engine::CommandBuffer capture(ctx, list);
    sliced_rec(capture);
    EXPECT_THROW((void)capture.handle(), std::logic_error) << "nothing may reach a real VkCommandBuffer while capturing";
    EXPECT_THROW(capture.submit(), std::logic_error);
    size_t dispatches = 0;
    for (size_t i = 0; i < list.size(); ++i) dispatches += list.signature(i) != 0;
    EXPECT_GT(dispatches, 30u) << "a UNet forward is dozens of passes";
    std::mt19937 rng(77);
    int submits = 0;
    for (size_t at = 0; at < list.size(); ++submits) {
        const size_t k = std::min(list.size() - at, size_t(1 + rng() % 7));
        engine::one_shot(ctx, [&](engine::CommandBuffer& c) {
            c.barrier();  // RAW: the previous slice's activations
            list.replay(c, at, at + k);
        });
        at += k;
    }
    EXPECT_GT(submits, 10);
    const auto a = direct.download_as<float>(), b = sliced.download_as<float>();
    for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << "element " << i << " after " << submits << " slices";
    EXPECT_THROW(list.replay(capture, 2, list.size() + 1), std::out_of_range);
}

TEST_F(VisSlicing, BudgetedChainsEndExactlyWhereWholeStepsDo) {
    const auto cfg = modeltest::tiny_config(nn::Prediction::v);
    nn::Weights w{cfg, modeltest::random_params(cfg, 12)};
    const Denoiser d = nn::unet_denoiser(ctx, w, "tiny");
    for (SamplerKind sampler : {SamplerKind::ddim, SamplerKind::heun}) {
        ChainSettings cs;
        cs.chains = 8;  // two groups
        cs.guidance = 2;  // the doubled batch
        cs.sampler = sampler;
        cs.eta = sampler == SamplerKind::ddim ? 0.5f : 0.0f;  // fresh noise per step must line up too
        int whole = 0, sliced = 0;
        const auto ref = run_chain(ctx, d, cs, 3, 0, &whole);
        const auto got = run_chain(ctx, d, cs, 3, 5 + uint32_t(sampler), &sliced);
        EXPECT_GT(sliced, 6) << "three steps took " << sliced << " submissions";
        for (size_t i = 0; i < ref.size(); ++i)
            ASSERT_EQ(ref[i], got[i]) << sampler_name(sampler) << " element " << i << " (" << sliced << " slices)";
        std::printf("%s: 3 steps of 8 chains in %d budgeted submissions, bit-identical\n", sampler_name(sampler).c_str(), sliced);
    }
}

TEST_F(VisSlicing, ASettingsChangeMidStepWaitsForTheStepToEnd) {
    const auto cfg = modeltest::tiny_config(nn::Prediction::v);
    nn::Weights w{cfg, modeltest::random_params(cfg, 13)};
    const Denoiser d = nn::unet_denoiser(ctx, w, "tiny");
    VisChain chain(ctx, d, nullptr);
    ScheduleSettings ss;
    ss.steps = 10;
    ChainSettings cs;
    cs.chains = 4;
    engine::one_shot(ctx, [&](engine::CommandBuffer& c) { chain.restart(c, cs, make_schedule(ss)); });
    OpCosts costs;
    engine::one_shot(ctx, [&](engine::CommandBuffer& c) { chain.record_budgeted(c, 0.0, 4, &costs, nullptr); });
    ASSERT_TRUE(chain.mid_step());
    const double level = chain.alpha_bar();
    ScheduleSettings cos = ss;
    cos.preset = SchedulePreset::cosine;
    cos.steps = 40;
    chain.set_schedule(make_schedule(cos));
    EXPECT_EQ(chain.alpha_bar(), level) << "the schedule must not change under a half-done step";
    ChainSettings relabel = cs;
    relabel.label = 8;
    chain.set_settings(relabel);
    EXPECT_EQ(chain.settings().label, cs.label) << "a relabel waits for the step to end";
    while (chain.mid_step())
        engine::one_shot(ctx, [&](engine::CommandBuffer& c) { chain.record_budgeted(c, 0.0, 0, &costs, nullptr); });
    EXPECT_EQ(chain.step_index(), 1);
    EXPECT_TRUE(chain.change_pending()) << "applied at the start of the next call, not inside the frame that ended the step";
    EXPECT_EQ(chain.settings().label, cs.label);
    engine::one_shot(ctx, [&](engine::CommandBuffer& c) { chain.record_budgeted(c, 0.0, 0, &costs, nullptr); });
    EXPECT_FALSE(chain.change_pending());
    EXPECT_EQ(chain.settings().label, 8) << "the relabel applies at the step's end";
    EXPECT_GT(chain.total_steps(), 20) << "the finer schedule took over at the step's end";
}

TEST_F(VisSlicing, TrainingPanelStepsInSlicesEqualTheTrainersWholeSteps) {
    data::Mnist digits;
    digits.count = 20;
    digits.rows = digits.cols = 28;
    std::mt19937 gen(3);
    for (uint32_t i = 0; i < digits.count * 784; ++i) digits.pixels.push_back(uint8_t(gen() % 256));
    for (uint32_t i = 0; i < digits.count; ++i) digits.labels.push_back(uint8_t(i % 10));
    TrainingSettings ts;
    ts.base = 8;
    ts.batch = 4;
    ts.seed = 5;
    VisTraining panel(ctx, digits, ts);
    const int steps = 3;
    // Frames: two slots in flight, as the window; a slot's result is read when it comes round again.
    std::mt19937 rng(9);
    int frames = 0;
    bool running = true;
    while (panel.steps() < uint64_t(steps)) {
        const uint32_t slot = uint32_t(frames % 2);
        engine::CommandBuffer c(ctx);
        c.begin(true);
        running = panel.steps() != 1 || frames % 3 != 0;  // pausing mid-step finishes the step, then waits
        panel.record(c, slot, running, std::uniform_real_distribution<double>(0.0, 4.0)(rng));
        c.barrier_to_host();
        c.end();
        c.submit_and_wait();
        panel.slot_finished(slot, 1.0);
        ASSERT_LT(++frames, 5000) << "steps " << panel.steps() << " mid " << panel.mid_step() << " nan " << panel.stopped_on_nan() << " skipped " << panel.skipped();
    }
    EXPECT_GT(frames, 3 * steps) << "a step spread over several frames";
    EXPECT_EQ(panel.losses().size(), size_t(steps));
    EXPECT_GT(panel.step_ms_estimate(), 0.0);

    train::Trainer whole(ctx, panel.config(), digits);
    whole.init();
    std::vector<float> losses;
    for (int i = 0; i < steps; ++i) losses.push_back(whole.step().loss);
    for (int i = 0; i < steps; ++i) EXPECT_EQ(losses[size_t(i)], panel.losses()[size_t(i)]) << "step " << i;
    const auto a = whole.ema_weights(), b = panel.ema_weights().flat;
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << "EMA weight " << i << " after " << frames << " frames";
    std::printf("training panel: %d steps in %d budgeted frames, losses and EMA weights bit-identical\n", steps, frames);
}

TEST_F(VisSlicing, LearnedFieldStepsInSlicesEqualTheMlpTrainersWholeSteps) {
    const auto points = data::sample_toy2d(data::toy2d("moons"), 500, 4);
    train::Mlp2dTrainConfig tc;
    tc.batch = 37;  // odd
    tc.seed = 11;
    train::Mlp2dTrainer sliced(ctx, tc, points), whole(ctx, tc, points);
    StepSlicer slicer(ctx);  // two slots in flight, as the window
    const int steps = 3;
    std::vector<float> losses;
    std::mt19937 rng(13);
    int frames = 0;
    while (sliced.steps_done() < uint64_t(steps)) {
        const uint32_t slot = uint32_t(frames % 2);
        engine::CommandBuffer c(ctx);
        c.begin(true);
        const bool running = frames % 5 != 4;  // paused now and then: a step in progress still ends
        const double budget = std::uniform_real_distribution<double>(0.0, 0.5 * std::max(slicer.step_ms_estimate(sliced.step_ops()), 0.1))(rng);
        slicer.record(c, slot, running, budget, sliced.step_ops(), [&] { sliced.begin_step(); });
        c.barrier_to_host();
        c.end();
        c.submit_and_wait();
        if (slicer.slot_finished(slot, 1.0)) losses.push_back(sliced.finish_step().loss);
        ASSERT_LT(++frames, 5000);
    }
    EXPECT_GT(frames, 2 * steps) << "a step spread over several frames";
    EXPECT_GT(slicer.step_ms_estimate(sliced.step_ops()), 0.0);
    for (int i = 0; i < steps; ++i) EXPECT_EQ(whole.step().loss, losses[size_t(i)]) << "step " << i;
    const uint32_t P = whole.net().params().total();
    const auto a = whole.ema().download_as<float>(P), b = sliced.ema().download_as<float>(P);
    const auto wa = whole.weights().download_as<float>(P), wb = sliced.weights().download_as<float>(P);
    for (uint32_t i = 0; i < P; ++i) {
        ASSERT_EQ(a[i], b[i]) << "EMA weight " << i;
        ASSERT_EQ(wa[i], wb[i]) << "weight " << i;
    }
    std::printf("learned field: %d steps in %d sliced frames, bit-identical to whole steps\n", steps, frames);
}
