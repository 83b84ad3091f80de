// The hot loop of the product: multi-reference alignment by polar-Fourier correlation.
//
// For a tile of T images: every image is resampled on polar rings at every shift offset s
// (half = T·S rows of ring spectra, see polar.h). For each angular harmonic m ≤ mMax ONE real
// GEMM
//   O_m = [U; V]·[U'; V']ᵀ      (2·half rows) × (2·refs columns), K = rings(m)
// multiplies the sums U = Re X + Im X and differences V = Re X − Im X of the image spectra X by
// those (U', V') of the weighted reference spectra Y. With the correlation spectra
// Z_m(row, ref) = Σ_r (2πr/M_r²)·X_r(m)·conj(Y_r(m)) of the image and
// Z'_m = Σ_r (2πr/M_r²)·conj(X_r(m))·conj(Y_r(m)) of its mirror image, the four products are
// exactly
//   Z_m + i·Z'_m = U·U' + i·U·V'      and      conj(Z_m) + i·conj(Z'_m) = V·V' + i·V·U',
// the values at m and L − m of one complex spectrum whose inverse FFT of length L has the
// rotational correlation of the image, c(α_a) = Z_0 + 2·Re Σ_m Z_m e^{i m α_a} at α_a = 2πa/L,
// as its real part and that of the mirror image as its imaginary part. So the mirror costs no
// GEMM work, and one complex inverse FFT serves both (half the transforms of one real FFT per
// correlation). The GEMM output is transposed, a chunk of (image, shift, reference) pairs at a
// time (4×4 blocks of complex values in AVX2 registers), into the transforms' contiguous rows. A
// vectorised arg-max finds both peaks, a parabola through each peak and its neighbours ranks
// the (shift, mirror) pairs of each (image, reference), and a quartic through 5 samples refines
// the winner's angle and value. Chunks stay in L2, and everything per tile lives in per-thread
// buffers of a few MB, so memory does not grow with n; tiles are fixed by n alone, so results
// do not depend on the thread count.
//
// With shiftReferences (SPEC §4: "shifts may be applied to the references instead") the roles of
// the shifts swap: B holds every reference resampled at every grid offset (Sr = S rows each) and
// each image is resampled once, at its centre, so an image's resampling, most of a sparse pass,
// is done once instead of S times; the GEMMs and transforms are as many as before. The offset d
// that wins becomes the image's shift turned by the angle, t = R(−ψ)·F^mirror·d, and the score
// takes the shifted reference's norm. The sparse search then multiplies each image's two rows by
// its candidates' blocks of B, stored transposed (row_products), instead of gathering them for a
// 2-row GEMM.
//
// L is the smallest even 2^a3^b5^c ≥ 2·mMax + 2: dropping harmonics above the band limit makes
// both the GEMMs and the inverse FFTs shorter. The correlation is then sampled every 360°/L and
// the parabolic fit interpolates between samples.
#include "align.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
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
constexpr int kChunkPairs = 64;     // pairs per inverse-FFT chunk: its spectra and samples stay in L2

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

