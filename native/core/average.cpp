#include "average.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <stdexcept>
#include <vector>

#include "fft_plans.h"
#include "parallel.h"
#include "simd.h"
#include "transform.h"

namespace ack {
namespace {

constexpr double kFrcThreshold = 0.143;

// FRC between two box×box images in shells 0..box/2 (Hermitian half-plane, each coefficient
// with 0 < fx < box/2 counted twice as it stands for its conjugate too).
void frc_of(const float* a, const float* b, int box, float* frc) {
  const int hc = box / 2 + 1, shells = box / 2 + 1;
  FftwBuffer<float> in = fftw_buffer<float>(size_t(box) * box);
  FftwBuffer<fftwf_complex> fa = fftw_buffer<fftwf_complex>(size_t(box) * hc),
                            fb = fftw_buffer<fftwf_complex>(size_t(box) * hc);
  fftwf_plan plan = plan_r2c_2d(box, box);
  std::copy(a, a + size_t(box) * box, in.get());
  fftwf_execute_dft_r2c(plan, in.get(), fa.get());
  std::copy(b, b + size_t(box) * box, in.get());
  fftwf_execute_dft_r2c(plan, in.get(), fb.get());
  std::vector<double> cross(shells, 0), na(shells, 0), nb(shells, 0);
  for (int y = 0; y < box; ++y) {
    const int fy = y <= box / 2 ? y : y - box;
    for (int x = 0; x < hc; ++x) {
      const int s = int(std::lround(std::sqrt(double(x) * x + double(fy) * fy)));
      if (s >= shells) continue;
      const double w = (x == 0 || 2 * x == box) ? 1.0 : 2.0;
      const std::complex<double> A(fa[size_t(y) * hc + x][0], fa[size_t(y) * hc + x][1]),
          B(fb[size_t(y) * hc + x][0], fb[size_t(y) * hc + x][1]);
      cross[s] += w * (A * std::conj(B)).real();
      na[s] += w * std::norm(A);
      nb[s] += w * std::norm(B);
    }
  }
  for (int s = 0; s < shells; ++s) {
    const double d = std::sqrt(na[s] * nb[s]);
    frc[s] = d > 0 ? float(cross[s] / d) : 0.f;
  }
}

}  // namespace

float frc_resolution(const float* frc, int box) {
  const int shells = box / 2 + 1;
  for (int s = 1; s < shells; ++s)
    if (frc[s] < kFrcThreshold) {
      const double f0 = frc[s - 1], f1 = frc[s];
      const double t = f0 > f1 ? std::clamp((f0 - kFrcThreshold) / (f0 - f1), 0.0, 1.0) : 0.0;
      return float(box / (s - 1 + t));
    }
  return 2.f;
}

namespace {
float max_abs_base(const float* values, size_t n) {
  float m = 0;
  for (size_t i = 0; i < n; ++i) {
    const float a = std::fabs(values[i]);
    if (a > m) m = a;  // false for NaN
  }
  return m;
}
// max_ps(x, m) gives m when x is NaN: NaNs are skipped as in the baseline.
__attribute__((target("avx2"))) float max_abs_avx2(const float* values, size_t n) {
  const __m256 sign = _mm256_set1_ps(-0.f);
  __m256 m0 = _mm256_setzero_ps(), m1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    m0 = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(values + i)), m0);
    m1 = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(values + i + 8)), m1);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, _mm256_max_ps(m0, m1));
  return std::max(max_abs_base(lanes, 8), max_abs_base(values + i, n - i));
}
}  // namespace

float max_abs(const float* values, size_t n) {
  return simd_enabled() ? max_abs_avx2(values, n) : max_abs_base(values, n);
}

namespace {
constexpr double kRound = 6755399441055744.0;  // 1.5 · 2^52
}  // namespace

void accumulate_classes(const float* images, int64_t count, int box, const int32_t* assignment, const float* psi,
                        const float* shiftX, const float* shiftY, const uint8_t* mirror, int k, double* evenSum,
                        double* oddSum, int32_t* members, int32_t* evenMembers, int threads, Control& control,
                        double quantum, const uint8_t* half, int sign) {
  if (sign != 1 && (sign != -1 || half == nullptr || !(quantum > 0)))
    throw std::invalid_argument("accumulate_classes: sign -1 needs half and a quantum");
  const size_t D = size_t(box) * box;
  const double scale = quantum > 0 ? 1.0 / quantum : 0.0;  // exact: quantum is a power of two
  const double weight = sign * quantum;                    // exact: ±a power of two
  std::vector<std::vector<int64_t>> byClass(k);
  for (int64_t i = 0; i < count; ++i)
    if (assignment[i] >= 0 && assignment[i] < k) byClass[assignment[i]].push_back(i);
  control.setTotal(double(count));
  Guard guard;
#pragma omp parallel num_threads(std::max(1, threads))
  {
    std::vector<float> aligned(D);
#pragma omp for schedule(dynamic, 1)
    for (int j = 0; j < k; ++j) {
      guard.run([&] {
        control.throwIfCancelled();
        for (int64_t i : byClass[j]) {
          apply_alignment(images + i * D, box, psi[i], shiftX[i], shiftY[i], mirror[i] != 0, aligned.data());
          const bool even = half ? half[i] == 0 : members[j] % 2 == 0;
          double* sum = (even ? evenSum : oddSum) + size_t(j) * D;
          if (quantum > 0)  // + then − 1.5·2^52 rounds to an integer, ties to even (|v| ≤ 2^51); vectorizes
            for (size_t p = 0; p < D; ++p) sum[p] += ((aligned[p] * scale + kRound) - kRound) * weight;
          else
            for (size_t p = 0; p < D; ++p) sum[p] += aligned[p];
          members[j] += sign;
          if (even) evenMembers[j] += sign;
        }
        control.advance(int64_t(byClass[j].size()));
      });
    }
  }
  guard.rethrow();
}

void finalize_classes(const double* evenSum, const double* oddSum, const int32_t* members, const int32_t* evenMembers,
                      int k, int box, float* averages, float* even, float* odd, float* frc, float* resolution,
                      int threads, const Control* control) {
  const size_t D = size_t(box) * box;
  const int shells = box / 2 + 1;
  plan_r2c_2d(box, box);  // plan once, before the parallel region
  parallel_for(k, threads, control, [&](int64_t j) {
    const int n = members[j], ne = evenMembers[j], no = n - ne;
    const double* E = evenSum + size_t(j) * D;
    const double* O = oddSum + size_t(j) * D;
    for (size_t p = 0; p < D; ++p) {
      averages[j * D + p] = n > 0 ? float((E[p] + O[p]) / n) : 0.f;
      even[j * D + p] = ne > 0 ? float(E[p] / ne) : 0.f;
      odd[j * D + p] = no > 0 ? float(O[p] / no) : 0.f;
    }
    float* f = frc + size_t(j) * shells;
    if (ne < 1 || no < 1) {
      std::fill(f, f + shells, std::numeric_limits<float>::quiet_NaN());
      resolution[j] = std::numeric_limits<float>::quiet_NaN();
      return;
    }
    frc_of(even + j * D, odd + j * D, box, f);
    resolution[j] = frc_resolution(f, box);
  });
}

}  // namespace ack
