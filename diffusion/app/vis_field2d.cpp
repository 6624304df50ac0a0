#include "diffusion/app/vis_field2d.hpp"

#include "diffusion/data/toy2d.hpp"

#include <algorithm>
#include <cmath>

namespace diffuscope::app {

namespace {
struct Push {
    uint32_t mode, k, t, n;
    float lo, hi, max_len;
    uint32_t score, slot, slots;
};
constexpr uint32_t k_max_grid = 64, k_max_particles = 1024, k_max_steps = 250;
}  // namespace

Field2d::Field2d(engine::Context& ctx, VkRenderPass pass)
    : ctx_(&ctx), arrows_pipe_(ctx, pass), grid_x_(ctx, k_max_grid * k_max_grid * 8),
      grid_level_(ctx, k_max_grid * k_max_grid * 4), grid_label_(ctx, k_max_grid * k_max_grid * 4),
      grid_out_(ctx, k_max_grid * k_max_grid * 8), arrows_(ctx, k_max_grid * k_max_grid * 16),
      dots_(ctx, k_max_particles * 16), trails_(ctx, VkDeviceSize(k_max_particles) * k_max_steps * 16), pipe_(ctx, {"render/field2d.comp", 7, sizeof(Push)}) {
    engine::one_shot(ctx, [&](engine::CommandBuffer& c) {
        for (engine::Buffer* b : {&grid_x_, &grid_level_, &grid_label_, &grid_out_, &arrows_, &dots_, &trails_}) c.fill(*b, 0);
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
    arrows_set_ = pipe_.bind({schedule_->levels(), grid_x_, grid_level_, grid_label_, grid_out_, arrows_, chain_->trajectory()});
    dots_set_ = pipe_.bind({schedule_->levels(), grid_x_, grid_level_, grid_label_, grid_out_, dots_, chain_->trajectory()});
    trails_set_ = pipe_.bind({schedule_->levels(), grid_x_, grid_level_, grid_label_, grid_out_, trails_, chain_->trajectory()});
    engine::one_shot(*ctx_, [&](engine::CommandBuffer& c) {
        chain_->record_init(c);
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
    for (int i = 0; i < advance && done_ < S; ++i, ++done_) chain_->record_step(c, done_ + 1 == S);
    shown_ = scrub < 0 ? done_ : uint32_t(std::min(scrub, int(done_)));
    // The field at the level of the step shown: timesteps[shown]; once done, the last (least noisy) timestep —
    // at the clean level itself x̂₀ = x_t and the field vanishes.
    const uint32_t t = timesteps_[std::min<size_t>(shown_, S - 1)];
    const uint32_t kk = k_ * k_;
    Push p{0, k_, t, n_, lo, hi, 0.9f * (hi - lo) / float(k_), s_.score ? 1u : 0u, shown_, 0};
    c.barrier();  // RAW: the steps' trajectory → the items; WAR: the oracle's last read of the grid inputs
    c.dispatch(pipe_, arrows_set_, p, engine::groups_for(kk, 64));
    c.barrier();  // RAW: the grid inputs → the oracle
    grid_forward_(c);
    c.barrier();  // RAW: x̂₀ on the grid → the arrows
    p.mode = 1;
    c.dispatch(pipe_, arrows_set_, p, engine::groups_for(kk, 64));
    p.mode = 2;
    c.dispatch(pipe_, dots_set_, p, engine::groups_for(n_, 64));
    trail_slots_ = s_.trails ? shown_ : 0;
    if (trail_slots_) {
        p.mode = 3;
        p.slots = trail_slots_;
        c.dispatch(pipe_, trails_set_, p, engine::groups_for(n_ * trail_slots_, 64));
    }
    c.barrier();  // RAW: the items → the draws (the render pass's vertex shader reads them)
}

void Field2d::draw(VkCommandBuffer cb, VkExtent2D target, engine::Rect r, const VkRect2D*) {
    if (!chain_) return;
    engine::ArrowStyle st;
    const float dom[4] = {lo, lo, hi, hi};
    std::copy(dom, dom + 4, st.domain);
    if (trail_slots_) {
        st.mode = engine::ArrowStyle::Segment;
        const float c[4] = {0.35f, 0.6f, 1.0f, 0.35f};
        std::copy(c, c + 4, st.colour);
        st.thickness = 1.0f;
        arrows_pipe_.draw(cb, target, r, trails_, n_ * trail_slots_, st);
    }
    st.mode = engine::ArrowStyle::Arrow;
    st.thickness = 1.6f;
    st.head = 5;
    st.colour_by_length = true;
    st.max_length = 0.9f * (hi - lo) / float(k_);
    arrows_pipe_.draw(cb, target, r, arrows_, k_ * k_, st);
    st.mode = engine::ArrowStyle::Dot;
    st.colour_by_length = false;
    const float w[4] = {1.0f, 0.55f, 0.2f, 0.9f};
    std::copy(w, w + 4, st.colour);
    st.thickness = 3.0f;
    arrows_pipe_.draw(cb, target, r, dots_, n_, st);
}

}  // namespace diffuscope::app
