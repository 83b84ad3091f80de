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
#include <stdexcept>
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

namespace {

// What every alignment call shares: the polar grid, the shift grid and its samplers, the
// correlation length, and the reference spectra.
struct Setup {
  const AlignSettings& st;
  PolarGrid grid;
  std::vector<double> dx, dy;
  int S = 0, L = 0, H = 0, halves = 1, maxSamples = 0;
  size_t boxSq = 0, W2 = 0;
  PolarSampler sampler, refSampler;

  static std::vector<double> grid_x(const AlignSettings& s) {
    std::vector<double> x, y;
    shift_grid(s.shiftRange, s.shiftStep, x, y);
    return x;
  }
  static std::vector<double> grid_y(const AlignSettings& s) {
    std::vector<double> x, y;
    shift_grid(s.shiftRange, s.shiftStep, x, y);
    return y;
  }
  explicit Setup(const AlignSettings& s)
      : st(s),
        grid(s.box, s.firstRing, s.lastRing, s.bandLimit),
        dx(grid_x(s)),
        dy(grid_y(s)),
        sampler(grid, dx, dy),
        refSampler(grid, {0.0}, {0.0}) {
    S = int(dx.size());
    L = fast_even_length(2 * grid.mMax + 2);
    H = L / 2 + 1;
    halves = s.mirror ? 2 : 1;
    boxSq = size_t(s.box) * s.box;
    W2 = size_t(sampler.width()) * sampler.width();
    maxSamples = grid.samples.back();
  }

  // Weighted packed spectra B (k rows, the B_m layout) and weighted norms of k references.
  void references(const float* refs, int64_t k, cfloat* B, double* norm) const {
    FftwBuffer<float> padded = fftw_buffer<float>(size_t(refSampler.width()) * refSampler.width());
    FftwBuffer<float> samples = fftw_buffer<float>(grid.totalSamples);
    FftwBuffer<fftwf_complex> scratch = fftw_buffer<fftwf_complex>(maxSamples / 2 + 1);
    for (int64_t j = 0; j < k; ++j) {
      refSampler.padImage(refs + j * boxSq, padded.get());
      refSampler.sample(padded.get(), 0, samples.get());
      norm[j] = ring_spectra(grid, samples.get(), scratch.get(), grid.weight.data(), int(k), int(j), B);
    }
  }
};

// One alignment of an image to a reference.
struct Match {
  float score, psi, shiftX, shiftY;
  uint8_t mirror;
};

// Per-thread buffers for tiles of up to rowsMax rows against blocks of up to kc references.
struct Workspace {
  FftwBuffer<float> padded, samples, R;
  FftwBuffer<fftwf_complex> scratch;
  FftwBuffer<cfloat> A, C;
  std::vector<double> norms;
  std::vector<float> best;
  std::vector<int32_t> at;
  void allocate(const Setup& u, int rowsMax, int kc) {
    padded = fftw_buffer<float>(u.W2);
    samples = fftw_buffer<float>(u.grid.totalSamples);
    scratch = fftw_buffer<fftwf_complex>(u.maxSamples / 2 + 1);
    A = fftw_buffer<cfloat>(size_t(rowsMax) * u.grid.packed);
    C = fftw_buffer<cfloat>(size_t(u.H) * rowsMax * kc);
    R = fftw_buffer<float>(size_t(u.L) * rowsMax * kc);
    norms.resize(rowsMax);
    best.resize(size_t(rowsMax) * kc);
    at.resize(size_t(rowsMax) * kc);
  }
};

// The shift offsets of a tile: image ii is resampled at grid offsets at(ii, 0..S−1), every grid
// offset (S = the grid's size) or its own list of S (a local search around a previous shift).
struct TileOffsets {
  const int32_t* list = nullptr;  // cnt×S grid indices, or nullptr: offset o is grid offset o
  int S = 0;
  int at(int ii, int o) const { return list ? list[size_t(ii) * S + o] : o; }
};

// Resamples `cnt` images at their shifts (and mirror) into w.A; returns the number of rows.
int resample_tile(const Setup& u, Workspace& w, const float* images, int cnt, TileOffsets off) {
  const int S = off.S, half = cnt * S, rows = half * u.halves;
  for (int ii = 0; ii < cnt; ++ii) {
    u.sampler.padImage(images + size_t(ii) * u.boxSq, w.padded.get());
    for (int o = 0; o < S; ++o) {
      u.sampler.sample(w.padded.get(), off.at(ii, o), w.samples.get());
      w.norms[ii * S + o] =
          ring_spectra(u.grid, w.samples.get(), w.scratch.get(), nullptr, rows, ii * S + o, w.A.get());
    }
  }
  if (u.halves == 2) {  // mirrored image: conjugated ring spectra
    for (int m = 0; m <= u.grid.mMax; ++m) {
      const int act = u.grid.active(m);
      cfloat* block = w.A.get() + size_t(rows) * u.grid.harmonicOffset[m];
      for (int row = 0; row < half; ++row)
        for (int q = 0; q < act; ++q) block[size_t(row + half) * act + q] = std::conj(block[size_t(row) * act + q]);
    }
    std::copy(w.norms.begin(), w.norms.begin() + half, w.norms.begin() + half);
  }
  return rows;
}

// Correlates the `rows` resampled rows of `cnt` images in w.A with references j0..j0+kk−1 of B
// (the B_m layout for kB references, norms refNorm[j]) and calls out(ii, jj, match) for each.
template <class Out>
void correlate(const Setup& u, Workspace& w, int cnt, int rows, TileOffsets off, const cfloat* B, int64_t kB,
               int64_t j0, int kk, const double* refNorm, AlignTimings& mine, Clock::time_point& t0, Out&& out) {
  const PolarGrid& grid = u.grid;
  const int L = u.L, H = u.H, S = off.S, halves = u.halves, half = cnt * S;
  const int P = rows * kk;
  cfloat* Cp = w.C.get();
  std::memset(static_cast<void*>(Cp + size_t(grid.mMax + 1) * P), 0, sizeof(cfloat) * size_t(H - 1 - grid.mMax) * P);
  const cfloat one(1.f, 0.f), zero(0.f, 0.f);
  for (int m = 0; m <= grid.mMax; ++m) {
    const int act = grid.active(m);
    cblas_cgemm(CblasRowMajor, CblasNoTrans, CblasConjTrans, rows, kk, act, &one,
                w.A.get() + size_t(rows) * grid.harmonicOffset[m], act,
                B + size_t(kB) * grid.harmonicOffset[m] + size_t(j0) * act, act, &zero, Cp + size_t(m) * P, kk);
    mine.gemmFlops += 8.0 * rows * kk * act;
  }
  mine.gemm += seconds_since(t0);

  fftwf_execute_dft_c2r(plan_c2r_many(L, P, P, 1), reinterpret_cast<fftwf_complex*>(Cp), w.R.get());
  mine.correlations += P;
  mine.ifft += seconds_since(t0);

  const float* Rp = w.R.get();
  running_argmax(Rp, L, P, w.best.data(), w.at.data());
  const int32_t* at = w.at.data();
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
          const double metric = w.norms[row] - 2 * pk.value;
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
      bestMetric = w.norms[bestRow] - 2 * pk.value;
      const double bestAngle = (at[p] + pk.offset) * 360.0 / L;
      double deg = std::fmod(bestHalf ? bestAngle : -bestAngle, 360.0);
      if (deg < 0) deg += 360.0;
      const float f = float(deg);
      const int g = off.at(ii, bestO);
      out(ii, jj,
          Match{float(std::max(0.0, bestMetric + refNorm[j0 + jj])), f >= 360.f ? 0.f : f,
                float(0.0 - u.dx[g]),  // 0.0 − x: never −0
                float(0.0 - u.dy[g]), uint8_t(bestHalf)});
    }
  mine.peak += seconds_since(t0);
}

