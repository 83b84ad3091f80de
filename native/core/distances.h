// Squared Euclidean distance table between n vectors and k references of dimension D:
// out[i*k + j] = ||x_i||^2 + ||m_j||^2 - 2 x_i·m_j, the cross term by OpenBLAS sgemm.
#pragma once
#include <cstdint>

#include "control.h"

namespace ack {

// Rows of X handled by one task: bounds the working set and sets the granularity of
// cancellation and progress. Independent of the thread count, so results are too.
constexpr int64_t kDistanceTileRows = 128;

// X: n×D row-major, M: k×D row-major, out: n×k row-major (written in place, no other
// allocation proportional to n). Negative round-off is clamped to 0. Throws Cancelled.
void distance_table(const float* X, int64_t n, const float* M, int64_t k, int64_t D, float* out, int threads,
                    Control& control);

}  // namespace ack
