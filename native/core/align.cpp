// The hot loop of the product: multi-reference alignment by polar-Fourier correlation.
//
// For a tile of T images: every image is resampled on polar rings at every shift offset s
// (half = T·S rows of ring spectra, real and imaginary parts split, see polar.h). For each
// angular harmonic m ≤ mMax ONE real GEMM
//   O_m = [X_re; X_im]·[Y_re; Y_im]ᵀ      (2·half rows) × (2·refs columns), K = rings(m)
// holds the four real products of the image spectra X and the weighted reference spectra Y,
// from which both Z_m(row, ref) = Σ_r (2πr/M_r²)·X_r(m)·conj(Y_r(m)) and the mirrored image's
// Z'_m = Σ_r (2πr/M_r²)·conj(X_r(m))·conj(Y_r(m)) follow by adding and subtracting: the mirror
// costs no GEMM work. The spectra of the (image, shift, mirror, reference) pairs are then
// gathered a chunk at a time into contiguous rows and a batched inverse real FFT of length L
// gives the rotational correlation c(α_a) = Z_0 + 2·Re Σ_m Z_m e^{i m α_a} at α_a = 2πa/L; a
// vectorised arg-max per pair finds the peak, a parabola through the peak and its neighbours
// ranks the (shift, mirror) pairs of each (image, reference), and a quartic through 5 samples
// refines the winner's angle and value. Chunks stay in L2, and everything per tile lives in
// per-thread buffers of a few MB, so memory does not grow with n; tiles are fixed by n alone,
// so results do not depend on the thread count.
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

constexpr int kTargetRows = 48;     // image×shift×mirror rows per tile (the real GEMM's M)
constexpr int kTargetPairs = 4096;  // rows × references per block: the GEMM output stays ~3 MB
constexpr int kChunkPairs = 128;    // pairs per inverse-FFT chunk: its spectra and samples stay in L2

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

// For each of `count` rows of L samples (row p at v + p·L): best[p] = its maximum and at[p] =
// the first a reaching it. K vectors of W lanes (lane l of vector c sees a ≡ c·W + l mod K·W)
// keep their own first maximum, independent chains that hide the compare latency; the lanes
// are then merged, ties going to the smaller index, so the result does not depend on W or K.
template <int W, int K>
inline __attribute__((always_inline)) void row_argmax_body(const float* v, int L, int count, float* best, int32_t* at) {
  typedef float vf __attribute__((vector_size(W * 4)));
  typedef int32_t vi __attribute__((vector_size(W * 4)));
  constexpr int step = W * K;
  const int full = L / step * step;
  for (int p = 0; p < count; ++p) {
    const float* row = v + size_t(p) * L;
    vf bv[K];
    vi ba[K], idx[K];
    for (int c = 0; c < K; ++c) {
      int32_t lane[W];
      for (int l = 0; l < W; ++l) lane[l] = c * W + l;
      std::memcpy(&idx[c], lane, sizeof lane);
      ba[c] = idx[c];
      bv[c] = vf{} - std::numeric_limits<float>::infinity();
    }
    for (int a = 0; a < full; a += step)
      for (int c = 0; c < K; ++c) {
        vf x;
        std::memcpy(&x, row + a + c * W, sizeof x);
        const vi gt = x > bv[c];
        bv[c] = gt ? x : bv[c];
        ba[c] = gt ? idx[c] : ba[c];
        idx[c] += step;
      }
    float b = row[0];
    int32_t i = 0;
    if (full > 0)
      for (int c = 0; c < K; ++c)
        for (int l = 0; l < W; ++l)
          if (bv[c][l] > b || (bv[c][l] == b && ba[c][l] < i)) {
            b = bv[c][l];
            i = ba[c][l];
          }
    for (int a = full; a < L; ++a)
      if (row[a] > b) {
        b = row[a];
        i = a;
      }
    best[p] = b;
    at[p] = i;
  }
}
// Dispatched by hand rather than with ACK_SIMD_KERNEL: the best vector width differs (8 lanes
// with AVX2, 4 with baseline SSE2), the result does not.
__attribute__((target("avx2"))) void row_argmax_avx2(const float* v, int L, int count, float* best, int32_t* at) {
  row_argmax_body<8, 4>(v, L, count, best, at);
}
void row_argmax_base(const float* v, int L, int count, float* best, int32_t* at) {
  row_argmax_body<4, 4>(v, L, count, best, at);
}
void row_argmax(const float* v, int L, int count, float* best, int32_t* at) {
  (simd_enabled() ? row_argmax_avx2 : row_argmax_base)(v, L, count, best, at);
}

// A correlation peak: offset from the best sample (in samples) and interpolated value.
struct Peak {
  double offset, value;
};

// Sample a+d of a correlation of L samples (periodic in a).
inline double at_offset(const float* row, int L, int a, int d) { return row[(a + d + L) % L]; }

