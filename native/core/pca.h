// Principal components of n vectors of dimension d: centre, form the d×d covariance
// (or the n×n Gram matrix when n < d) with single-threaded sgemm on fixed tiles spread over
// OpenMP threads (so the result does not depend on the thread count), and take the top q
// eigenpairs with LAPACK ssyevr. Pure C++ (no Node headers).
#pragma once
#include <cstdint>

#include "control.h"

namespace ack {

struct PcaResult {
  // q basis vectors of length d (row-major q×d, orthonormal rows), by decreasing eigenvalue.
  // Sign convention: the largest-magnitude component of each vector is positive.
  float* basis;
  float* eigenvalues;  // q variances (eigenvalue / n), decreasing
  float* mean;         // d values
};

// X: n·d row-major. Fills res (caller-allocated: q·d, q, d). Throws std::runtime_error when
// LAPACK fails.
void pca(const float* X, int64_t n, int64_t d, int q, PcaResult& res, int threads, Control& control);

}  // namespace ack

namespace ack {

// Coordinates of n vectors in a basis: out (n×q) = (X − mean)·basisᵀ, on fixed row tiles.
void pca_project(const float* X, int64_t n, int64_t d, const float* basis, int q, const float* mean, float* out,
                 int threads, Control& control);

}  // namespace ack
