// tests/reference/slice_ref.hpp — an independent eigen-solver for the image-field slice's PCA (vis/fieldimg.hpp):
// cyclic Jacobi rotations on a symmetric matrix (Golub & Van Loan, Matrix Computations, §8.5), in double.
// Mirrors no shader: the PCA runs on the host (diffusion/vis/fieldimg.cpp); tests: tests/test_fieldimg.cpp.
#pragma once
#include <cstddef>
#include <vector>

namespace ref {

struct SymmetricEigen {
    std::vector<double> values;                // descending
    std::vector<std::vector<double>> vectors;  // vectors[i]: the unit eigenvector of values[i]
};
// `a`: n×n, row-major, symmetric. Sweeps until the off-diagonal mass is below 1e-30 of the total.
SymmetricEigen jacobi_eigen(std::vector<double> a, size_t n, int max_sweeps = 100);

}  // namespace ref
