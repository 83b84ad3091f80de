#include "project.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "parallel.h"
#include "simd.h"

namespace ack {
namespace {

constexpr int64_t kPad = 2;  // zero layers on every side: round-off at a clipped end stays inside

// The volume padded with zeros (so trilinear sampling anywhere in (−1, size) needs no bounds
// test) and the radius of its support about the rotation centre (rays outside it are zero).
struct PaddedVolume {
  int64_t P;
  std::vector<float> data;
  double radius = 0.0;
  PaddedVolume(const float* vol, int64_t size, double cv) : P(size + 2 * kPad), data(size_t(P * P * P), 0.f) {
    double r2 = -1.0;
    for (int64_t z = 0; z < size; ++z)
      for (int64_t y = 0; y < size; ++y) {
        const float* row = vol + (z * size + y) * size;
        std::copy_n(row, size, data.begin() + ((z + kPad) * P + (y + kPad)) * P + kPad);
        for (int64_t x = 0; x < size; ++x)
          if (row[x] != 0.f) r2 = std::max(r2, (x - cv) * (x - cv) + (y - cv) * (y - cv) + (z - cv) * (z - cv));
      }
    // A sample within one voxel diagonal of a non-zero voxel can be non-zero.
    radius = r2 < 0 ? -1.0 : std::sqrt(r2) + std::sqrt(3.0);
  }
};

// Range of t (open interval) where a + t·d lies in (lo, hi); false when empty.
inline bool clip_axis(double a, double d, double lo, double hi, double& tlo, double& thi) {
  if (std::fabs(d) < 1e-12) return a > lo && a < hi;
  double t0 = (lo - a) / d, t1 = (hi - a) / d;
  if (t0 > t1) std::swap(t0, t1);
  tlo = std::max(tlo, t0);
  thi = std::min(thi, t1);
  return tlo < thi;
}

// Where the ray a + t·d (padded coordinates, d a unit vector) can meet non-zero density:
// the integer k range of the samples t = k − cv inside both the support sphere and the cube
// (−1, size). Returns false when there is none.
bool ray_range(const PaddedVolume& pv, int64_t size, double cv, const double a[3], const double d[3], int& k0,
               int& k1) {
  if (pv.radius < 0) return false;
  const double s = cv + kPad;
  const double b[3] = {a[0] - s, a[1] - s, a[2] - s};
  const double bd = b[0] * d[0] + b[1] * d[1] + b[2] * d[2];
  const double disc = bd * bd - (b[0] * b[0] + b[1] * b[1] + b[2] * b[2]) + pv.radius * pv.radius;
  if (disc <= 0) return false;
  double tlo = -bd - std::sqrt(disc), thi = -bd + std::sqrt(disc);
  for (int j = 0; j < 3; ++j)
    if (!clip_axis(a[j], d[j], kPad - 1.0, double(size + kPad), tlo, thi)) return false;
  k0 = static_cast<int>(std::ceil(tlo + cv));
  k1 = static_cast<int>(std::floor(thi + cv));
  return k0 <= k1;
}

// Trilinear sample at padded coordinates (fx, fy, fz), all positive.
inline float trilinear(const float* v, int64_t P, float fx, float fy, float fz) {
  const int ix = int(fx), iy = int(fy), iz = int(fz);  // positive: int() floors
  const float wx = fx - float(ix), wy = fy - float(iy), wz = fz - float(iz);
  const float* c = v + (int64_t(iz) * P + iy) * P + ix;
  const float c00 = c[0] + wx * (c[1] - c[0]);
  const float c01 = c[P] + wx * (c[P + 1] - c[P]);
  const float c10 = c[P * P] + wx * (c[P * P + 1] - c[P * P]);
  const float c11 = c[P * P + P] + wx * (c[P * P + P + 1] - c[P * P + P]);
  const float c0 = c00 + wy * (c01 - c00);
  const float c1 = c10 + wy * (c11 - c10);
  return c0 + wz * (c1 - c0);
}

// Samples of a ray are summed in 8 interleaved lanes (lane j takes k0 + j, k0 + j + 8, …), then
// the lanes are added pairwise in a fixed order. The AVX2 kernel and the portable one do exactly
// the same float operations in the same order (no FMA), so images are bit-identical on every
// machine and for every thread count.
constexpr int kLanes = 8;

struct Ray {
  float ax, ay, az, dx, dy, dz, cv;
  int k0, k1;
};

inline float reduce_lanes(const float* acc) {
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

float ray_sum_portable(const float* v, int64_t P, const Ray& r) {
  float acc[kLanes] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
  for (int base = r.k0; base <= r.k1; base += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      const int k = base + j;
      const float t = float(std::min(k, r.k1)) - r.cv;
      const float s = trilinear(v, P, r.ax + t * r.dx, r.ay + t * r.dy, r.az + t * r.dz);
      acc[j] += k <= r.k1 ? s : 0.f;
    }
  return reduce_lanes(acc);
}

__attribute__((target("avx2"))) inline __m256 lerp(__m256 a, __m256 b, __m256 w) {
  return _mm256_add_ps(a, _mm256_mul_ps(w, _mm256_sub_ps(b, a)));
}

__attribute__((target("avx2"))) float ray_sum_avx2(const float* v, int64_t P64, const Ray& r) {
  const int P = int(P64);
  const __m256 ax = _mm256_set1_ps(r.ax), ay = _mm256_set1_ps(r.ay), az = _mm256_set1_ps(r.az);
  const __m256 dx = _mm256_set1_ps(r.dx), dy = _mm256_set1_ps(r.dy), dz = _mm256_set1_ps(r.dz);
  const __m256 cv = _mm256_set1_ps(r.cv);
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i last = _mm256_set1_epi32(r.k1);
  const __m256i vP = _mm256_set1_epi32(P), one = _mm256_set1_epi32(1);
  const float* v1 = v + P64 * P64;  // the next z plane
  __m256 acc = _mm256_setzero_ps();
  for (int base = r.k0; base <= r.k1; base += kLanes) {
    const __m256i k = _mm256_add_epi32(_mm256_set1_epi32(base), lane);
    const __m256i kc = _mm256_min_epi32(k, last);
    const __m256 t = _mm256_sub_ps(_mm256_cvtepi32_ps(kc), cv);
    const __m256 fx = _mm256_add_ps(ax, _mm256_mul_ps(t, dx));
    const __m256 fy = _mm256_add_ps(ay, _mm256_mul_ps(t, dy));
    const __m256 fz = _mm256_add_ps(az, _mm256_mul_ps(t, dz));
    const __m256i ix = _mm256_cvttps_epi32(fx), iy = _mm256_cvttps_epi32(fy), iz = _mm256_cvttps_epi32(fz);
    const __m256 wx = _mm256_sub_ps(fx, _mm256_cvtepi32_ps(ix));
    const __m256 wy = _mm256_sub_ps(fy, _mm256_cvtepi32_ps(iy));
    const __m256 wz = _mm256_sub_ps(fz, _mm256_cvtepi32_ps(iz));
    const __m256i i00 = _mm256_add_epi32(_mm256_mullo_epi32(_mm256_add_epi32(_mm256_mullo_epi32(iz, vP), iy), vP), ix);
    const __m256i i01 = _mm256_add_epi32(i00, vP);
    const __m256 c000 = _mm256_i32gather_ps(v, i00, 4), c001 = _mm256_i32gather_ps(v, _mm256_add_epi32(i00, one), 4);
    const __m256 c010 = _mm256_i32gather_ps(v, i01, 4), c011 = _mm256_i32gather_ps(v, _mm256_add_epi32(i01, one), 4);
    const __m256 c100 = _mm256_i32gather_ps(v1, i00, 4), c101 = _mm256_i32gather_ps(v1, _mm256_add_epi32(i00, one), 4);
    const __m256 c110 = _mm256_i32gather_ps(v1, i01, 4), c111 = _mm256_i32gather_ps(v1, _mm256_add_epi32(i01, one), 4);
    const __m256 c0 = lerp(lerp(c000, c001, wx), lerp(c010, c011, wx), wy);
    const __m256 c1 = lerp(lerp(c100, c101, wx), lerp(c110, c111, wx), wy);
    const __m256 s = lerp(c0, c1, wz);
    const __m256 live = _mm256_castsi256_ps(_mm256_cmpeq_epi32(k, kc));
    acc = _mm256_add_ps(acc, _mm256_and_ps(s, live));
  }
  alignas(32) float lanes[kLanes];
  _mm256_store_ps(lanes, acc);
  return reduce_lanes(lanes);
}

// One projection, ray by ray.
void project_one(const PaddedVolume& pv, const ProjectionGeometry& g, const double* M, double sx, double sy, float* img,
                 bool avx2) {
  const int64_t B = g.box, P = pv.P;
  const float* v = pv.data.data();
  const double d[3] = {M[2], M[5], M[8]};
  const double o = g.volumeCentre + kPad;
  Ray r{0, 0, 0, float(d[0]), float(d[1]), float(d[2]), float(g.volumeCentre), 0, 0};
  for (int64_t y = 0; y < B; ++y) {
    const double py = double(y) - g.imageCentre + sy;
    for (int64_t x = 0; x < B; ++x) {
      const double px = double(x) - g.imageCentre + sx;
      const double a[3] = {M[0] * px + M[1] * py + o, M[3] * px + M[4] * py + o, M[6] * px + M[7] * py + o};
      float sum = 0.f;
      if (ray_range(pv, g.size, g.volumeCentre, a, d, r.k0, r.k1)) {
        r.ax = float(a[0]);
        r.ay = float(a[1]);
        r.az = float(a[2]);
        sum = avx2 ? ray_sum_avx2(v, P, r) : ray_sum_portable(v, P, r);
      }
      img[y * B + x] = sum;
    }
  }
}

}  // namespace

void project_volume(const float* vol, const ProjectionGeometry& g, const double* matrices, const double* shifts,
                    int64_t n, float* out, int threads, Control& control) {
  const PaddedVolume pv(vol, g.size, g.volumeCentre);
  // The AVX2 kernel indexes the padded map with 32-bit offsets.
  const bool avx2 = simd_enabled() && pv.P * pv.P * pv.P < (int64_t(1) << 31);
  control.setTotal(double(n));
  constexpr int kChunk = 4;  // projections per scheduling step
  parallel_for(
      n, threads, &control,
      [&](int64_t i) {
        const double sx = shifts ? shifts[2 * i] : 0.0;
        const double sy = shifts ? shifts[2 * i + 1] : 0.0;
        project_one(pv, g, matrices + 9 * i, sx, sy, out + i * g.box * g.box, avx2);
        control.advance(1);
      },
      kChunk);
}

}  // namespace ack