// Parabola through the peak sample and its two neighbours (used to choose shift and mirror).
inline Peak parabolic(const float* row, int L, int a) {
  const double ym = at_offset(row, L, a, -1), y0 = at_offset(row, L, a, 0), yp = at_offset(row, L, a, 1);
  const double denom = ym - 2 * y0 + yp;
  const double d = denom < 0 ? std::clamp(0.5 * (ym - yp) / denom, -0.5, 0.5) : 0.0;
  return {d, y0 - 0.25 * (ym - yp) * d};
}

// The quartic through the 5 samples around the peak, maximised by Newton's method from the
// parabolic estimate (for the winning shift/mirror only): ~20× smaller value and angle errors
// than the parabola when the correlation is sampled at ~2× its highest harmonic.
inline Peak quartic(const float* row, int L, int a, Peak start) {
  double y[5];
  for (int d = -2; d <= 2; ++d) y[d + 2] = at_offset(row, L, a, d);
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

// Per-thread buffers for tiles of up to rowsMax rows (image × shift × mirror) against blocks of
// up to kc references.
struct Workspace {
  FftwBuffer<float> padded, samples, O, R;
  FftwBuffer<fftwf_complex> scratch, T;
  FftwBuffer<cfloat> A;
  std::vector<double> norms;
  std::vector<float> best;
  std::vector<int32_t> at;
  int chunkGroups = 1;                    // (image, reference) groups per inverse-FFT chunk
  std::vector<int> groupImage, groupRef;  // the image and reference of each group of a chunk
  void allocate(const Setup& u, int rowsMax, int kc, int pairsPerGroup) {
    const int halfMax = rowsMax / u.halves;
    chunkGroups = std::max(1, kChunkPairs / pairsPerGroup);
    const size_t chunk = size_t(chunkGroups) * pairsPerGroup;
    padded = fftw_buffer<float>(u.W2);
    samples = fftw_buffer<float>(u.grid.totalSamples);
    scratch = fftw_buffer<fftwf_complex>(u.maxSamples / 2 + 1);
    A = fftw_buffer<cfloat>(size_t(halfMax) * u.grid.packed);
    O = fftw_buffer<float>(size_t(u.grid.mMax + 1) * 4 * halfMax * kc);
    T = fftw_buffer<fftwf_complex>(chunk * u.H);
    R = fftw_buffer<float>(chunk * u.L);
    norms.resize(halfMax);
    best.resize(chunk);
    at.resize(chunk);
    groupImage.resize(chunkGroups);
    groupRef.resize(chunkGroups);
  }
};

// The shift offsets of a tile: image ii is resampled at grid offsets at(ii, 0..S−1), every grid
// offset (S = the grid's size) or its own list of S (a local search around a previous shift).
struct TileOffsets {
  const int32_t* list = nullptr;  // cnt×S grid indices, or nullptr: offset o is grid offset o
  int S = 0;
  int at(int ii, int o) const { return list ? list[size_t(ii) * S + o] : o; }
};

// Resamples `cnt` images at their shifts into w.A (their norms into w.norms); returns the
// number of rows, cnt·S (the mirrored images are not stored: see correlate).
int resample_tile(const Setup& u, Workspace& w, const float* images, int cnt, TileOffsets off) {
  const int S = off.S, half = cnt * S;
  for (int ii = 0; ii < cnt; ++ii) {
    u.sampler.padImage(images + size_t(ii) * u.boxSq, w.padded.get());
    for (int o = 0; o < S; ++o) {
      u.sampler.sample(w.padded.get(), off.at(ii, o), w.samples.get());
      w.norms[ii * S + o] =
          ring_spectra(u.grid, w.samples.get(), w.scratch.get(), nullptr, half, ii * S + o, w.A.get());
    }
  }
  return half;
}

// Correlates the `half` resampled rows of `cnt` images in w.A (and their mirror images) with
// references j0..j0+kk−1 of B (the split layout of polar.h for kB references, norms refNorm[j])
// and calls out(ii, jj, match) for each image and reference.
template <class Out>
void correlate(const Setup& u, Workspace& w, int cnt, int half, TileOffsets off, const cfloat* B, int64_t kB,
               int64_t j0, int kk, const double* refNorm, AlignTimings& mine, Clock::time_point& t0, Out&& out) {
  const PolarGrid& grid = u.grid;
  const int L = u.L, H = u.H, S = off.S, halves = u.halves, mMax = grid.mMax;
  const size_t oStride = size_t(2 * half) * (2 * kk);  // floats per harmonic in O
  float* O = w.O.get();
  for (int m = 0; m <= mMax; ++m) {
    const int act = grid.active(m);
    const float* Am = reinterpret_cast<const float*>(w.A.get() + size_t(half) * grid.harmonicOffset[m]);
    const float* Bm = reinterpret_cast<const float*>(B + size_t(kB) * grid.harmonicOffset[m]) + size_t(j0) * 2 * act;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, 2 * half, 2 * kk, act, 1.f, Am, act, Bm, act, 0.f,
                O + size_t(m) * oStride, 2 * kk);
    mine.gemmFlops += 8.0 * half * kk * act;
  }
  mine.gemm += seconds_since(t0);

  // Pairs of (image ii, reference jj) form a group of halves·S pairs (mirror h, shift o), at
  // h·S + o; chunks of whole groups are gathered, transformed and searched together.
  const int perGroup = halves * S, groups = cnt * kk;
  for (int g0 = 0; g0 < groups; g0 += w.chunkGroups) {
    const int gc = std::min(w.chunkGroups, groups - g0), pairs = gc * perGroup;
    fftwf_complex* T = w.T.get();
    // Harmonic by harmonic, so that the reads of O_m run along its rows (references jj of a
    // chunk are consecutive) and the writes stay in the chunk's few KB of T.
    for (int gl = 0; gl < gc; ++gl) {
      w.groupImage[gl] = (g0 + gl) / kk;
      w.groupRef[gl] = (g0 + gl) % kk;
    }
    for (int m = 0; m <= mMax; ++m) {
      const float* Om = O + size_t(m) * oStride;
      for (int o = 0; o < S; ++o)
        for (int gl = 0; gl < gc; ++gl) {
          const size_t r = size_t(w.groupImage[gl]) * S + o;
          const float* re = Om + (2 * r) * (2 * kk) + 2 * w.groupRef[gl];  // X_re·Y_re, X_re·Y_im
          const float* im = re + 2 * kk;                                   // X_im·Y_re, X_im·Y_im
          float* z = T[size_t(gl * perGroup + o) * H + m];
          z[0] = re[0] + im[1];
          z[1] = im[0] - re[1];
          if (halves == 2) {  // the mirror image: conj(X)·conj(Y)
            float* zm = z + size_t(S) * H * 2;
            zm[0] = re[0] - im[1];
            zm[1] = -im[0] - re[1];
          }
        }
    }
    for (int p = 0; p < pairs; ++p) std::fill(T[size_t(p) * H + mMax + 1], T[size_t(p + 1) * H], 0.f);
    fftwf_execute_dft_c2r(plan_c2r_rows(L, pairs), T, w.R.get());
    mine.correlations += pairs;
    mine.ifft += seconds_since(t0);

    const float* Rp = w.R.get();
    row_argmax(Rp, L, pairs, w.best.data(), w.at.data());
    const int32_t* at = w.at.data();
    for (int gl = 0; gl < gc; ++gl) {
      const int ii = w.groupImage[gl], jj = w.groupRef[gl];
      double bestMetric = std::numeric_limits<double>::infinity();
      Peak bestPeak{0, 0};
      int bestPair = 0, bestO = 0, bestHalf = 0;
      for (int h = 0; h < halves; ++h)
        for (int o = 0; o < S; ++o) {
          const int p = gl * perGroup + h * S + o;
          const Peak pk = parabolic(Rp + size_t(p) * L, L, at[p]);
          const double metric = w.norms[ii * S + o] - 2 * pk.value;
          if (metric < bestMetric) {
            bestMetric = metric;
            bestPeak = pk;
            bestPair = p;
            bestO = o;
            bestHalf = h;
          }
        }
      const Peak pk = quartic(Rp + size_t(bestPair) * L, L, at[bestPair], bestPeak);
      bestMetric = w.norms[ii * S + bestO] - 2 * pk.value;
      const double bestAngle = (at[bestPair] + pk.offset) * 360.0 / L;
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
    guard.run([&] { w.allocate(u, rowsMax, kc, So * u.halves); });
#pragma omp for schedule(dynamic, 1)
    for (int64_t tile = 0; tile < tiles; ++tile) {
      guard.run([&] {
        control.throwIfCancelled();
        auto t0 = Clock::now();
        const int64_t i0 = tile * T;
        const int cnt = int(std::min<int64_t>(T, n - i0));
        const TileOffsets off{offsets ? offsets + i0 * So : nullptr, So};
        const int half = resample_tile(u, w, images + i0 * u.boxSq, cnt, off);
        mine.resample += seconds_since(t0);
        for (int64_t j0 = 0; j0 < k; j0 += kc) {
          control.throwIfCancelled();
          const int kk = int(std::min<int64_t>(kc, k - j0));
          correlate(u, w, cnt, half, off, B.get(), k, j0, kk, refNorm.data(), mine, t0,
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
      w.allocate(u, rowsMax, m, So * u.halves);
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
          const int half = resample_tile(u, w, images + i * u.boxSq, 1, off);
          mine.resample += seconds_since(t0);
          correlate(u, w, 1, half, off, Bsel.get(), valid, 0, valid, normSel.data(), mine, t0,
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
