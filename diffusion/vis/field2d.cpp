#include "diffusion/vis/field2d.hpp"

#include "diffusion/data/toy2d.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace diffuscope::vis {

namespace {
struct Push {
    uint32_t mode, k, t, n;
    float lo, hi, max_len;
    uint32_t score, slot, slots, stride;
};
// Trail segments drawn per panel on a CPU driver: llvmpipe drew 256 particles' 100-step trails (25,600 instanced
// quads a panel) in most of a 77 ms "draw + ui" pass; longer segments (every stride-th step) keep the shape.
constexpr uint32_t k_cpu_trail_segments = 6144;
constexpr uint32_t k_max_grid = 64, k_max_particles = 1024, k_max_steps = 250;
constexpr VkDeviceSize k_grid = k_max_grid * k_max_grid, k_trail_items = VkDeviceSize(k_max_particles) * k_max_steps;
}  // namespace

Field2d::Field2d(engine::Context& ctx, VkRenderPass pass)
    : ctx_(&ctx), arrows_pipe_(ctx, pass), grid_x_(ctx, k_grid * 8), grid_level_(ctx, k_grid * 4),
      grid_label_(ctx, k_grid * 4), grid_out_(ctx, k_grid * 8), grid_v_(ctx, k_grid * 8), arrows_(ctx, k_grid * 16),
      dots_(ctx, k_max_particles * 16), trails_(ctx, k_trail_items * 16), arrows_learned_(ctx, k_grid * 16),
      arrows_diff_(ctx, k_grid * 16), dots_learned_(ctx, k_max_particles * 16), trails_learned_(ctx, k_trail_items * 16),
      pipe_(ctx, {"render/field2d.comp", 8, sizeof(Push)}), slicer_(ctx) {
    engine::one_shot(ctx, [&](engine::CommandBuffer& c) {
        for (engine::Buffer* b : {&grid_x_, &grid_level_, &grid_label_, &grid_out_, &grid_v_, &arrows_, &dots_, &trails_,
                                  &arrows_learned_, &arrows_diff_, &dots_learned_, &trails_learned_})
            c.fill(*b, 0);
    });
}