// For each of `count` transforms of L complex samples (transform p at v + 2·p·dist floats, real and
// imaginary parts interleaved: the correlations of an image, h = 0, and of its mirror image,
// h = 1): at[2p + h] = the first sample a where part h reaches its maximum. The baseline copy is
// that definition. In the AVX2 copy each lane keeps its own first maximum (8 lanes: each lane
// always sees the same part), and the first index among the lanes holding their part's maximum
// wins: the same answer.
void pair_argmax_base(const float* v, int L, int dist, int count, int32_t* at) {
  for (int p = 0; p < count; ++p) {
    const float* row = v + size_t(p) * 2 * dist;
    for (int h = 0; h < 2; ++h) {
      float b = row[h];
      int i = 0;
      for (int a = 1; a < L; ++a)
        if (row[2 * a + h] > b) {
          b = row[2 * a + h];
          i = a;
        }
      at[2 * p + h] = i;
    }
  }
}
// One block of 8 floats at row + e into a chain of pair_argmax_avx2: lanes above their maximum
// so far take the value and the block's start.
__attribute__((target("avx2"), always_inline)) inline void argmax_step(const float* row, int e, __m256& m,
                                                                       __m256i& block) {
  const __m256 x = _mm256_loadu_ps(row + e), gt = _mm256_cmp_ps(x, m, _CMP_GT_OQ);
  m = _mm256_blendv_ps(m, x, gt);
  block =
      _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(block), _mm256_castsi256_ps(_mm256_set1_epi32(e)), gt));
}
__attribute__((target("avx2"))) void pair_argmax_avx2(const float* v, int L, int dist, int count, int32_t* at) {
  const int len = 2 * L;
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), none = _mm256_set1_epi32(INT32_MAX);
  for (int p = 0; p < count; ++p) {
    const float* row = v + size_t(p) * 2 * dist;
    // 4 independent chains of 8 lanes, blocks of 8 floats dealt to them in turn: each lane's
    // first maximum and the block it is in (each lane always sees the same part)
    __m256 m[4];
    __m256i block[4];
    for (int c = 0; c < 4; ++c) {
      m[c] = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
      block[c] = _mm256_setzero_si256();
    }
    int e = 0;
    for (; e + 32 <= len; e += 32)
      for (int c = 0; c < 4; ++c) argmax_step(row, e + 8 * c, m[c], block[c]);
    // the last 0..3 blocks of 8 (L = 24, the coarse stage's length, leaves 2 of its 6 here)
    for (int c = 0; c < 3 && e + 8 <= len; ++c, e += 8) argmax_step(row, e, m[c], block[c]);
    // the maximum of each part, in every lane of that part: [b0, b1, b0, b1, …]
    __m256 mm = _mm256_max_ps(_mm256_max_ps(m[0], m[1]), _mm256_max_ps(m[2], m[3]));
    mm = _mm256_max_ps(mm, _mm256_permute2f128_ps(mm, mm, 1));
    mm = _mm256_max_ps(mm, _mm256_permute_ps(mm, 0x4E));
    // the smallest float index among the lanes that hold it
    __m256i first = none;
    for (int c = 0; c < 4; ++c) {
      const __m256i index = _mm256_add_epi32(block[c], lane);
      const __m256i holds = _mm256_castps_si256(_mm256_cmp_ps(m[c], mm, _CMP_EQ_OQ));
      first = _mm256_min_epi32(first, _mm256_blendv_epi8(none, index, holds));
    }
    first = _mm256_min_epi32(first, _mm256_permute2x128_si256(first, first, 1));
    first = _mm256_min_epi32(first, _mm256_shuffle_epi32(first, 0x4E));
    float b[2] = {_mm256_cvtss_f32(mm), _mm256_cvtss_f32(_mm256_permute_ps(mm, 1))};
    int found[2] = {_mm256_cvtsi256_si32(first), _mm256_cvtsi256_si32(_mm256_shuffle_epi32(first, 1))};
    for (; e < len; ++e)  // len − e is 0 or 4
      if (row[e] > b[e & 1]) {
        b[e & 1] = row[e];
        found[e & 1] = e;
      }
    for (int h = 0; h < 2; ++h) at[2 * p + h] = found[h] == INT32_MAX ? 0 : found[h] / 2;  // none: NaN samples
  }
}
void pair_argmax(const float* v, int L, int dist, int count, int32_t* at) {
  (simd_enabled() ? pair_argmax_avx2 : pair_argmax_base)(v, L, dist, count, at);
}

// Transposes one segment of the GEMM output into the inverse FFTs' rows. For t < len, row t of
// the chunk (dst + t·D complex) gets, at harmonic m ≤ mMax, the complex value (u[2t], u[2t + 1])
// of u = src + m·stride floats (the U row: Z_m + i·Z'_m) and, for m ≥ 1, at L − m the value
// (v[2t + 1], v[2t]) of v = u + vOffset (the V row, its parts swapped: conj(Z_m) + i·conj(Z'_m)).
// The AVX2 path moves 4 harmonics × 4 rows at a time through registers; both paths only copy,
// so they give identical results.
inline void transpose_one(const float* src, size_t stride, size_t vOffset, int m, int t, fftwf_complex* dst, int D,
                          int L) {
  const float* u = src + m * stride + 2 * t;
  float* lo = dst[size_t(t) * D + m];
  lo[0] = u[0];
  lo[1] = u[1];
  if (m > 0) {
    float* hi = dst[size_t(t) * D + L - m];
    hi[0] = u[vOffset + 1];
    hi[1] = u[vOffset];
  }
}
void transpose_segment_base(const float* src, size_t stride, size_t vOffset, int mMax, int len, fftwf_complex* dst,
                            int D, int L) {
  for (int m = 0; m <= mMax; ++m)
    for (int t = 0; t < len; ++t) transpose_one(src, stride, vOffset, m, t, dst, D, L);
}
__attribute__((target("avx2"))) void transpose_segment_avx2(const float* src, size_t stride, size_t vOffset, int mMax,
                                                            int len, fftwf_complex* dst, int D, int L) {
  for (int t = 0; t < len; ++t) transpose_one(src, stride, vOffset, 0, t, dst, D, L);
  const __m256i reverse = _mm256_setr_epi32(7, 6, 5, 4, 3, 2, 1, 0);
  int m = 1;
  for (; m + 3 <= mMax; m += 4) {
    int t = 0;
    for (; t + 4 <= len; t += 4)
      for (int part = 0; part < 2; ++part) {  // the U rows, then the V rows
        __m256d r[4];
        for (int i = 0; i < 4; ++i)
          r[i] =
              _mm256_loadu_pd(reinterpret_cast<const double*>(src + (m + i) * stride + (part ? vOffset : 0) + 2 * t));
        const __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]),
                      t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
        const __m256d c[4] = {_mm256_permute2f128_pd(t0, t2, 0x20), _mm256_permute2f128_pd(t1, t3, 0x20),
                              _mm256_permute2f128_pd(t0, t2, 0x31), _mm256_permute2f128_pd(t1, t3, 0x31)};
        for (int i = 0; i < 4; ++i) {  // c[i]: harmonics m..m+3 of row t + i
          if (part == 0)
            _mm256_storeu_pd(reinterpret_cast<double*>(dst[size_t(t + i) * D + m]), c[i]);
          else  // L−m−3..L−m hold harmonics m+3..m, each with its parts swapped: all 8 floats reversed
            _mm256_storeu_ps(dst[size_t(t + i) * D + L - m - 3],
                             _mm256_permutevar8x32_ps(_mm256_castpd_ps(c[i]), reverse));
        }
      }
    for (; t < len; ++t)
      for (int i = 0; i < 4; ++i) transpose_one(src, stride, vOffset, m + i, t, dst, D, L);
  }
  for (; m <= mMax; ++m)
    for (int t = 0; t < len; ++t) transpose_one(src, stride, vOffset, m, t, dst, D, L);
}
void transpose_segment(const float* src, size_t stride, size_t vOffset, int mMax, int len, fftwf_complex* dst, int D,
                       int L) {
  (simd_enabled() ? transpose_segment_avx2 : transpose_segment_base)(src, stride, vOffset, mMax, len, dst, D, L);
}