void add_timings(AlignTimings& total, const AlignTimings& mine) {
  total.resample += mine.resample;
  total.gemm += mine.gemm;
  total.ifft += mine.ifft;
  total.peak += mine.peak;
  total.gemmFlops += mine.gemmFlops;
  total.correlations += mine.correlations;
}

// Checks a per-image offset list against the grid; returns the offsets per image.
int offsets_per_image(const Setup& u, const int32_t* offsets, int perImage, int64_t n) {
  if (!offsets) return u.S;
  if (perImage < 1 || perImage > u.S) throw std::out_of_range("offsets per image must be in [1, grid size]");
  for (int64_t e = 0; e < n * perImage; ++e)
    if (offsets[e] < 0 || offsets[e] >= u.S) throw std::out_of_range("offsets hold an index outside the shift grid");
  return perImage;
}

}  // namespace

int shift_grid_size(const AlignSettings& st) {
  std::vector<double> dx, dy;
  shift_grid(st.shiftRange, st.shiftStep, dx, dy);
  return int(dx.size());
}

void align_images(const AlignSettings& st, const float* images, int64_t n, const float* refs, int64_t k, float* score,
                  float* psi, float* shiftX, float* shiftY, uint8_t* mirror, int threads, Control& control,
                  AlignTimings* timings, const int32_t* offsets, int offsetsPerImage) {
  blas_init();
  const Setup u(st);
  const int So = offsets_per_image(u, offsets, offsetsPerImage, n);
  const int T = std::max(1, kTargetRows / (So * u.halves));
  const int rowsMax = T * So * u.halves;
  const int kc = int(std::clamp<int64_t>(kTargetPairs / rowsMax, 1, k));

  // References: weighted packed spectra B (k rows) and norms, made once.
  FftwBuffer<cfloat> B = fftw_buffer<cfloat>(size_t(k) * u.grid.packed);
  std::vector<double> refNorm(k);
  u.references(refs, k, B.get(), refNorm.data());

  const int64_t tiles = (n + T - 1) / T;
  control.setTotal(double(n));
  AlignTimings total;
  Guard guard;
#pragma omp parallel num_threads(std::max(1, threads))
  {
    AlignTimings mine;
    Workspace w;
    guard.run([&] { w.allocate(u, rowsMax, kc); });
#pragma omp for schedule(dynamic, 1)
    for (int64_t tile = 0; tile < tiles; ++tile) {
      guard.run([&] {
        control.throwIfCancelled();
        auto t0 = Clock::now();
        const int64_t i0 = tile * T;
        const int cnt = int(std::min<int64_t>(T, n - i0));
        const TileOffsets off{offsets ? offsets + i0 * So : nullptr, So};
        const int rows = resample_tile(u, w, images + i0 * u.boxSq, cnt, off);
        mine.resample += seconds_since(t0);
        for (int64_t j0 = 0; j0 < k; j0 += kc) {
          control.throwIfCancelled();
          const int kk = int(std::min<int64_t>(kc, k - j0));
          correlate(u, w, cnt, rows, off, B.get(), k, j0, kk, refNorm.data(), mine, t0,
                    [&](int ii, int jj, const Match& r) {
                      const size_t idx = size_t(i0 + ii) * k + size_t(j0 + jj);
                      score[idx] = r.score;
                      psi[idx] = r.psi;
                      shiftX[idx] = r.shiftX;
                      shiftY[idx] = r.shiftY;
                      mirror[idx] = r.mirror;
                    });
        }
        control.advance(cnt);
      });
    }
#pragma omp critical
    add_timings(total, mine);
  }
  guard.rethrow();
  total.ifftLength = u.L;
  if (timings) *timings = total;
}

