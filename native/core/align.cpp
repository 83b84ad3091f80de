// The hot loop of the product: multi-reference alignment by polar-Fourier correlation.
//
// For a tile of T images: every image is resampled on polar rings at every shift offset s
// (rows = T·S; with mirror, S more rows holding the conjugated spectra, which are the spectra
// of the mirrored image). Then, for each angular harmonic m ≤ mMax, ONE complex GEMM
//   C_m = A_m · B_mᴴ      A_m: rows × rings(m) image spectra, B_m: refs × rings(m) weighted
// gives Z_m(row, ref) = Σ_r (2πr/M_r²)·X_r(m)·conj(Y_r(m)), stored as C[m][pair]. A batched
// inverse real FFT of length L (strided: transform p reads C[m·P + p], writes R[a·P + p]) gives
// the rotational correlation c(α_a) = Z_0 + 2·Re Σ_m Z_m e^{i m α_a} at α_a = 2πa/L for every
// pair at once; a running arg-max over a (vectorised across pairs) finds the peak, a parabola
// through the peak and its neighbours ranks the (shift, mirror) rows of each (image, reference),
// and a quartic through 5 samples refines the winner's angle and value. Everything per tile lives in per-thread buffers of a few MB, so
// memory does not grow with n, and tiles are fixed by n alone, so results do not depend on the
// thread count.
//
// L is the smallest even 2^a3^b5^c ≥ 2·mMax + 2: dropping harmonics above the band limit makes
// both the GEMMs and the inverse FFTs shorter. The correlation is then sampled every 360°/L and
// the parabolic fit interpolates between samples.
#include "align.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "blas.h"
#include "fft_plans.h"
#include "polar.h"
#include "simd.h"

namespace ack {
namespace {

constexpr int kTargetRows = 48;     // image×shift×mirror rows per tile (the GEMM's M)
constexpr int kTargetPairs = 4096;  // rows × references per block: C and R stay ~4 MB each

bool smooth235(int n) {
  for (int p : {2, 3, 5})
    while (n % p == 0) n /= p;
  return n == 1;
}

int fast_even_length(int atLeast) {
  int L = std::max(2, atLeast + (atLeast & 1));
  while (!smooth235(L)) L += 2;
  return L;
}

// Sampling-centre offsets s = (ix, iy)·step with |ix·step|, |iy·step| ≤ range (x fastest).
void shift_grid(double range, double step, std::vector<double>& dx, std::vector<double>& dy) {
  const int K = range > 0 ? int(std::floor(range / step + 1e-9)) : 0;
  for (int iy = -K; iy <= K; ++iy)
    for (int ix = -K; ix <= K; ++ix) {
      dx.push_back(ix * step);
      dy.push_back(iy * step);
    }
}

// best[p] = max_a v[a·P + p], at[p] = the first a reaching it.
ACK_SIMD_KERNEL(void, running_argmax, (const float* v, int L, int P, float* best, int32_t* at), (v, L, P, best, at)) {
  std::copy(v, v + P, best);
  std::fill(at, at + P, 0);
  for (int a = 1; a < L; ++a) {
    const float* row = v + size_t(a) * P;
    for (int p = 0; p < P; ++p) {
      const bool gt = row[p] > best[p];
      best[p] = gt ? row[p] : best[p];
      at[p] = gt ? a : at[p];
    }
  }
}

// A correlation peak: offset from the best sample (in samples) and interpolated value.
struct Peak {
  double offset, value;
};

// Sample a+d of correlation p in the strided layout R[a·P + p] (periodic in a).
inline double at_offset(const float* R, int L, int P, int p, int a, int d) {
  return R[size_t((a + d + L) % L) * P + p];
}

// Parabola through the peak sample and its two neighbours (used to choose shift and mirror).
inline Peak parabolic(const float* R, int L, int P, int p, int a) {
  const double ym = at_offset(R, L, P, p, a, -1), y0 = at_offset(R, L, P, p, a, 0), yp = at_offset(R, L, P, p, a, 1);
  const double denom = ym - 2 * y0 + yp;
  const double d = denom < 0 ? std::clamp(0.5 * (ym - yp) / denom, -0.5, 0.5) : 0.0;
  return {d, y0 - 0.25 * (ym - yp) * d};
}

// The quartic through the 5 samples around the peak, maximised by Newton's method from the
// parabolic estimate (for the winning shift/mirror only): ~20× smaller value and angle errors
// than the parabola when the correlation is sampled at ~2× its highest harmonic.
inline Peak quartic(const float* R, int L, int P, int p, int a, Peak start) {
  double y[5];
  for (int d = -2; d <= 2; ++d) y[d + 2] = at_offset(R, L, P, p, a, d);
  const double c1 = (y[0] - 8 * y[1] + 8 * y[3] - y[4]) / 12,
               c2 = (-y[0] + 16 * y[1] - 30 * y[2] + 16 * y[3] - y[4]) / 24,
               c3 = (-y[0] + 2 * y[1] - 2 * y[3] + y[4]) / 12, c4 = (y[0] - 4 * y[1] + 6 * y[2] - 4 * y[3] + y[4]) / 24;
  double x = start.offset;
  for (int it = 0; it < 6; ++it) {
    const double d1 = c1 + x * (2 * c2 + x * (3 * c3 + x * 4 * c4)), d2 = 2 * c2 + x * (6 * c3 + x * 12 * c4);
    if (!(d2 < 0)) return start;
    x = std::clamp(x - d1 / d2, -1.0, 1.0);
  }
  return {x, y[2] + x * (c1 + x * (c2 + x * (c3 + x * c4)))};
}

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point& t0) {
  const auto t1 = Clock::now();
  const double s = std::chrono::duration<double>(t1 - t0).count();
  t0 = t1;
  return s;
}

}  // namespace

