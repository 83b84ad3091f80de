#include "distances.h"

#include <algorithm>
#include <vector>

#include "blas.h"
#include "parallel.h"
#include "simd.h"

namespace ack {

void distance_table(const float* X, int64_t n, const float* M, int64_t k, int64_t D, float* out, int threads,
                    Control& control) {
  blas_init();
  std::vector<float> refNorm(k);
  for (int64_t j = 0; j < k; ++j) refNorm[j] = static_cast<float>(sum_squares(M + j * D, D));
  const int64_t tiles = (n + kDistanceTileRows - 1) / kDistanceTileRows;
  control.setTotal(static_cast<double>(n));
  parallel_for(tiles, threads, &control, [&](int64_t t) {
    const int64_t i0 = t * kDistanceTileRows;
    const int64_t rows = std::min(kDistanceTileRows, n - i0);
    float* block = out + i0 * k;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(rows), int(k), int(D), -2.f, X + i0 * D, int(D), M, int(D),
                0.f, block, int(k));
    for (int64_t r = 0; r < rows; ++r) {
      const float xn = static_cast<float>(sum_squares(X + (i0 + r) * D, D));
      add_norms_clamped(block + r * k, refNorm.data(), xn, k);
    }
    control.advance(rows);
  });
}

}  // namespace ack