void Field2d::restart(const ScheduleSpec& spec, const Field2dSettings& s, uint64_t seed) {
    vkDeviceWaitIdle(ctx_->device());  // the buffers below are rebuilt under frames that may still read them
    s_ = s;
    const auto names = data::toy2d_names();
    s_.dataset = std::clamp(s.dataset, 0, int(names.size()) - 1);
    gmm_name_ = names[size_t(s_.dataset)];
    k_ = uint32_t(std::clamp(s.grid, 4, int(k_max_grid)));
    n_ = uint32_t(std::clamp(s.particles, 1, int(k_max_particles)));
    chain_.reset();
    learned_chain_.reset();
    learned_grid_forward_ = nullptr;
    oracle_ = std::make_unique<oracle::GmmOracle>(*ctx_, data::toy2d(gmm_name_), Prediction::x0);
    if (!schedule_) schedule_ = std::make_unique<ScheduleBuffer>(*ctx_);
    schedule_->set(spec);
    levels_ = compute_levels(spec);
    const uint32_t S = uint32_t(std::clamp(s.steps, 1, int(std::min(spec.timesteps, k_max_steps))));
    timesteps_ = respace(spec.timesteps, S, Spacing::trailing);
    ChainConfig cfg{SamplerKind::ddim, n_, 2, false, S, S + 1};  // every step's x kept (slot k = step k)
    chain_ = std::make_unique<Chain>(*ctx_, cfg, *schedule_, oracle_->denoiser());
    SamplerOptions o;
    o.seed = seed;
    chain_->reset(timesteps_, std::vector<int32_t>(n_, null_label), o);
    grid_model_ = oracle_->denoiser();
    grid_forward_ = grid_model_.bind(DenoiserIo{&grid_x_, &grid_level_, &grid_label_, &grid_out_, k_ * k_});
    auto bind = [&](const engine::Buffer& items, const Chain& chain) {
        return pipe_.bind({schedule_->levels(), grid_x_, grid_level_, grid_label_, grid_out_, items, chain.trajectory(), grid_v_});
    };
    arrows_set_ = bind(arrows_, *chain_);
    dots_set_ = bind(dots_, *chain_);
    trails_set_ = bind(trails_, *chain_);
    if (learned_shown()) {
        // The learned model lives on while the data set stays: a restart (new particles, a new schedule) keeps
        // what it has learned.
        if (!learner_ || learner_dataset_ != gmm_name_) {
            learner_.reset();
            train::Mlp2dTrainConfig tc;
            tc.seed = seed;
            learner_ = std::make_unique<train::Mlp2dTrainer>(*ctx_, tc, data::sample_toy2d(oracle_->mixture(), 20000, seed + 1));
            slicer_ = StepSlicer(*ctx_);  // a step of the old learner in progress is dropped with it
            learner_dataset_ = gmm_name_;
            learn_loss_ = 0;
        }
        learned_model_ = nn::mlp2d_denoiser(*ctx_, learner_->config().model, learner_->ema(), "mlp2d (" + gmm_name_ + ")");
        learned_chain_ = std::make_unique<Chain>(*ctx_, cfg, *schedule_, learned_model_);
        learned_chain_->reset(timesteps_, std::vector<int32_t>(n_, null_label), o);  // the same x_T as the exact chain
        learned_grid_forward_ = learned_model_.bind(DenoiserIo{&grid_x_, &grid_level_, &grid_label_, &grid_v_, k_ * k_});
        learned_set_ = bind(arrows_learned_, *learned_chain_);
        diff_set_ = bind(arrows_diff_, *learned_chain_);
        dots_learned_set_ = bind(dots_learned_, *learned_chain_);
        trails_learned_set_ = bind(trails_learned_, *learned_chain_);
    }
    engine::one_shot(*ctx_, [&](engine::CommandBuffer& c) {
        chain_->record_init(c);
        if (learned_chain_) learned_chain_->record_init(c);
    });
    done_ = 0;
    shown_ = 0;
    trail_slots_ = 0;
}

double Field2d::shown_alpha_bar() const {
    if (timesteps_.empty()) return 0;
    return levels_[timesteps_[std::min<size_t>(shown_, timesteps_.size() - 1)]].alpha_bar;
}

void Field2d::record(engine::CommandBuffer& c, int advance, int scrub) {
    if (!chain_) return;
    const uint32_t S = uint32_t(timesteps_.size());
    c.barrier();  // RAW/WAR: the last frame's passes and draws over the chain and the item buffers
    for (int i = 0; i < advance && done_ < S; ++i, ++done_) {
        chain_->record_step(c, done_ + 1 == S);
        if (learned_chain_) learned_chain_->record_step(c, done_ + 1 == S);
    }
    shown_ = scrub < 0 ? done_ : uint32_t(std::min(scrub, int(done_)));
    // The field at the level of the step shown: timesteps[shown]; once done, the last (least noisy) timestep —
    // at the clean level itself x̂₀ = x_t and the field vanishes.
    const uint32_t t = timesteps_[std::min<size_t>(shown_, S - 1)];
    const uint32_t kk = k_ * k_;
    Push p{0, k_, t, n_, lo, hi, 0.9f * (hi - lo) / float(k_), s_.score ? 1u : 0u, shown_, 0, 1};
    c.barrier();  // RAW: the steps' trajectory → the items; WAR: the oracle's last read of the grid inputs
    c.dispatch(pipe_, arrows_set_, p, engine::groups_for(kk, 64));
    c.barrier();  // RAW: the grid inputs → the oracle
    grid_forward_(c);
    if (learned_grid_forward_) learned_grid_forward_(c);
    c.barrier();  // RAW: x̂₀ (and v̂) on the grid → the arrows
    auto items = [&](uint32_t mode, VkDescriptorSet set, uint32_t count) {
        p.mode = mode;
        c.dispatch(pipe_, set, p, engine::groups_for(count, 64));
    };
    items(1, arrows_set_, kk);
    items(2, dots_set_, n_);
    // Trails: segments of `stride` steps, so that a CPU driver draws at most k_cpu_trail_segments per panel.
    if (ctx_->info().type == VK_PHYSICAL_DEVICE_TYPE_CPU) {
        const uint32_t per_particle = std::max(1u, k_cpu_trail_segments / n_);
        p.stride = std::max(1u, (shown_ + per_particle - 1) / per_particle);
    }
    trail_slots_ = s_.trails ? (shown_ + p.stride - 1) / p.stride : 0;
    p.slots = trail_slots_;
    if (trail_slots_) items(3, trails_set_, n_ * trail_slots_);
    if (learned_chain_) {
        items(4, learned_set_, kk);
        items(5, diff_set_, kk);
        items(2, dots_learned_set_, n_);
        if (trail_slots_) items(3, trails_learned_set_, n_ * trail_slots_);
    }
    c.barrier();  // RAW: the items → the draws (the render pass's vertex shader reads them)
}

