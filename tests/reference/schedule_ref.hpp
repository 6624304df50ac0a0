// tests/reference/schedule_ref.hpp — the published closed forms of the schedule presets, written the way the
// papers' code writes them (β as a linspace, ᾱ as a cumulative product, cosine's ᾱ directly), in double.
// Independent of diffusion/schedule/schedule.cpp on purpose: the twin is judged against these.
// Mirrors shaders/diffusion/schedule.comp at one remove: the shader is judged against the twin
// (diffusion/schedule/schedule.cpp, compute_levels), the twin against these; tests: tests/test_schedule.cpp.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ref {

// β_t for t = 0 … T−1 of "linear" | "scaled-linear" | "quadratic" | "sigmoid" | "cosine" (Nichol & Dhariwal's
// betas_for_alpha_bar with max_beta 0.999); β presets use the 1000/T scale of improved-diffusion.
std::vector<double> betas(const std::string& preset, uint32_t T);
// ᾱ_t = Π_{s≤t} (1 − β_s)
std::vector<double> cumprod_alphas(const std::vector<double>& betas);
// Cosine's ᾱ(τ) = f(τ)/f(0), f = cos²(π/2·(τ+s)/(1+s)), at τ = (t+1)/T (before the 0.999 cap acts).
double cosine_alpha_bar(double tau, double s = 0.008);

// Lin et al. 2023, Algorithm 1, verbatim (ᾱ_{T−1} becomes exactly 0).
std::vector<double> rescale_zero_terminal_snr(const std::vector<double>& betas);

}  // namespace ref