void align_images(const AlignSettings& st, const float* images, int64_t n, const float* refs, int64_t k, float* score,
                  float* psi, float* shiftX, float* shiftY, uint8_t* mirror, int threads, Control& control,
                  AlignTimings* timings) {
  blas_init();
  const PolarGrid grid(st.box, st.firstRing, st.lastRing, st.bandLimit);
  std::vector<double> dx, dy;
  shift_grid(st.shiftRange, st.shiftStep, dx, dy);
  const int S = int(dx.size());
  const PolarSampler sampler(grid, dx, dy);
  const PolarSampler refSampler(grid, {0.0}, {0.0});
  const int L = fast_even_length(2 * grid.mMax + 2), H = L / 2 + 1;
  const int halves = st.mirror ? 2 : 1;
  const int T = std::max(1, kTargetRows / (S * halves));
  const int rowsMax = T * S * halves;
  const int kc = int(std::clamp<int64_t>(kTargetPairs / rowsMax, 1, k));
  const size_t boxSq = size_t(st.box) * st.box;
  const size_t W2 = size_t(sampler.width()) * sampler.width();
  const int maxSamples = grid.samples.back();

  // References: weighted packed spectra B (k rows) and norms, made once.
  FftwBuffer<cfloat> B = fftw_buffer<cfloat>(size_t(k) * grid.packed);
  std::vector<double> refNorm(k);
  {
    FftwBuffer<float> padded = fftw_buffer<float>(size_t(refSampler.width()) * refSampler.width());
    FftwBuffer<float> samples = fftw_buffer<float>(grid.totalSamples);
    FftwBuffer<fftwf_complex> scratch = fftw_buffer<fftwf_complex>(maxSamples / 2 + 1);
    for (int64_t j = 0; j < k; ++j) {
      refSampler.padImage(refs + j * boxSq, padded.get());
      refSampler.sample(padded.get(), 0, samples.get());
      refNorm[j] = ring_spectra(grid, samples.get(), scratch.get(), grid.weight.data(), int(k), int(j), B.get());
    }
  }

  const int64_t tiles = (n + T - 1) / T;
  control.setTotal(double(n));
  AlignTimings total;
  Guard guard;
#pragma omp parallel num_threads(std::max(1, threads))
  {
    AlignTimings mine;
    FftwBuffer<float> padded, samples, R;
    FftwBuffer<fftwf_complex> scratch;
    FftwBuffer<cfloat> A, C;
    std::vector<double> norms(rowsMax);
    std::vector<float> best(size_t(rowsMax) * kc);
    std::vector<int32_t> at(size_t(rowsMax) * kc);
    guard.run([&] {
      padded = fftw_buffer<float>(W2);
      samples = fftw_buffer<float>(grid.totalSamples);
      scratch = fftw_buffer<fftwf_complex>(maxSamples / 2 + 1);
      A = fftw_buffer<cfloat>(size_t(rowsMax) * grid.packed);
      C = fftw_buffer<cfloat>(size_t(H) * rowsMax * kc);
      R = fftw_buffer<float>(size_t(L) * rowsMax * kc);
    });
#pragma omp for schedule(dynamic, 1)
    for (int64_t tile = 0; tile < tiles; ++tile) {
      guard.run([&] {
        control.throwIfCancelled();
        auto t0 = Clock::now();
        const int64_t i0 = tile * T;
        const int cnt = int(std::min<int64_t>(T, n - i0));
        const int half = cnt * S, rows = half * halves;
        for (int ii = 0; ii < cnt; ++ii) {
          sampler.padImage(images + (i0 + ii) * boxSq, padded.get());
          for (int o = 0; o < S; ++o) {
            sampler.sample(padded.get(), o, samples.get());
            norms[ii * S + o] = ring_spectra(grid, samples.get(), scratch.get(), nullptr, rows, ii * S + o, A.get());
          }
        }
        if (halves == 2) {  // mirrored image: conjugated ring spectra
          for (int m = 0; m <= grid.mMax; ++m) {
            const int act = grid.active(m);
            cfloat* block = A.get() + size_t(rows) * grid.harmonicOffset[m];
            for (int row = 0; row < half; ++row)
              for (int q = 0; q < act; ++q)
                block[size_t(row + half) * act + q] = std::conj(block[size_t(row) * act + q]);
          }
          std::copy(norms.begin(), norms.begin() + half, norms.begin() + half);
        }
        mine.resample += seconds_since(t0);

        for (int64_t j0 = 0; j0 < k; j0 += kc) {
          control.throwIfCancelled();
          const int kk = int(std::min<int64_t>(kc, k - j0));
          const int P = rows * kk;
          cfloat* Cp = C.get();
          std::memset(static_cast<void*>(Cp + size_t(grid.mMax + 1) * P), 0,
                      sizeof(cfloat) * size_t(H - 1 - grid.mMax) * P);
          const cfloat one(1.f, 0.f), zero(0.f, 0.f);
          for (int m = 0; m <= grid.mMax; ++m) {
            const int act = grid.active(m);
            cblas_cgemm(CblasRowMajor, CblasNoTrans, CblasConjTrans, rows, kk, act, &one,
                        A.get() + size_t(rows) * grid.harmonicOffset[m], act,
                        B.get() + size_t(k) * grid.harmonicOffset[m] + size_t(j0) * act, act, &zero, Cp + size_t(m) * P,
                        kk);
            mine.gemmFlops += 8.0 * rows * kk * act;
          }
          mine.gemm += seconds_since(t0);

          fftwf_execute_dft_c2r(plan_c2r_many(L, P, P, 1), reinterpret_cast<fftwf_complex*>(Cp), R.get());
          mine.correlations += P;
          mine.ifft += seconds_since(t0);

          const float* Rp = R.get();
          running_argmax(Rp, L, P, best.data(), at.data());
          for (int ii = 0; ii < cnt; ++ii)
            for (int jj = 0; jj < kk; ++jj) {
              double bestMetric = std::numeric_limits<double>::infinity();
              Peak bestPeak{0, 0};
              int bestRow = 0, bestO = 0, bestHalf = 0;
              for (int h = 0; h < halves; ++h)
                for (int o = 0; o < S; ++o) {
                  const int row = h * half + ii * S + o;
                  const int p = row * kk + jj;
                  const Peak pk = parabolic(Rp, L, P, p, at[p]);
                  const double metric = norms[row] - 2 * pk.value;
                  if (metric < bestMetric) {
                    bestMetric = metric;
                    bestPeak = pk;
                    bestRow = row;
                    bestO = o;
                    bestHalf = h;
                  }
                }
              const int p = bestRow * kk + jj;
              const Peak pk = quartic(Rp, L, P, p, at[p], bestPeak);
              bestMetric = norms[bestRow] - 2 * pk.value;
              const double bestAngle = (at[p] + pk.offset) * 360.0 / L;
              const size_t idx = size_t(i0 + ii) * k + size_t(j0 + jj);
              score[idx] = float(std::max(0.0, bestMetric + refNorm[j0 + jj]));
              double deg = std::fmod(bestHalf ? bestAngle : -bestAngle, 360.0);
              if (deg < 0) deg += 360.0;
              const float f = float(deg);
              psi[idx] = f >= 360.f ? 0.f : f;
              shiftX[idx] = float(0.0 - dx[bestO]);  // 0.0 − x: never −0
              shiftY[idx] = float(0.0 - dy[bestO]);
              mirror[idx] = uint8_t(bestHalf);
            }
          mine.peak += seconds_since(t0);
        }
        control.advance(cnt);
      });
    }
#pragma omp critical
    {
      total.resample += mine.resample;
      total.gemm += mine.gemm;
      total.ifft += mine.ifft;
      total.peak += mine.peak;
      total.gemmFlops += mine.gemmFlops;
      total.correlations += mine.correlations;
    }
  }
  guard.rethrow();
  total.ifftLength = L;
  if (timings) *timings = total;
}

}  // namespace ack
