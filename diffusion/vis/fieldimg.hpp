// diffusion/vis/fieldimg.hpp — the image-mode field view: what the denoiser does to a 784-D x_t, shown two ways.
//
//  1. A heat map over each chain's x_t tile: the per-pixel denoise direction x̂₀ − x_t (or the score, when the
//     prediction view is "score"), red where a pixel is pushed brighter, blue darker, transparent where nothing
//     moves. One compute pass writes an RGBA8 grid in the x_t grid's layout; it is drawn over the x_t tiles.
//  2. A 2-D slice through image space: the plane p(α, β) = x_t + α·u + β·v through one chain's x_t, spanned by two
//     orthonormal directions picked in the panel — towards the means m_a, m_b of two MNIST classes
//     (u ∥ m_a − x_t, v = the part of m_b − x_t orthogonal to u: Gram–Schmidt) or the top two principal directions
//     of the chain's trajectory so far (PCA by power iteration on the path's Gram matrix). On a K×K grid of the
//     plane (and at x_t itself) the model gives x̂₀(p) at the chain's noise level and label; the arrow is the
//     projection (⟨d, u⟩, ⟨d, v⟩) of d = x̂₀(p) − p (or of the score). The chain's path is drawn projected, with
//     x_t and the class means marked.
//
// The slice is a snapshot: taken (host: a few downloads, the basis, the path) when the last field is complete and
// the chain has moved on, or at once when a setting changes. Its model batches (a UNet forward of 8 images is
// ~60–90 ms on lavapipe) are captured and replayed a few dispatches per frame within a GPU-time budget, as the
// chains' steps are, while the last complete field stays on screen. `complete_now` fills a whole field in one
// frame (the offscreen render's deterministic last frame).
#pragma once
#include "diffusion/vis/chains.hpp"
#include "engine/command_list.hpp"
#include "engine/graphics.hpp"
#include "engine/renderer.hpp"

#include <array>
#include <string>
#include <vector>

namespace diffuscope::vis {

enum class SliceBasis : int { class_means = 0, pca = 1 };

struct FieldImgSettings {
    bool overlay = true;          // the heat map over the x_t tiles
    float overlay_opacity = 0.85f;
    int chain = 0;                // the chain whose x_t the slice goes through
    SliceBasis basis = SliceBasis::class_means;
    bool a_is_label = true;       // class a = the chain's label (when it has one)
    int class_a = 3, class_b = 8;
    int grid = 11;                // K: arrows on a K×K grid
    bool complete_now = false;    // fill the whole field in this frame (offscreen: the frame written is complete)
};

// The slice's host math, in double (tested against independent references).
namespace slice {
using Vec = std::vector<double>;
double dot(const Vec& a, const Vec& b);
// Gram–Schmidt: u = a/‖a‖, v = (b − ⟨b, u⟩u)/‖·‖. False (u, v untouched) when ‖a‖ or the orthogonal part of b is
// below `eps`·max(1, ‖b‖): the two directions do not span a plane.
bool orthonormalise(const Vec& a, const Vec& b, Vec& u, Vec& v, double eps = 1e-6);
// (⟨p − origin, u⟩, ⟨p − origin, v⟩): p's coordinates in the plane through `origin` (its orthogonal projection).
std::array<double, 2> project(const Vec& p, const Vec& origin, const Vec& u, const Vec& v);
// The top `count` principal directions of the rows (mean removed) and the variance along each (÷ n), by power
// iteration with deflation on the n×n Gram matrix G = Y Yᵀ (n rows of Y = the centred points): G e = σ² e ⇒
// the axis Yᵀe/‖Yᵀe‖ is an eigenvector of the covariance YᵀY/n with eigenvalue σ²/n.
struct Pca {
    std::vector<Vec> axes;
    std::vector<double> variance;
    double total_variance = 0;  // trace of the covariance: the shares are variance[i] / total_variance
};
Pca principal_directions(const std::vector<Vec>& rows, int count, int max_iterations = 2000);
// The mean image of each class 0–9 in the model's units (x₀ = byte/127.5 − 1); an empty vector for a class with
// no images.
std::vector<Vec> class_means(const data::Mnist&);
}  // namespace slice

// One snapshot of the slice: what a field was (or is being) evaluated for.
struct FieldSlice {
    bool valid = false;
    uint32_t chain = 0, grid = 11, points = 0;  // points: 1 + K² (x_t itself, then the grid row by row)
    int32_t label = null_label;
    bool guided = false, score = false;
    float guidance = 1;
    double alpha_bar = 0;                       // the level the model is asked at (the chain's)
    int step = 0;
    SliceBasis basis = SliceBasis::class_means;
    int class_a = -1, class_b = -1;             // class-mean basis only
    slice::Vec origin, u, v;                    // 784 each (as uploaded, float-rounded)
    std::vector<std::array<double, 2>> path;    // the chain's trajectory projected, x_T first, x_t (0, 0) last
    struct Mark {
        std::string name;
        std::array<double, 2> at;
    };
    std::vector<Mark> marks;                    // the class means (in the plane)
    double lo[2] = {-1, -1}, hi[2] = {1, 1};    // the square of the plane shown (α, β)
    double share[2] = {0, 0};                   // PCA: fraction of the path's variance along u, v
    std::string note;                           // why a fallback basis was used, if one was
    double cell() const { return (hi[0] - lo[0]) / grid; }
    // The plane coordinates of point j (0: x_t; 1 + i: grid cell i, row-major from (lo, lo)).
    std::array<double, 2> point(uint32_t j) const;
};

class FieldImg {
public:
    static constexpr uint32_t pixels = 784, batch = 8, max_grid = 21, max_path = 256;
    FieldImg(engine::Context&, VkRenderPass);