void align_candidates(const AlignSettings& st, const float* images, int64_t n, const float* refs, int64_t k,
                      const int32_t* candidates, int m, float* score, float* psi, float* shiftX, float* shiftY,
                      uint8_t* mirror, int threads, Control& control, AlignTimings* timings, const int32_t* offsets,
                      int offsetsPerImage) {
  for (int64_t e = 0; e < n * m; ++e)
    if (candidates[e] < -1 || candidates[e] >= k) throw std::out_of_range("candidates hold a class outside [-1, k)");
  blas_init();
  const Setup u(st);
  const int So = offsets_per_image(u, offsets, offsetsPerImage, n);
  const int rowsMax = So * u.halves;
  FftwBuffer<cfloat> B = fftw_buffer<cfloat>(size_t(k) * u.grid.packed);
  std::vector<double> refNorm(k);
  u.references(refs, k, B.get(), refNorm.data());
  const PolarGrid& grid = u.grid;

  control.setTotal(double(n));
  AlignTimings total;
  Guard guard;
#pragma omp parallel num_threads(std::max(1, threads))
  {
    AlignTimings mine;
    Workspace w;
    FftwBuffer<cfloat> Bsel;
    std::vector<double> normSel(m);
    std::vector<int> slot(m);  // output slot of the c-th valid candidate
    guard.run([&] {
      w.allocate(u, rowsMax, m);
      Bsel = fftw_buffer<cfloat>(size_t(m) * grid.packed);
    });
#pragma omp for schedule(dynamic, 4)
    for (int64_t i = 0; i < n; ++i) {
      guard.run([&] {
        if ((i & 63) == 0) control.throwIfCancelled();
        auto t0 = Clock::now();
        const int32_t* cand = candidates + i * m;
        int valid = 0;
        for (int c = 0; c < m; ++c) {
          const size_t idx = size_t(i) * m + c;
          if (cand[c] < 0) {  // an empty slot
            score[idx] = std::numeric_limits<float>::infinity();
            psi[idx] = shiftX[idx] = shiftY[idx] = 0.f;
            mirror[idx] = 0;
            continue;
          }
          slot[valid] = c;
          normSel[valid] = refNorm[cand[c]];
          ++valid;
        }
        if (valid > 0) {
          // gather the candidates' spectra into the B_m layout for `valid` references
          for (int mm = 0; mm <= grid.mMax; ++mm) {
            const int act = grid.active(mm);
            const cfloat* src = B.get() + size_t(k) * grid.harmonicOffset[mm];
            cfloat* dst = Bsel.get() + size_t(valid) * grid.harmonicOffset[mm];
            for (int v = 0; v < valid; ++v)
              std::copy(src + size_t(cand[slot[v]]) * act, src + size_t(cand[slot[v]] + 1) * act,
                        dst + size_t(v) * act);
          }
          const TileOffsets off{offsets ? offsets + i * So : nullptr, So};
          const int rows = resample_tile(u, w, images + i * u.boxSq, 1, off);
          mine.resample += seconds_since(t0);
          correlate(u, w, 1, rows, off, Bsel.get(), valid, 0, valid, normSel.data(), mine, t0,
                    [&](int, int jj, const Match& r) {
                      const size_t idx = size_t(i) * m + slot[jj];
                      score[idx] = r.score;
                      psi[idx] = r.psi;
                      shiftX[idx] = r.shiftX;
                      shiftY[idx] = r.shiftY;
                      mirror[idx] = r.mirror;
                    });
        }
        control.advance(1);
      });
    }
#pragma omp critical
    add_timings(total, mine);
  }
  guard.rethrow();
  total.ifftLength = u.L;
  if (timings) *timings = total;
}

}  // namespace ack
