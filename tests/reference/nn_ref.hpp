// tests/reference/nn_ref.hpp — the CPU mirror, in double precision, of every UNet layer in shaders/nn/: the
// thing each shader is judged against, and whose backward is itself judged by central finite differences.
// Plain loops over NCHW tensors, written for obviousness, not speed. Parameter layouts are PyTorch's:
// conv weight [Cout,Cin,K,K], linear weight [out,in], GroupNorm gamma/beta [C], embedding table [rows,D].
//
// Backward functions *write* their gradients (the GPU's accumulate mode is checked against 2× these).
//
// The shaders each function mirrors (all in shaders/nn/; tests/test_nn_layers.cpp runs the pairs, through
// tests/nn_runners_conv.cpp and tests/nn_runners_misc.cpp):
//   conv2d_forward       conv2d_forward.comp (conv_row.glsl; weights relaid by conv2d_weight_t.comp)
//   conv2d_backward      conv2d_backward_data.comp (dx); conv2d_backward_weight.comp or conv2d_backward_weight_px.comp
//                        (dw, db; split partials summed by conv2d_dw_reduce.comp, dy relaid by conv2d_nhwc.comp)
//   linear_forward       linear_forward.comp
//   linear_backward      linear_backward_data.comp (dx), linear_backward_weight.comp (dw, db)
//   groupnorm_forward    groupnorm_forward.comp (gn_flat.glsl, reduce.glsl)
//   groupnorm_backward   groupnorm_backward.comp (dx), groupnorm_backward_params.comp (dgamma, dbeta)
//   silu_forward/backward               silu_forward.comp, silu_backward.comp (and groupnorm_*.comp's SILU)
//   upsample2_forward/backward          concat_up.comp (modes 0 and 2 with Cb = 0)
//   concat_forward/backward             concat_forward.comp, concat_backward.comp, concat_up.comp
//   bias_add_forward/backward           bias_add_forward.comp, bias_add_backward.comp
//   add_forward                         add_forward.comp (add_backward.comp: the copies da = db = dy)
//   sinusoidal_forward                  sinusoidal_embed.comp
//   label_embed_forward/backward        label_embed_forward.comp, label_embed_backward.comp
//   mse_forward/backward                mse_forward.comp + mse_forward_finalize.comp, mse_backward.comp
//   softmax_xent_forward/backward       softmax_xent_forward.comp, softmax_xent_backward.comp
//   adamw_step                          grad_norm.comp + grad_norm_finalize.comp (norm, clip, skip), adamw.comp
//                                       (tests/test_nn_optim.cpp)
//   ema_update                          ema.comp (tests/test_nn_optim.cpp)
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace ref {

using cspan = std::span<const double>;
using vspan = std::span<double>;

// ---- conv2d: K ∈ {1,3}, stride S ∈ {1,2}, padding K/2 ------------------------------------------------
struct Conv {
    int n, cin, h, w, cout, k, stride;
    int pad() const { return k / 2; }
    int oh() const { return (h + 2 * pad() - k) / stride + 1; }
    int ow() const { return (w + 2 * pad() - k) / stride + 1; }
};
// y[n,co,oy,ox] = b[co] + Σ_{ci,ky,kx} w[co,ci,ky,kx]·x[n,ci,oy·S+ky−P,ox·S+kx−P]   (b may be empty)
void conv2d_forward(const Conv&, cspan x, cspan w, cspan b, vspan y);
// dx = Σ w·dy over the taps that read x; dw = Σ_{n,oy,ox} dy·x; db = Σ_{n,oy,ox} dy (db may be empty)
void conv2d_backward(const Conv&, cspan x, cspan w, cspan dy, vspan dx, vspan dw, vspan db);

// ---- linear: y = x·Wᵀ + b, x [N,In], W [Out,In], b [Out] ---------------------------------------------
void linear_forward(int n, int in, int out, cspan x, cspan w, cspan b, vspan y);
void linear_backward(int n, int in, int out, cspan x, cspan w, cspan dy, vspan dx, vspan dw, vspan db);

// ---- GroupNorm with affine over [N,C,H,W], G groups, eps -------------------------------------------
// mean/rstd per (n,g) are returned for the GPU's saved statistics to be checked too.
void groupnorm_forward(int n, int c, int hw, int g, double eps, cspan x, cspan gamma, cspan beta, vspan y,
                       vspan mean, vspan rstd);
void groupnorm_backward(int n, int c, int hw, int g, double eps, cspan x, cspan gamma, cspan dy, vspan dx,
                        vspan dgamma, vspan dbeta);

// ---- elementwise and data movement ----------------------------------------------------------------
void silu_forward(cspan x, vspan y);
void silu_backward(cspan x, cspan dy, vspan dx);
// nearest ×2: y[n,c,2i+a,2j+b] = x[n,c,i,j]; backward sums each 2×2 block
void upsample2_forward(int nc, int h, int w, cspan x, vspan y);
void upsample2_backward(int nc, int h, int w, cspan dy, vspan dx);
// y = concat(a [N,Ca,HW], b [N,Cb,HW]) along channels; backward splits
void concat_forward(int n, int ca, int cb, int hw, cspan a, cspan b, vspan y);
void concat_backward(int n, int ca, int cb, int hw, cspan dy, vspan da, vspan db);
// y[n,c,:] = x[n,c,:] + v[n,c]; backward dx = dy, dv[n,c] = Σ_hw dy
void bias_add_forward(int nc, int hw, cspan x, cspan v, vspan y);
void bias_add_backward(int nc, int hw, cspan dy, vspan dx, vspan dv);
// y = a + b; backward da = db = dy
void add_forward(cspan a, cspan b, vspan y);

// ---- conditioning ---------------------------------------------------------------------------------
// e[n,k] = sin(scale·level[n]·f_k), e[n,half+k] = cos(scale·level[n]·f_k), f_k = 1000^(k/(half−1)),
// k < half = D/2 (D even, ≥ 4). No parameters, no backward.
double sinusoidal_frequency(int k, int half);
void sinusoidal_forward(int n, int d, double scale, cspan level, vspan e);
// y[n,:] = table[label[n],:]; labels outside [0,rows) read the last row (the null label)
void label_embed_forward(int n, int rows, int d, std::span<const int32_t> label, cspan table, vspan y);
void label_embed_backward(int n, int rows, int d, std::span<const int32_t> label, cspan dy, vspan dtable);

// ---- loss -----------------------------------------------------------------------------------------
// L = mean((pred − target)²); dpred = 2(pred − target)/count
double mse_forward(cspan pred, cspan target);
void mse_backward(cspan pred, cspan target, vspan dpred);
// Softmax cross-entropy, z [N,K], labels in [0,K): returns mean_n −log softmax(z)[n, y_n], fills p [N,K];
// backward dz = (p − onehot(y))/N
double softmax_xent_forward(int n, int k, cspan z, std::span<const int32_t> label, vspan p);
void softmax_xent_backward(int n, int k, cspan p, std::span<const int32_t> label, vspan dz);

// ---- optimiser on one flat parameter buffer ---------------------------------------------------------
struct AdamW {
    double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
    double max_grad_norm = 1.0;  // ≤ 0: no clipping
    double ema_decay = 0.999;
};
struct StepResult {
    double grad_norm = 0, clip_scale = 1;
    bool skipped = false;  // the norm was not finite: nothing was updated
};
// norm = ‖g‖₂; scale = min(1, max_norm/(norm + 1e-6)). AdamW (Loshchilov & Hutter 2019, PyTorch's form):
// g ← scale·g; m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²; p ← p·(1 − lr·wd) − lr·(m/(1−β1^t)) / (√(v/(1−β2^t)) + eps)
StepResult adamw_step(const AdamW&, uint32_t t, vspan p, cspan g, vspan m, vspan v);
// ema ← d·ema + (1 − d)·p
void ema_update(double decay, cspan p, vspan ema);

}  // namespace ref