// A correlation peak: offset from the best sample (in samples) and interpolated value.
struct Peak {
  double offset, value;
};

// The 5 samples a−2..a+2 of a correlation of L samples (periodic in a), `stride` floats apart.
struct Around {
  double y[5];
};
inline Around around(const float* row, int L, int a, int stride) {
  Around s;
  for (int d = -2; d <= 2; ++d) {
    int e = a + d;
    e += e < 0 ? L : (e >= L ? -L : 0);
    s.y[d + 2] = row[size_t(e) * stride];
  }
  return s;
}

// Parabola through the peak sample and its two neighbours (used to choose shift and mirror).
inline Peak parabolic(const Around& s) {
  const double ym = s.y[1], y0 = s.y[2], yp = s.y[3];
  const double denom = ym - 2 * y0 + yp;
  const double d = denom < 0 ? std::clamp(0.5 * (ym - yp) / denom, -0.5, 0.5) : 0.0;
  return {d, y0 - 0.25 * (ym - yp) * d};
}

// The quartic through the 5 samples around the peak, maximised by Newton's method from the
// parabolic estimate (for the winning shift/mirror only): ~20× smaller value and angle errors
// than the parabola when the correlation is sampled at ~2× its highest harmonic.
inline Peak quartic(const Around& s, Peak start) {
  const double* y = s.y;
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
  const AlignSettings st;
  const bool local;
  PolarGrid grid;
  std::vector<double> dx, dy;
  // Whether the shifts are searched on the references' side (AlignSettings::shiftReferences):
  // then B holds Sr = S rows per reference (row j·S + o: reference j resampled at offset o) and
  // every image is resampled once, at its centre; else Sr = 1 and images are resampled at offsets.
  bool refShift;
  int S = 0, Sr = 1, L = 0, rowDist = 0, halves = 1, maxSamples = 0;
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
  // `local`: the call searches per-image offsets (a local search), which shift the images.
  Setup(const AlignSettings& s, bool local)
      : st(s),
        local(local),
        grid(s.box, s.firstRing, s.lastRing, s.bandLimit),
        dx(grid_x(s)),
        dy(grid_y(s)),
        refShift(s.shiftReferences && !local && dx.size() > 1),
        sampler(grid, refShift ? std::vector<double>{0.0} : dx, refShift ? std::vector<double>{0.0} : dy),
        refSampler(grid, refShift ? dx : std::vector<double>{0.0}, refShift ? dy : std::vector<double>{0.0}) {
    S = int(dx.size());
    Sr = refShift ? S : 1;
    L = fast_even_length(2 * grid.mMax + 2);
    // One cache line more than L complex values between the inverse FFTs' rows, so that the
    // gather's column writes (one per row at each harmonic) do not all fall in a few L1 sets.
    rowDist = L + 8;
    halves = s.mirror ? 2 : 1;
    boxSq = size_t(s.box) * s.box;
    W2 = size_t(sampler.width()) * sampler.width();
    maxSamples = grid.samples.back();
  }

  // Weighted packed spectra B (k·Sr rows, the B_m layout; row j·Sr + o is reference j at offset
  // o) and their weighted norms. Rows are independent, so the result does not depend on `threads`.
  void references(const float* refs, int64_t k, cfloat* B, double* norm, int threads) const {
    const int64_t rows = k * Sr;
    Guard guard;
#pragma omp parallel num_threads(std::max(1, std::min <int>(threads, int(k))))
    {
      FftwBuffer<float> padded, samples;
      FftwBuffer<fftwf_complex> scratch;
      guard.run([&] {
        padded = fftw_buffer<float>(size_t(refSampler.width()) * refSampler.width());
        samples = fftw_buffer<float>(grid.totalSamples);
        scratch = fftw_buffer<fftwf_complex>(maxSamples / 2 + 1);
      });
#pragma omp for schedule(dynamic, 1)
      for (int64_t j = 0; j < k; ++j)
        guard.run([&] {
          refSampler.padImage(refs + j * boxSq, padded.get());
          for (int o = 0; o < Sr; ++o) {
            refSampler.sample(padded.get(), o, samples.get());
            norm[j * Sr + o] =
                ring_spectra(grid, samples.get(), scratch.get(), grid.weight.data(), int(rows), int(j * Sr + o), B);
          }
        });
    }
    guard.rethrow();
  }
};