    struct Inputs {
        const VisChain* chain = nullptr;
        const Denoiser* model = nullptr;    // the chain's model: needed only when not bound_to(chain) (a new model)
        const data::Mnist* train = nullptr; // for the class means (may be null: PCA only)
        const HostSchedule* schedule = nullptr;
    };
    // At the start of a frame, before the chains step: a new snapshot when the last field is complete (or
    // `complete_now`, or a setting changed) and the chain moved; then the next part of the field: as many of the
    // captured batches' dispatches as fit `budget_ms` at the measured cost (≥ 1); budget ≤ 0: one whole batch;
    // complete_now: every batch. `slot`: the frame slot, whose "field" GPU time `measured` reports later.
    // Returns the dispatches recorded.
    uint32_t record_field(engine::CommandBuffer&, const Inputs&, const FieldImgSettings&, double budget_ms = 0,
                          uint32_t slot = 0);
    // The GPU time the field's work in `slot`'s last frame took (its timestamps, after the fence).
    void measured(uint32_t slot, double field_ms);
    double ms_per_dispatch() const { return costs_.scale(); }  // every dispatch weighs 1: the scale is ms per dispatch
    // After the tile passes: the heat map grid over the chains' x_t (the layout of the x_t grid: ⌈√N⌉ columns).
    void record_overlay(engine::CommandBuffer&, const VisChain&, bool score_view);

    // What the canvas captures at UI time and draws at render time (so host marks and GPU arrows agree).
    struct Shown {
        int buffer = -1;  // −1: no complete field yet
        float domain[4] = {-1, -1, 1, 1};
        uint32_t points = 0;
        float max_len = 0;
    };
    Shown shown() const;
    void draw_field(VkCommandBuffer, VkExtent2D target, engine::Rect, const VkRect2D* clip, const Shown&);
    void draw_overlay(VkCommandBuffer, VkExtent2D target, engine::Rect, const VkRect2D* clip, float opacity) const;

