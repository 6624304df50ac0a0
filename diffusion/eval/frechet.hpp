// diffusion/eval/frechet.hpp — the Fréchet distance between two sets of feature vectors, each summarised by a
// Gaussian (mean μ, covariance Σ), as in FID (Heusel et al. 2017):
//   d² = ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2·(Σ₁^½ Σ₂ Σ₁^½)^½)
// In double precision; the square roots by Jacobi eigendecomposition of symmetric matrices. Here the
// features are the project classifier's penultimate layer (128-d), so figures are comparable only at equal
// sample counts and with the same classifier weights — not with published FID numbers.
#pragma once
#include <cstddef>
#include <vector>

namespace diffuscope::eval {

struct Gaussian {
    size_t dim = 0;
    std::vector<double> mean;  // [dim]
    std::vector<double> cov;   // [dim·dim], unbiased (n − 1)
};
// `rows` vectors of `dim` floats, row-major. Needs at least 2 rows.
Gaussian fit_gaussian(const std::vector<float>& rows, size_t dim);
double frechet_distance(const Gaussian&, const Gaussian&);

// Eigenvalues (ascending) and eigenvectors (columns of `vectors`, row-major [n·n]) of a symmetric matrix.
void symmetric_eigen(std::vector<double> a, size_t n, std::vector<double>& values, std::vector<double>& vectors);

}  // namespace diffuscope::eval
