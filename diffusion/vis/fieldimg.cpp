#include "diffusion/vis/fieldimg.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace diffuscope::vis {

// ---------------------------------------------------------------------------------------------------------------
// The slice's host math.

namespace slice {

double dot(const Vec& a, const Vec& b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

bool orthonormalise(const Vec& a, const Vec& b, Vec& u, Vec& v, double eps) {
    const double na = std::sqrt(dot(a, a)), nb = std::sqrt(dot(b, b));
    if (!(na > eps)) return false;
    Vec uu(a.size()), w = b;
    for (size_t i = 0; i < a.size(); ++i) uu[i] = a[i] / na;
    // Twice (classical Gram–Schmidt repeated): the second pass removes what rounding left along u.
    for (int pass = 0; pass < 2; ++pass) {
        const double c = dot(w, uu);
        for (size_t i = 0; i < w.size(); ++i) w[i] -= c * uu[i];
    }
    const double nw = std::sqrt(dot(w, w));
    if (!(nw > eps * std::max(1.0, nb))) return false;
    for (double& x : w) x /= nw;
    u = std::move(uu);
    v = std::move(w);
    return true;
}

std::array<double, 2> project(const Vec& p, const Vec& origin, const Vec& u, const Vec& v) {
    double a = 0, b = 0;
    for (size_t i = 0; i < p.size(); ++i) {
        const double d = p[i] - origin[i];
        a += d * u[i];
        b += d * v[i];
    }
    return {a, b};
}

Pca principal_directions(const std::vector<Vec>& rows, int count, int max_iterations) {
    Pca out;
    const size_t n = rows.size();
    if (n < 2 || count <= 0) return out;
    const size_t dim = rows[0].size();
    Vec mean(dim, 0.0);
    for (const Vec& r : rows)
        for (size_t i = 0; i < dim; ++i) mean[i] += r[i] / double(n);
    std::vector<Vec> y(n, Vec(dim));
    for (size_t j = 0; j < n; ++j)
        for (size_t i = 0; i < dim; ++i) y[j][i] = rows[j][i] - mean[i];
    // G = Y Yᵀ (n × n, symmetric positive semi-definite).
    std::vector<double> g(n * n);
    for (size_t a = 0; a < n; ++a)
        for (size_t b = a; b < n; ++b) g[a * n + b] = g[b * n + a] = dot(y[a], y[b]);
    for (size_t a = 0; a < n; ++a) out.total_variance += g[a * n + a] / double(n);
    std::vector<Vec> found;            // eigenvectors of G so far
    std::vector<double> found_lambda;  // their eigenvalues
    std::mt19937_64 rng(12345);
    std::normal_distribution<double> normal(0.0, 1.0);
    for (int c = 0; c < count && c < int(n) - 1; ++c) {
        Vec e(n), z(n);
        for (double& x : e) x = normal(rng);
        double lambda = 0;
        for (int it = 0; it < max_iterations; ++it) {
            // Deflation: power iteration on G − Σ λ_p e_p e_pᵀ is power iteration on G restricted to the
            // complement of the vectors found, so e is kept orthogonal to them (twice, against rounding).
            for (int pass = 0; pass < 2; ++pass)
                for (const Vec& f : found) {
                    const double p = dot(e, f);
                    for (size_t i = 0; i < n; ++i) e[i] -= p * f[i];
                }
            const double ne = std::sqrt(dot(e, e));
            if (!(ne > 0)) break;
            for (double& x : e) x /= ne;
            for (size_t a = 0; a < n; ++a) {
                double s = 0;
                for (size_t b = 0; b < n; ++b) s += g[a * n + b] * e[b];
                z[a] = s;
            }
            lambda = dot(e, z);  // the Rayleigh quotient
            const double nz = std::sqrt(dot(z, z));
            if (!(nz > 0)) break;
            double change = 0;
            for (size_t i = 0; i < n; ++i) {
                const double next = z[i] / nz;
                change = std::max(change, std::abs(next - e[i]));
                e[i] = next;
            }
            if (change < 1e-13) break;
        }
        if (!(lambda > 1e-12 * std::max(out.total_variance * double(n), 1e-300))) break;  // no variance left
        Vec axis(dim, 0.0);
        for (size_t j = 0; j < n; ++j)
            for (size_t i = 0; i < dim; ++i) axis[i] += e[j] * y[j][i];
        const double na = std::sqrt(dot(axis, axis));
        if (!(na > 0)) break;
        for (double& x : axis) x /= na;
        found.push_back(e);
        found_lambda.push_back(lambda);
        out.axes.push_back(std::move(axis));
        out.variance.push_back(lambda / double(n));
    }
    return out;
}

std::vector<Vec> class_means(const data::Mnist& m) {
    const size_t dim = size_t(m.rows) * m.cols;
    std::vector<Vec> sum(10, Vec(dim, 0.0));
    std::array<size_t, 10> count{};
    for (uint32_t i = 0; i < m.count; ++i) {
        const int c = m.labels[i];
        if (c < 0 || c > 9) continue;
        ++count[size_t(c)];
        const uint8_t* px = &m.pixels[size_t(i) * dim];
        for (size_t p = 0; p < dim; ++p) sum[size_t(c)][p] += px[p] / 127.5 - 1.0;
    }
    for (size_t c = 0; c < 10; ++c) {
        if (count[c] == 0) {
            sum[c].clear();
            continue;
        }
        for (double& x : sum[c]) x /= double(count[c]);
    }
    return sum;
}

}  // namespace slice

std::array<double, 2> FieldSlice::point(uint32_t j) const {
    if (j == 0) return {0.0, 0.0};
    const uint32_t i = j - 1;
    return {lo[0] + (double(i % grid) + 0.5) * cell(), lo[1] + (double(i / grid) + 0.5) * cell()};
}

// ---------------------------------------------------------------------------------------------------------------

namespace {
struct FieldPush {  // render/fieldimg.comp
    uint32_t mode, k, first, count, points, guided, prediction, score, dim;
    int32_t label;
    float lo_a, lo_b, cell, log_snr, a, b, w, max_len;
};
struct OverlayPush {  // render/fieldimg_overlay.comp
    uint32_t count, cols, rows, gap, width, height, mode;
    float range, max_alpha;
};
struct QuadPush {  // render/quad_push.glsl
    float rect[4];
    float target[2];
    uint32_t image_w, image_h;
    float opacity;
};
FieldPush field_push(const FieldSlice& sl, Prediction prediction) {
    FieldPush p{};
    p.k = sl.grid;
    p.count = sl.points;
    p.points = sl.guided ? FieldImg::batch / 2 : FieldImg::batch;
    p.guided = sl.guided ? 1u : 0u;
    p.prediction = uint32_t(prediction);
    p.score = sl.score ? 1u : 0u;
    p.dim = FieldImg::pixels;
    p.label = sl.label;
    p.lo_a = float(sl.lo[0]);
    p.lo_b = float(sl.lo[1]);
    p.cell = float(sl.cell());
    // λ = log(ᾱ/(1 − ᾱ)) as the chains feed it; the clean level (ᾱ = 1) as the schedule's sentinel does.
    const double ab = sl.alpha_bar;
    p.log_snr = ab >= 1.0 ? log_snr_clean : float(std::log(ab / (1.0 - ab)));
    p.a = float(std::sqrt(ab));
    p.b = float(std::sqrt(std::max(1.0 - ab, 0.0)));
    p.w = sl.guidance;
    p.max_len = float(0.9 * sl.cell());
    return p;
}

constexpr uint32_t k_max_overlay_pixels = 9 * 29 * 9 * 29;  // 64 chains: 8×8 tiles of 28 px + gaps

slice::Vec to_double(const float* f, size_t n) { return slice::Vec(f, f + n); }
slice::Vec rounded(const slice::Vec& v) {  // what the GPU sees (float)
    slice::Vec r(v.size());
    for (size_t i = 0; i < v.size(); ++i) r[i] = double(float(v[i]));
    return r;
}
}  // namespace

FieldImg::FieldImg(engine::Context& ctx, VkRenderPass pass)
    : ctx_(&ctx), arrows_pipe_(ctx, pass),
      quad_(ctx, pass, {"render/quad.vert", "render/image.frag", 1, sizeof(QuadPush)}),
      field_pipe_(ctx, {"render/fieldimg.comp", 7, sizeof(FieldPush)}),
      overlay_pipe_(ctx, {"render/fieldimg_overlay.comp", 4, sizeof(OverlayPush)}), basis_(ctx, 3 * pixels * 4),
      model_x_(ctx, batch * pixels * 4), model_level_(ctx, batch * 4), model_label_(ctx, batch * 4),
      model_out_(ctx, batch * pixels * 4), raw_(ctx, (1 + max_grid * max_grid) * 16),
      items_{engine::Buffer(ctx, (1 + max_grid * max_grid) * 16), engine::Buffer(ctx, (1 + max_grid * max_grid) * 16)},
      readback_(ctx, (2 + max_path) * pixels * 4), overlay_(ctx, k_max_overlay_pixels * 4) {
    engine::one_shot(ctx, [&](engine::CommandBuffer& c) {
        for (engine::Buffer* b : {&basis_, &model_x_, &model_level_, &model_label_, &model_out_, &raw_, &items_[0],
                                  &items_[1], &overlay_})
            c.fill(*b, 0);
    });
    for (int i = 0; i < 2; ++i)
        field_set_[i] = field_pipe_.bind({basis_, model_x_, model_level_, model_label_, model_out_, raw_, items_[i]});
    quad_set_ = quad_.bind({overlay_});
}

FieldImg::Key FieldImg::key_for(const Inputs& in, const FieldImgSettings& s) const {
    const VisChain& ch = *in.chain;
    const ChainSettings& cs = ch.settings();
    Key k;
    k.chain = &ch;
    k.step = ch.step_index();
    k.pending = ch.chains_pending();
    k.frames = ch.history_frames();
    k.chains = cs.chains;
    k.seed = cs.seed;
    k.k = std::clamp(s.chain, 0, int(cs.chains) - 1);
    k.label = cs.label;
    k.label_mode = int(cs.label_mode);
    k.guidance = cs.guidance;
    k.alpha_bar = ch.alpha_bar();
    k.basis = int(s.basis);
    k.a = s.class_a;
    k.b = s.class_b;
    k.a_is_label = s.a_is_label;
    k.grid = s.grid;
    k.score = cs.view == PredictionView::score;
    return k;
}

uint32_t FieldImg::record_field(engine::CommandBuffer& cmd, const Inputs& in, const FieldImgSettings& s, double budget_ms,
                                uint32_t slot) {
    if (!in.chain || !in.schedule) return 0;
    if (!bound_to(*in.chain)) {
        if (!in.model) return 0;
        // A new chain comes with a new model (the panel's model pick): bind our batch to it; old fields are void.
        model_ = *in.model;
        forward_ = model_.bind(DenoiserIo{&model_x_, &model_level_, &model_label_, &model_out_, batch});
        bound_serial_ = in.chain->serial();
        slices_[0].valid = slices_[1].valid = false;
        filling_ = false;
        filling_key_ = Key{};
        ops_.clear();
    }
    const Key key = key_for(in, s);
    // A new slice when the last one is complete and the chain moved, or at once when a setting changed (the
    // panel's chain, basis, classes, grid; the label, guidance, model, a restart).
    // Between two groups of the step in progress (VisChain replays a group's operations across frames), so every
    // chain's display x_t is whole: its group has stepped (next level) or not (this level).
    const bool between_groups = in.chain->operation_in_progress() == 0 || s.complete_now;
    if (!(key == filling_key_) && (!filling_ || s.complete_now || !key.only_progress(filling_key_)) && between_groups) {
        take_snapshot(in, s, slices_[1 - shown_]);
        filling_ = true;
        next_ = 0;
        ops_.clear();  // a batch half replayed is dropped: the next starts from its inputs
        filling_key_ = key;
    }
    if (!filling_) return 0;
    const FieldSlice& sl = slices_[1 - shown_];
    const uint32_t per = sl.guided ? batch / 2 : batch;
    // The batches are captured (engine::CommandList) and replayed a few dispatches per frame, as the chains' steps
    // are: as many as the measured mean GPU time per dispatch lets fit `budget_ms` (at least one). No budget: one
    // whole batch a frame; complete_now: all of them.
    const bool whole = s.complete_now || budget_ms <= 0;
    Slice out;
    while (filling_) {
        if (ops_.empty()) {
            engine::CommandBuffer capture(*ctx_, ops_);
            record_batch(capture, sl, next_);
            op_pos_ = 0;
        }
        if (!replay_within_budget(cmd, ops_, op_pos_, whole ? 1e300 : budget_ms, out, &costs_, nullptr)) {
            slot_raw_ms_[slot % slot_raw_ms_.size()] = out.raw_ms;
            return out.dispatches;  // the rest: next frame
        }
        ops_.clear();
        op_pos_ = 0;
        next_ += per;
        if (next_ >= sl.points) {
            // Complete: the arrows to draw, into the buffer not on screen; it is shown from this frame on.
            FieldPush p = field_push(sl, model_.prediction);
            p.mode = 2;
            cmd.barrier();  // RAW: the projections in raw → the items
            cmd.dispatch(field_pipe_, field_set_[1 - shown_], p, 1);
            cmd.barrier();  // RAW: the items → the draws (the render pass's vertex shader reads them)
            shown_ = 1 - shown_;
            filling_ = false;
        } else if (!s.complete_now && budget_ms <= 0) {
            break;  // one batch a frame
        }
    }
    slot_raw_ms_[slot % slot_raw_ms_.size()] = out.raw_ms;
    return out.dispatches;
}

void FieldImg::measured(uint32_t slot, double field_ms) {
    double& raw = slot_raw_ms_[slot % slot_raw_ms_.size()];
    if (field_ms > 0) costs_.calibrate(raw, field_ms);
    raw = 0;
}

// Chain k's x_t, its last x̂₀ and its trajectory (at most max_path frames, evenly spaced, the first and the last
// included), read back once the frames' submitted work has finished.
FieldImg::ChainState FieldImg::read_chain(const VisChain& ch, uint32_t chain) {
    VK_CHECK(vkDeviceWaitIdle(ctx_->device()));
    const uint32_t frames = ch.history_frames(), n = std::min(frames, max_path);
    std::vector<uint32_t> picked;
    for (uint32_t i = 0; i < n; ++i)
        picked.push_back(n == 1 ? frames - 1 : uint32_t(std::lround(double(i) * (frames - 1) / double(n - 1))));
    const VkDeviceSize row = pixels * 4, at = VkDeviceSize(chain) * row;
    engine::one_shot(*ctx_, [&](engine::CommandBuffer& c) {
        c.barrier();  // RAW: the frames' sampler steps wrote x_t, x̂₀ and the trajectory → these copies
        c.copy(ch.x_t(), readback_, row, at, 0);
        c.copy(ch.x0_hat(), readback_, row, at, row);
        for (uint32_t i = 0; i < n; ++i)
            c.copy(ch.history(), readback_, row, VkDeviceSize(ch.history_offset(picked[i])) * 4 + at, (2 + i) * row);
    });
    const auto got = readback_.download_as<float>(size_t(2 + n) * pixels);
    ChainState st{to_double(got.data(), pixels), to_double(got.data() + pixels, pixels), {}};
    for (uint32_t i = 0; i < n; ++i) st.path.push_back(to_double(got.data() + size_t(2 + i) * pixels, pixels));
    return st;
}

// The level, label and guidance the slice is evaluated at: chain k's own.
void FieldImg::slice_conditioning(const Inputs& in, const VisChain& ch, FieldSlice& out) const {
    const ChainSettings& cs = ch.settings();
    // The level chain k's x_t is at: a step split across frames may have moved its group already.
    const uint32_t group = ch.chains_per_group();
    const uint32_t stepped_groups = ch.done() ? 0 : ch.group_in_progress();
    double ab = out.chain / group < stepped_groups ? ch.alpha_bar_next() : ch.alpha_bar();
    // At (or past) the end the chain is clean; the field is shown at the last (least noisy) level of the run.
    if (ab >= 1.0 && !in.schedule->timesteps.empty()) ab = in.schedule->alpha_bar[in.schedule->timesteps.back()];
    out.alpha_bar = ab;
    out.label = cs.label_mode == LabelMode::unconditional ? null_label
              : cs.label_mode == LabelMode::per_chain     ? int32_t(out.chain % 10)
                                                          : int32_t(std::clamp(cs.label, 0, 9));
    out.guided = cs.guidance != 1.0f && out.label != null_label;
    out.guidance = cs.guidance;
    out.score = cs.view == PredictionView::score;
}

// The plane through x_t towards the means of classes a and b; false when they are missing or x_t is on their line.
bool FieldImg::basis_from_means(const Inputs& in, const FieldImgSettings& s, const slice::Vec& x_t, FieldSlice& out,
                                slice::Vec& u, slice::Vec& v) const {
    if (!in.train) return false;
    int a = s.a_is_label && out.label != null_label ? out.label : std::clamp(s.class_a, 0, 9);
    int b = std::clamp(s.class_b, 0, 9);
    if (a == b) b = (a + 1) % 10;
    if (means_[size_t(a)].empty() || means_[size_t(b)].empty()) return false;
    slice::Vec da(pixels), db(pixels);
    for (uint32_t p = 0; p < pixels; ++p) {
        da[p] = means_[size_t(a)][p] - x_t[p];
        db[p] = means_[size_t(b)][p] - x_t[p];
    }
    if (!slice::orthonormalise(da, db, u, v)) return false;
    out.basis = SliceBasis::class_means;
    out.class_a = a;
    out.class_b = b;
    return true;
}

// The path's top two principal directions; false (with the reason in `why`) when it has no second direction.
bool FieldImg::basis_from_pca(const std::vector<slice::Vec>& path, const FieldSlice& previous, FieldSlice& out,
                              slice::Vec& u, slice::Vec& v, std::string& why) const {
    if (path.size() < 3) {
        why = "the path has " + std::to_string(path.size()) + " point(s); PCA needs 3";
        return false;
    }
    const slice::Pca pca = slice::principal_directions(path, 2);
    // The path is float x_t from the GPU, so a line is never exactly one: a second direction holding under
    // 1e-8 of the variance (a spread 1e-4 of the path's) is rounding (an NVIDIA H200 leaves more than the
    // 1e-12 that principal_directions itself cuts at).
    if (pca.axes.size() < 2 || !(pca.variance[1] >= 1e-8 * pca.total_variance)) {
        why = "the path lies on a line; PCA finds no second direction";
        return false;
    }
    u = pca.axes[0];
    v = pca.axes[1];
    // Signs: u along the way travelled (x_T → now); v as in the last PCA slice of this chain (no flipping
    // from one refresh to the next), else with its largest component positive.
    slice::Vec travelled(pixels);
    for (uint32_t p = 0; p < pixels; ++p) travelled[p] = path.back()[p] - path.front()[p];
    if (slice::dot(travelled, u) < 0)
        for (double& x : u) x = -x;
    double sign = 0;
    if (previous.valid && previous.basis == SliceBasis::pca && previous.chain == out.chain) sign = slice::dot(v, previous.v);
    else sign = *std::max_element(v.begin(), v.end(), [](double l, double r) { return std::abs(l) < std::abs(r); });
    if (sign < 0)
        for (double& x : v) x = -x;
    out.basis = SliceBasis::pca;
    out.share[0] = pca.variance[0] / std::max(pca.total_variance, 1e-300);
    out.share[1] = pca.variance[1] / std::max(pca.total_variance, 1e-300);
    return true;
}

// The basis: the pick, else the other, else two fixed random directions — the note says which and why.
void FieldImg::choose_basis(const Inputs& in, const FieldImgSettings& s, const ChainState& st, FieldSlice& out,
                            slice::Vec& u, slice::Vec& v) {
    if (in.train && means_of_ != in.train) {
        means_ = slice::class_means(*in.train);
        means_of_ = in.train;
    }
    const FieldSlice& previous = slices_[shown_];
    std::string pca_why;
    bool ok = false;
    if (s.basis == SliceBasis::class_means) {
        ok = basis_from_means(in, s, st.x_t, out, u, v);
        if (!ok) {
            out.note = in.train ? "x_t sits on the line through the two class means: the principal directions instead"
                                : "no MNIST digits, so no class means: the principal directions of the path instead";
            ok = basis_from_pca(st.path, previous, out, u, v, pca_why);
        }
    } else {
        ok = basis_from_pca(st.path, previous, out, u, v, pca_why);
        if (!ok) {
            out.note = pca_why + ": class means instead";
            ok = basis_from_means(in, s, st.x_t, out, u, v);
        }
    }
    if (!ok) {  // neither: two fixed random directions (seeded), so the view still shows the field around x_t
        out.note = "no class means and too short a path: two random directions";
        std::mt19937_64 rng(7);
        std::normal_distribution<double> normal(0.0, 1.0);
        slice::Vec a(pixels), b(pixels);
        for (uint32_t p = 0; p < pixels; ++p) a[p] = normal(rng), b[p] = normal(rng);
        slice::orthonormalise(a, b, u, v);
        out.basis = s.basis;
    }
}

// The path, the class means' marks and the square that holds them and x̂₀ (where x_t's own arrow points).
void FieldImg::place_points(const ChainState& st, FieldSlice& out) const {
    for (const slice::Vec& p : st.path) out.path.push_back(slice::project(p, out.origin, out.u, out.v));
    if (out.path.empty() || out.path.back() != std::array<double, 2>{0.0, 0.0}) out.path.push_back({0.0, 0.0});
    if (out.basis == SliceBasis::class_means && out.class_a >= 0) {
        for (int c : {out.class_a, out.class_b})
            out.marks.push_back({"mean " + std::to_string(c), slice::project(means_[size_t(c)], out.origin, out.u, out.v)});
    }
    double lo[2] = {0, 0}, hi[2] = {0, 0};
    auto include = [&](const std::array<double, 2>& q) {
        for (int d = 0; d < 2; ++d) lo[d] = std::min(lo[d], q[d]), hi[d] = std::max(hi[d], q[d]);
    };
    for (const auto& q : out.path) include(q);
    for (const auto& m : out.marks) include(m.at);
    include(slice::project(st.x0_hat, out.origin, out.u, out.v));
    const double half = std::max(0.6 * std::max(hi[0] - lo[0], hi[1] - lo[1]), 0.5);
    for (int d = 0; d < 2; ++d) {
        const double c = 0.5 * (lo[d] + hi[d]);
        out.lo[d] = c - half;
        out.hi[d] = c + half;
    }
}

void FieldImg::take_snapshot(const Inputs& in, const FieldImgSettings& s, FieldSlice& sl) {
    const VisChain& ch = *in.chain;
    FieldSlice out;
    out.chain = uint32_t(std::clamp(s.chain, 0, int(ch.settings().chains) - 1));
    out.grid = uint32_t(std::clamp(s.grid, 3, int(max_grid)));
    out.points = 1 + out.grid * out.grid;
    out.step = ch.step_index();
    const ChainState st = read_chain(ch, out.chain);  // waits for the device: nothing runs while we rewrite
    slice_conditioning(in, ch, out);
    slice::Vec u, v;
    choose_basis(in, s, st, out, u, v);
    out.origin = rounded(st.x_t);
    out.u = rounded(u);
    out.v = rounded(v);
    place_points(st, out);
    out.valid = true;
    sl = std::move(out);

    std::vector<float> basis(3 * pixels);
    for (uint32_t p = 0; p < pixels; ++p) {
        basis[p] = float(sl.origin[p]);
        basis[pixels + p] = float(sl.u[p]);
        basis[2 * pixels + p] = float(sl.v[p]);
    }
    basis_.upload(basis);  // the GPU is idle (read_chain waited): no frame reads the basis now
}

void FieldImg::record_batch(engine::CommandBuffer& cmd, const FieldSlice& sl, uint32_t first) {
    FieldPush p = field_push(sl, model_.prediction);
    p.first = first;
    p.mode = 0;
    const uint32_t rows = sl.guided ? 2 * p.points : p.points;
    cmd.barrier();  // WAR: the last batch's model read the inputs and projection read the outputs; RAW: the basis
    cmd.dispatch(field_pipe_, field_set_[0], p, engine::groups_for(uint64_t(rows) * pixels, 64));
    cmd.barrier();  // RAW: the batch's x, λ, labels → the model
    forward_(cmd);
    cmd.barrier();  // RAW: the model's output → the projections
    p.mode = 1;
    cmd.dispatch(field_pipe_, field_set_[0], p, p.points);
}

void FieldImg::record_overlay(engine::CommandBuffer& cmd, const VisChain& ch, bool score_view) {
    if (ch.serial() != overlay_serial_) {
        overlay_set_ = overlay_pipe_.bind({ch.x_t(), ch.x0_hat(), ch.prediction(), overlay_});
        overlay_serial_ = ch.serial();
    }
    const uint32_t n = ch.settings().chains, cols = uint32_t(std::ceil(std::sqrt(double(n)))), rows = (n + cols - 1) / cols;
    overlay_w_ = cols * 28 + cols + 1;
    overlay_h_ = rows * 28 + rows + 1;
    // The score's scale grows as the noise falls (|s| ~ 1/√(1 − ᾱ)); the direction x̂₀ − x_t lives within ±2.
    const float range = score_view ? float(1 / std::sqrt(std::max(1 - ch.alpha_bar(), 1e-4))) : 2.0f;
    OverlayPush p{n, cols, rows, 1, 28, 28, score_view ? 1u : 0u, range, 0.85f};
    // The caller orders this after the sampler's writes (RAW); the render pass orders the draw after it.
    cmd.dispatch(overlay_pipe_, overlay_set_, p, engine::groups_for(overlay_w_, 16), engine::groups_for(overlay_h_, 16));
}

FieldImg::Shown FieldImg::shown() const {
    Shown out;
    const FieldSlice& sl = slices_[shown_];
    if (!sl.valid) return out;
    out.buffer = shown_;
    out.domain[0] = float(sl.lo[0]);
    out.domain[1] = float(sl.lo[1]);
    out.domain[2] = float(sl.hi[0]);
    out.domain[3] = float(sl.hi[1]);
    out.points = sl.points;
    out.max_len = float(0.9 * sl.cell());
    return out;
}

void FieldImg::draw_field(VkCommandBuffer cb, VkExtent2D target, engine::Rect r, const VkRect2D*, const Shown& f) {
    if (f.buffer < 0) return;
    engine::ArrowStyle st;
    std::copy(f.domain, f.domain + 4, st.domain);
    st.mode = engine::ArrowStyle::Arrow;
    st.thickness = 1.6f;
    st.head = 5;
    st.colour_by_length = true;
    st.max_length = f.max_len;
    arrows_pipe_.draw(cb, target, r, items_[f.buffer], f.points, st);
    // x_t's own arrow (item 0, full length) on top: where the model sends the chain from here.
    st.colour_by_length = false;
    st.thickness = 3.5f;
    st.head = 12;
    const float orange[4] = {1.0f, 0.55f, 0.2f, 1.0f};
    std::copy(orange, orange + 4, st.colour);
    arrows_pipe_.draw(cb, target, r, items_[f.buffer], 1, st);
}

void FieldImg::draw_overlay(VkCommandBuffer cb, VkExtent2D target, engine::Rect r, const VkRect2D* clip, float opacity) const {
    if (overlay_w_ == 0) return;
    QuadPush push{{r.x, r.y, r.w, r.h}, {float(target.width), float(target.height)}, overlay_w_, overlay_h_, opacity};
    VkRect2D sc = clip ? *clip : engine::to_scissor(r, target);
    quad_.draw(cb, target, quad_set_, push, 6, 1, &sc);
}

}  // namespace diffuscope::vis