    const FieldSlice& shown_slice() const { return slices_[shown_]; }    // the complete field on screen
    const FieldSlice& filling_slice() const { return slices_[1 - shown_]; }
    bool bound_to(const VisChain& c) const { return bound_serial_ == c.serial(); }
    bool filling() const { return filling_; }
    uint32_t filled() const { return next_; }  // points of the filling field evaluated (whole batches)
    // (α, β, ⟨q, u⟩, ⟨q, v⟩) per point of the last evaluated field, full length (tests read it).
    const engine::Buffer& raw() const { return raw_; }
    const engine::Buffer& overlay_pixels() const { return overlay_; }
    uint32_t overlay_width() const { return overlay_w_; }
    uint32_t overlay_height() const { return overlay_h_; }

private:
    struct Key {
        const VisChain* chain = nullptr;
        int step = -1;
        uint32_t pending = 0, frames = 0, chains = 0, seed = 0;
        int k = 0, label = 0, label_mode = 0, basis = 0, a = 0, b = 0, grid = 0;
        float guidance = 0;
        double alpha_bar = 0;
        bool a_is_label = false, score = false;
        bool operator==(const Key&) const = default;
        // Only the chain moved on (a step or a part of one): the slice in progress may finish first.
        bool only_progress(const Key& o) const {
            Key a = *this, b = o;
            a.pending = b.pending = a.frames = b.frames = 0;
            a.alpha_bar = b.alpha_bar = 0;
            if (a.step < b.step) return false;  // back to an earlier step: a restart
            a.step = b.step = 0;
            return a == b;
        }
    };
    Key key_for(const Inputs&, const FieldImgSettings&) const;
    void take_snapshot(const Inputs&, const FieldImgSettings&, FieldSlice&);
    // take_snapshot's parts: the chain read back, the slice's level and label, its basis, its points.
    struct ChainState {
        slice::Vec x_t, x0_hat;
        std::vector<slice::Vec> path;
    };
    ChainState read_chain(const VisChain&, uint32_t chain);
    void slice_conditioning(const Inputs&, const VisChain&, FieldSlice&) const;
    bool basis_from_means(const Inputs&, const FieldImgSettings&, const slice::Vec& x_t, FieldSlice&, slice::Vec& u,
                          slice::Vec& v) const;
    bool basis_from_pca(const std::vector<slice::Vec>& path, const FieldSlice& previous, FieldSlice&, slice::Vec& u,
                        slice::Vec& v, std::string& why) const;
    void choose_basis(const Inputs&, const FieldImgSettings&, const ChainState&, FieldSlice&, slice::Vec& u, slice::Vec& v);
    void place_points(const ChainState&, FieldSlice&) const;
    void record_batch(engine::CommandBuffer&, const FieldSlice&, uint32_t first);

    engine::Context* ctx_;
    engine::Arrows arrows_pipe_;
    engine::GraphicsPipeline quad_;
    engine::ComputePipeline field_pipe_, overlay_pipe_;
    engine::Buffer basis_, model_x_, model_level_, model_label_, model_out_, raw_, items_[2], readback_, overlay_;
    VkDescriptorSet field_set_[2] = {VK_NULL_HANDLE, VK_NULL_HANDLE}, overlay_set_ = VK_NULL_HANDLE, quad_set_ = VK_NULL_HANDLE;
    Denoiser model_;
    Denoiser::Recorder forward_;
    uint64_t bound_serial_ = 0;    // the chain (and so the model) the batch is bound to (VisChain::serial)
    uint64_t overlay_serial_ = 0;
    std::vector<slice::Vec> means_;
    const data::Mnist* means_of_ = nullptr;
    FieldSlice slices_[2];
    int shown_ = 0;          // slices_[shown_] / items_[shown_] are on screen (when valid)
    bool filling_ = false;
    uint32_t next_ = 0;               // the first point of the batch in progress
    engine::CommandList ops_;         // the batch in progress, captured; empty between batches
    size_t op_pos_ = 0;               // its operations already replayed
    // The shared budget mechanism (vis/step_slicer.hpp) without per-operation timers: every dispatch costs the same,
    // calibrated by the "field" pass time of the slot that recorded it.
    OpCosts costs_;
    std::array<double, 4> slot_raw_ms_{};  // raw cost recorded in each frame slot's last frame
    Key filling_key_;
    uint32_t overlay_w_ = 0, overlay_h_ = 0;
};

}  // namespace diffuscope::vis