// One alignment of an image to a reference.
struct Match {
  float score, psi, shiftX, shiftY;
  uint8_t mirror;
};

// The best (shift, mirror) found so far for one (image, reference) pair of a tile.
struct GroupBest {
  double metric;
  Peak peak;
  Around samples;  // around the peak, for the final quartic fit
  int at, o, h;
};

// Per-thread buffers for tiles of up to rowsMax rows (image × shift × mirror) against blocks of
// up to kc references (kc·Sr rows of B).
struct Workspace {
  FftwBuffer<float> padded, samples, O;
  FftwBuffer<fftwf_complex> scratch, P, C;
  FftwBuffer<cfloat> A;
  std::vector<double> norms;
  std::vector<int32_t> at;
  std::vector<GroupBest> groups;
  void allocate(const Setup& u, int rowsMax, int kc, int pairsPerGroup) {
    const int halfMax = rowsMax / u.halves;
    padded = fftw_buffer<float>(u.W2);
    samples = fftw_buffer<float>(u.grid.totalSamples);
    scratch = fftw_buffer<fftwf_complex>(u.maxSamples / 2 + 1);
    A = fftw_buffer<cfloat>(size_t(halfMax) * u.grid.packed);
    O = fftw_buffer<float>(size_t(u.grid.mMax + 1) * 4 * halfMax * kc * u.Sr);
    P = fftw_buffer<fftwf_complex>(size_t(kChunkPairs) * u.rowDist);  // zero above mMax, and stays so
    C = fftw_buffer<fftwf_complex>(size_t(kChunkPairs) * u.rowDist);
    norms.resize(halfMax);
    at.resize(2 * kChunkPairs);
    groups.resize(size_t(std::max(1, rowsMax / pairsPerGroup)) * kc);
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
// references j0..j0+kk−1 of B (the split layout of polar.h for kB rows, Sr per reference; norms
// refNorm[row]) and calls out(ii, jj, match) for each image and reference: the best over the
// offsets, of the image (S = off.S per image) or of the reference (Sr), and over mirror.
template <class Out>
void correlate_products(const Setup& u, Workspace& w, int cnt, int half, TileOffsets off, int64_t j0, int kk,
                        const double* refNorm, AlignTimings& mine, Clock::time_point& t0, Out&& out);

template <class Out>
void correlate(const Setup& u, Workspace& w, int cnt, int half, TileOffsets off, const cfloat* B, int64_t kB,
               int64_t j0, int kk, const double* refNorm, AlignTimings& mine, Clock::time_point& t0, Out&& out) {
  const PolarGrid& grid = u.grid;
  const int Sr = u.Sr, cols = kk * Sr;                   // rows of B correlated: kk references × Sr
  const size_t oStride = size_t(2 * half) * (2 * cols);  // floats per harmonic in O
  float* O = w.O.get();
  for (int m = 0; m <= grid.mMax; ++m) {
    const int act = grid.active(m);
    const float* Am = reinterpret_cast<const float*>(w.A.get() + size_t(half) * grid.harmonicOffset[m]);
    const float* Bm =
        reinterpret_cast<const float*>(B + size_t(kB) * grid.harmonicOffset[m]) + size_t(j0) * Sr * 2 * act;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, 2 * half, 2 * cols, act, 1.f, Am, act, Bm, act, 0.f,
                O + size_t(m) * oStride, 2 * cols);
    mine.gemmFlops += 8.0 * half * cols * act;
  }
  mine.gemm += seconds_since(t0);
  correlate_products(u, w, cnt, half, off, j0, kk, refNorm, mine, t0, out);
}

// The rest of `correlate`, once w.O holds the products of its GEMMs (per harmonic m, at m·oStride,
// the (2·half) × (2·kk·Sr) matrix [U; V]·[U'; V']ᵀ).
template <class Out>
void correlate_products(const Setup& u, Workspace& w, int cnt, int half, TileOffsets off, int64_t j0, int kk,
                        const double* refNorm, AlignTimings& mine, Clock::time_point& t0, Out&& out) {
  const PolarGrid& grid = u.grid;
  const int L = u.L, D = u.rowDist, S = off.S, Sr = u.Sr, halves = u.halves, mMax = grid.mMax;
  const int cols = kk * Sr;
  const size_t oStride = size_t(2 * half) * (2 * cols);
  const float* O = w.O.get();

  // Pair q = r·cols + c is (row r = ii·S + o, column c = jj·Sr + o'; one of o, o' is always 0);
  // chunks of kChunkPairs pairs (their spectra and samples stay in L2) are transposed out of O a
  // row segment at a time.
  const int pairs = half * cols, groups = cnt * kk;
  for (int g = 0; g < groups; ++g) w.groups[g].metric = std::numeric_limits<double>::infinity();
  fftwf_complex* P = w.P.get();
  const float* Cf = reinterpret_cast<const float*>(w.C.get());
  for (int q0 = 0; q0 < pairs; q0 += kChunkPairs) {
    const int qc = std::min(kChunkPairs, pairs - q0);
    for (int q = q0; q < q0 + qc;) {
      const int r = q / cols, c = q % cols, len = std::min(cols - c, q0 + qc - q);
      transpose_segment(O + size_t(2 * r) * (2 * cols) + 2 * c, oStride, 2 * size_t(cols), mMax, len,
                        P + size_t(q - q0) * D, D, L);
      q += len;
    }
    mine.gather += seconds_since(t0);
    fftwf_execute_dft(plan_c2c_backward_rows(L, qc, D), P, w.C.get());
    mine.transforms += qc;
    mine.correlations += double(qc) * halves;
    mine.ifft += seconds_since(t0);

    pair_argmax(Cf, L, D, qc, w.at.data());
    // (r, c) of pair q0 + q, with r = ii·S + oi and c = jj·Sr + oc, kept by counting (integer
    // divisions per pair cost more than the rest of this loop)
    int r = q0 / cols, c = q0 % cols, jj = c / Sr, oc = c % Sr, ii = r / S, oi = r % S;
    for (int q = 0; q < qc; ++q) {
      const int o = oi + oc;  // one of them is always 0
      GroupBest& gb = w.groups[size_t(ii) * kk + jj];
      // a reference's norm depends on its offset; with image offsets it is added at the end
      const double colNorm = Sr > 1 ? refNorm[size_t(j0) * Sr + c] : 0.0;
      for (int h = 0; h < halves; ++h) {
        const int a = w.at[2 * q + h];
        const float* row = Cf + size_t(q) * 2 * D + h;
        // The parabola's value is within 0.125·|y(a−1) − y(a+1)| of y(a) (its offset is clamped
        // to ±0.5): a pair that cannot reach this group's best even so is skipped, with a margin
        // far above rounding, so the choice is the same as fitting every pair.
        const double y0 = row[2 * a],
                     spread = std::fabs(double(row[2 * (a == 0 ? L - 1 : a - 1)]) - row[2 * (a == L - 1 ? 0 : a + 1)]);
        if (w.norms[r] - 2 * (y0 + 0.125 * spread) + colNorm > gb.metric + 1e-9 * (std::fabs(gb.metric) + 1)) continue;
        const Around near = around(row, L, a, 2);
        const Peak pk = parabolic(near);
        const double metric = w.norms[r] - 2 * pk.value + colNorm;
        // ties go to the smallest (mirror, shift), whatever order the pairs come in
        if (metric < gb.metric || (metric == gb.metric && (h < gb.h || (h == gb.h && o < gb.o))))
          gb = GroupBest{metric, pk, near, a, o, h};
      }
      if (++oc == Sr) oc = 0, ++jj;
      if (++c == cols) {
        c = jj = oc = 0;
        ++r;
        if (++oi == S) oi = 0, ++ii;
      }
    }
    mine.peak += seconds_since(t0);
  }
  for (int g = 0; g < groups; ++g) {
    const GroupBest& gb = w.groups[g];
    const int ii = g / kk, jj = g % kk;
    const Peak pk = quartic(gb.samples, gb.peak);
    const int rowO = Sr > 1 ? 0 : gb.o, colO = Sr > 1 ? gb.o : 0;
    const double bestMetric = w.norms[ii * S + rowO] - 2 * pk.value;
    const double bestAngle = (gb.at + pk.offset) * 360.0 / L;
    double deg = std::fmod(gb.h ? bestAngle : -bestAngle, 360.0);
    if (deg < 0) deg += 360.0;
    const float f = float(deg);
    double tx, ty;
    if (Sr > 1) {  // the reference's offset d as the image's shift: t = R(−ψ)·F^h·d
      const double a = deg * (M_PI / 180), c = std::cos(a), s = std::sin(a);
      const double ex = u.dx[gb.o], ey = gb.h ? -u.dy[gb.o] : u.dy[gb.o];
      tx = c * ex + s * ey;
      ty = c * ey - s * ex;
    } else {  // the image was sampled at offset s: t = −s
      const int gi = off.at(ii, gb.o);
      tx = -u.dx[gi];
      ty = -u.dy[gi];
    }
    out(ii, jj,
        Match{float(std::max(0.0, bestMetric + refNorm[(j0 + jj) * Sr + colO])), f >= 360.f ? 0.f : f,
              float(tx + 0.0),  // + 0.0: never −0
              float(ty + 0.0), uint8_t(gb.h)});
  }
  mine.peak += seconds_since(t0);
}

void add_timings(AlignTimings& total, const AlignTimings& mine) {
  total.resample += mine.resample;
  total.gemm += mine.gemm;
  total.gather += mine.gather;
  total.ifft += mine.ifft;
  total.peak += mine.peak;
  total.transforms += mine.transforms;
  total.gemmFlops += mine.gemmFlops;
  total.correlations += mine.correlations;
}

// Checks a per-image offset list against the grid; returns the offsets per image.
int offsets_per_image(const Setup& u, const int32_t* offsets, int perImage, int64_t n) {
  if (!offsets) return u.refShift ? 1 : u.S;
  if (perImage < 1 || perImage > u.S) throw std::out_of_range("offsets per image must be in [1, grid size]");
  for (int64_t e = 0; e < n * perImage; ++e)
    if (offsets[e] < 0 || offsets[e] >= u.S) throw std::out_of_range("offsets hold an index outside the shift grid");
  return perImage;
}

// outU[c] = Σ_k u[k]·T[k·W + c] and outV[c] = Σ_k v[k]·T[k·W + c] for c < width: one image's U and V
// rows times the columns of a transposed block of B (GEMM products for one image). A fixed order
// over k and no FMA, so the AVX2 and baseline copies agree bit for bit, and each image's products
// depend on it and its candidates alone (results do not depend on how images are split up).
ACK_SIMD_KERNEL(void, row_products,
                (const float* __restrict u, const float* __restrict v, int act, const float* __restrict T, int W,
                 int width, float* __restrict outU, float* __restrict outV),
                (u, v, act, T, W, width, outU, outV)) {
  for (int c = 0; c < width; ++c) outU[c] = outV[c] = 0.f;
  for (int k = 0; k < act; ++k) {
    const float a = u[k], b = v[k];
    const float* t = T + size_t(k) * W;
    for (int c = 0; c < width; ++c) {
      outU[c] += a * t[c];
      outV[c] += b * t[c];
    }
  }
}

// B (k·Sr rows, the B_m layout) re-laid per reference and harmonic as transposed blocks: for
// reference j and harmonic m, at (j·packed + harmonicOffset[m])·W floats, an active(m) × W
// matrix whose column 2o + h is row 2(j·Sr + o) + h of B_m read as floats (h = 0: U', 1: V').
// W = 2·Sr rounded up to 8 floats.
struct TransposedRefs {
  int W = 0;
  FftwBuffer<float> T;
  TransposedRefs(const Setup& u, const cfloat* B, int64_t k, int threads) : W((2 * u.Sr + 7) / 8 * 8) {
    const PolarGrid& grid = u.grid;
    T = fftw_buffer<float>(size_t(k) * grid.packed * W);
#pragma omp parallel for num_threads(std::max(1, threads)) schedule(static)
    for (int64_t j = 0; j < k; ++j) {
      std::fill(block(j, 0, grid), block(j, 0, grid) + size_t(grid.packed) * W, 0.f);
      for (int m = 0; m <= grid.mMax; ++m) {
        const int act = grid.active(m);
        const float* Bm = reinterpret_cast<const float*>(B + size_t(k) * u.Sr * grid.harmonicOffset[m]);
        float* dst = block(j, m, grid);
        for (int row = 0; row < 2 * u.Sr; ++row)
          for (int q = 0; q < act; ++q) dst[size_t(q) * W + row] = Bm[(size_t(j) * 2 * u.Sr + row) * act + q];
      }
    }
  }
  float* block(int64_t j, int m, const PolarGrid& grid) const {
    return T.get() + (size_t(j) * grid.packed + grid.harmonicOffset[m]) * W;
  }
};

// The references' side of a call: spectra B (k·Sr rows), their norms and, for the sparse search,
// B transposed. Kept for the next calls with the same references (byte for byte) and settings: a
// pass calls once per block of images with the same references, and shifting the references
// makes B S times larger (at k = 100 and 25 shifts, ~20 ms per call). Made deterministically, so
// reusing it changes nothing. The last kCachedRefs are kept (tens of MB at most).
struct RefSpectra {
  std::vector<float> refs;
  AlignSettings st;
  bool refShift = false, transposed = false;
  int64_t k = 0;
  FftwBuffer<cfloat> B;
  std::vector<double> norm;
  std::unique_ptr<TransposedRefs> T;
};
constexpr size_t kCachedRefs = 4;
constexpr size_t kCachedSetups = 4;

bool same_settings(const AlignSettings& a, const AlignSettings& b) {
  return a.box == b.box && a.firstRing == b.firstRing && a.lastRing == b.lastRing && a.shiftRange == b.shiftRange &&
         a.shiftStep == b.shiftStep && a.bandLimit == b.bandLimit;
}

// The setup of `st` for a search with (`local`) or without per-image offsets, made once and kept
// (the 4 most recent): building its samplers' tables takes milliseconds, and a pass calls the
// kernels once per block of a few thousand images. A setup is never changed once made.
std::shared_ptr<const Setup> setup_for(const AlignSettings& st, bool local) {
  static std::mutex mutex;
  static std::vector<std::shared_ptr<const Setup>> cache;  // the most recent first
  {
    const std::lock_guard<std::mutex> lock(mutex);
    for (size_t e = 0; e < cache.size(); ++e) {
      const Setup& c = *cache[e];
      if (c.local == local && same_settings(c.st, st) && c.st.mirror == st.mirror &&
          c.st.shiftReferences == st.shiftReferences) {
        std::rotate(cache.begin(), cache.begin() + e, cache.begin() + e + 1);
        return cache.front();
      }
    }
  }
  auto made = std::make_shared<const Setup>(st, local);
  const std::lock_guard<std::mutex> lock(mutex);
  cache.insert(cache.begin(), made);
  if (cache.size() > kCachedSetups) cache.pop_back();
  return made;
}

std::shared_ptr<const RefSpectra> reference_spectra(const Setup& u, const float* refs, int64_t k, bool transposed,
                                                    int threads) {
  static std::mutex mutex;
  static std::vector<std::shared_ptr<const RefSpectra>> cache;  // the most recent first
  const size_t len = size_t(k) * u.boxSq;
  {
    const std::lock_guard<std::mutex> lock(mutex);
    for (size_t e = 0; e < cache.size(); ++e) {
      const RefSpectra& c = *cache[e];
      if (c.k == k && c.refShift == u.refShift && c.transposed == transposed && same_settings(c.st, u.st) &&
          std::memcmp(c.refs.data(), refs, len * sizeof(float)) == 0) {
        std::rotate(cache.begin(), cache.begin() + e, cache.begin() + e + 1);
        return cache.front();
      }
    }
  }
  auto made = std::make_shared<RefSpectra>();
  made->refs.assign(refs, refs + len);
  made->st = u.st;
  made->refShift = u.refShift;
  made->transposed = transposed;
  made->k = k;
  made->B = fftw_buffer<cfloat>(size_t(k) * u.Sr * u.grid.packed);
  made->norm.resize(size_t(k) * u.Sr);
  u.references(refs, k, made->B.get(), made->norm.data(), threads);
  if (transposed) made->T = std::make_unique<TransposedRefs>(u, made->B.get(), k, threads);
  const std::lock_guard<std::mutex> lock(mutex);
  cache.insert(cache.begin(), made);
  if (cache.size() > kCachedRefs) cache.pop_back();
  return made;
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
  const std::shared_ptr<const Setup> setup = setup_for(st, offsets != nullptr);
  const Setup& u = *setup;
  const int So = offsets_per_image(u, offsets, offsetsPerImage, n);
  const int T = std::max(1, kTargetRows / (So * u.halves));
  const int rowsMax = T * So * u.halves;
  const int kc = int(std::clamp<int64_t>(kTargetPairs / (rowsMax * u.Sr), 1, k));

  // References: weighted packed spectra B (k·Sr rows) and norms, made once (or kept from a call
  // with the same references).
  const std::shared_ptr<const RefSpectra> spectra = reference_spectra(u, refs, k, false, threads);
  const cfloat* B = spectra->B.get();
  const double* refNorm = spectra->norm.data();

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
          correlate(u, w, cnt, half, off, B, k * u.Sr, j0, kk, refNorm, mine, t0, [&](int ii, int jj, const Match& r) {
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

namespace {
// The settings' setup for kept image spectra (the shifts on the references' side), or throws.
void require_reference_shifts(const Setup& u) {
  if (!u.refShift)
    throw std::invalid_argument("image spectra need the shifts searched on the references' side (shiftReferences)");
}
}  // namespace

int image_spectrum_floats(const AlignSettings& st) {
  const std::shared_ptr<const Setup> setup = setup_for(st, false);
  const Setup& u = *setup;
  require_reference_shifts(u);
  return 2 * u.grid.packed;
}

void image_spectra(const AlignSettings& st, const float* images, int64_t n, float* spectra, double* norms, int threads,
                   Control& control) {
  const std::shared_ptr<const Setup> setup = setup_for(st, false);
  const Setup& u = *setup;
  require_reference_shifts(u);
  const size_t floats = size_t(2) * u.grid.packed;
  control.setTotal(double(n));
  Guard guard;
#pragma omp parallel num_threads(std::max(1, threads))
  {
    Workspace w;
    guard.run([&] { w.allocate(u, u.halves, 1, u.halves); });
#pragma omp for schedule(dynamic, 16)
    for (int64_t i = 0; i < n; ++i)
      guard.run([&] {
        if ((i & 63) == 0) control.throwIfCancelled();
        resample_tile(u, w, images + i * u.boxSq, 1, TileOffsets{nullptr, 1});
        std::copy_n(reinterpret_cast<const float*>(w.A.get()), floats, spectra + i * floats);
        norms[i] = w.norms[0];
        control.advance(1);
      });
  }
  guard.rethrow();
}

void align_candidates(const AlignSettings& st, const float* images, int64_t n, const float* refs, int64_t k,
                      const int32_t* candidates, int m, float* score, float* psi, float* shiftX, float* shiftY,
                      uint8_t* mirror, int threads, Control& control, AlignTimings* timings, const int32_t* offsets,
                      int offsetsPerImage, const float* spectra, const double* spectraNorms) {
  for (int64_t e = 0; e < n * m; ++e)
    if (candidates[e] < -1 || candidates[e] >= k) throw std::out_of_range("candidates hold a class outside [-1, k)");
  blas_init();
  const std::shared_ptr<const Setup> setup = setup_for(st, offsets != nullptr);
  const Setup& u = *setup;
  if (spectra) {
    require_reference_shifts(u);
    if (!spectraNorms) throw std::invalid_argument("spectra need their norms");
  }
  const int So = offsets_per_image(u, offsets, offsetsPerImage, n);
  const int rowsMax = So * u.halves;
  // shifting references: products by row_products from B transposed (no gather, no 2-row GEMM)
  const std::shared_ptr<const RefSpectra> refSpectra = reference_spectra(u, refs, k, u.refShift, threads);
  const cfloat* B = refSpectra->B.get();
  const double* refNorm = refSpectra->norm.data();
  const TransposedRefs* Tr = refSpectra->T.get();
  const PolarGrid& grid = u.grid;

  control.setTotal(double(n));
  AlignTimings total;
  const int Sr = u.Sr;
  Guard guard;
#pragma omp parallel num_threads(std::max(1, threads))
  {
    AlignTimings mine;
    Workspace w;
    FftwBuffer<cfloat> Bsel;
    std::vector<double> normSel(size_t(m) * Sr);
    std::vector<int> slot(m);  // output slot of the c-th valid candidate
    guard.run([&] {
      w.allocate(u, rowsMax, m, So * u.halves);
      if (!Tr) Bsel = fftw_buffer<cfloat>(size_t(m) * grid.packed);
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
          std::copy_n(&refNorm[size_t(cand[c]) * Sr], Sr, &normSel[size_t(valid) * Sr]);
          ++valid;
        }
        const auto write = [&](int, int jj, const Match& r) {
          const size_t idx = size_t(i) * m + slot[jj];
          score[idx] = r.score;
          psi[idx] = r.psi;
          shiftX[idx] = r.shiftX;
          shiftY[idx] = r.shiftY;
          mirror[idx] = r.mirror;
        };
        if (valid > 0 && Tr) {
          const TileOffsets centre{nullptr, 1};
          if (spectra) {  // kept from image_spectra: the same values resample_tile would make
            const size_t floats = size_t(2) * grid.packed;
            std::copy_n(spectra + i * floats, floats, reinterpret_cast<float*>(w.A.get()));
            w.norms[0] = spectraNorms[i];
          } else {
            resample_tile(u, w, images + i * u.boxSq, 1, centre);
          }
          mine.resample += seconds_since(t0);
          const int cols = valid * Sr;
          const size_t oStride = size_t(2) * (2 * cols);
          for (int mm = 0; mm <= grid.mMax; ++mm) {
            const int act = grid.active(mm);
            const float* uRow = reinterpret_cast<const float*>(w.A.get() + grid.harmonicOffset[mm]);
            float* Om = w.O.get() + mm * oStride;
            for (int v = 0; v < valid; ++v)
              row_products(uRow, uRow + act, act, Tr->block(cand[slot[v]], mm, grid), Tr->W, 2 * Sr,
                           Om + size_t(v) * 2 * Sr, Om + 2 * cols + size_t(v) * 2 * Sr);
            mine.gemmFlops += 8.0 * cols * act;
          }
          mine.gemm += seconds_since(t0);
          correlate_products(u, w, 1, 1, centre, 0, valid, normSel.data(), mine, t0, write);
        } else if (valid > 0) {
          // gather the candidates' spectra into the B_m layout for `valid` references
          for (int mm = 0; mm <= grid.mMax; ++mm) {
            const int act = grid.active(mm);
            const cfloat* src = B + size_t(k) * grid.harmonicOffset[mm];
            cfloat* dst = Bsel.get() + size_t(valid) * grid.harmonicOffset[mm];
            for (int v = 0; v < valid; ++v)
              std::copy(src + size_t(cand[slot[v]]) * act, src + size_t(cand[slot[v]] + 1) * act,
                        dst + size_t(v) * act);
          }
          const TileOffsets off{offsets ? offsets + i * So : nullptr, So};
          const int half = resample_tile(u, w, images + i * u.boxSq, 1, off);
          mine.resample += seconds_since(t0);
          correlate(u, w, 1, half, off, Bsel.get(), valid, 0, valid, normSel.data(), mine, t0, write);
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