std::vector<Field2d::Panel> Field2d::panels() const {
    if (!learned_chain_) return {Panel::exact};
    switch (s_.model) {
    case FieldModel::learned: return {Panel::learned};
    case FieldModel::side_by_side: return {Panel::exact, Panel::learned};
    case FieldModel::difference: return {Panel::difference};
    default: return {Panel::exact};
    }
}

Slice Field2d::record_learning(engine::CommandBuffer& c, uint32_t slot, double budget_ms) {
    if (!learner_ || !learned_chain_) return {};
    // begin_step() is safe there: the previous step's last slice has finished (its slot's fence).
    return slicer_.record(c, slot, s_.learn, budget_ms, learner_->step_ops(), [&] { learner_->begin_step(); });
}

void Field2d::learning_slot_finished(uint32_t slot, double pass_ms) {
    if (!learner_ || !slicer_.slot_finished(slot, pass_ms)) return;
    const auto r = learner_->finish_step();
    if (!r.skipped) learn_loss_ = learn_loss_ == 0 ? r.loss : 0.98 * learn_loss_ + 0.02 * r.loss;
}

void Field2d::draw(VkCommandBuffer cb, VkExtent2D target, engine::Rect r, const VkRect2D*, Panel panel) {
    if (!chain_) return;
    if (panel != Panel::exact && !learned_chain_) return;
    const bool learned = panel != Panel::exact;
    const engine::Buffer& trails = learned ? trails_learned_ : trails_;
    const engine::Buffer& arrows = panel == Panel::exact ? arrows_ : panel == Panel::learned ? arrows_learned_ : arrows_diff_;
    const engine::Buffer& dots = learned ? dots_learned_ : dots_;
    engine::ArrowStyle st;
    const float dom[4] = {lo, lo, hi, hi};
    std::copy(dom, dom + 4, st.domain);
    if (trail_slots_) {
        st.mode = engine::ArrowStyle::Segment;
        const float c[4] = {0.35f, 0.6f, 1.0f, 0.35f};
        std::copy(c, c + 4, st.colour);
        st.thickness = 1.0f;
        arrows_pipe_.draw(cb, target, r, trails, n_ * trail_slots_, st);
    }
    st.mode = engine::ArrowStyle::Arrow;
    st.thickness = 1.6f;
    st.head = 5;
    st.colour_by_length = true;
    st.max_length = 0.9f * (hi - lo) / float(k_);
    arrows_pipe_.draw(cb, target, r, arrows, k_ * k_, st);
    st.mode = engine::ArrowStyle::Dot;
    st.colour_by_length = false;
    const float w[4] = {1.0f, 0.55f, 0.2f, 0.9f};
    std::copy(w, w + 4, st.colour);
    st.thickness = 3.0f;
    arrows_pipe_.draw(cb, target, r, dots, n_, st);
}

}  // namespace diffuscope::vis
