#include "project.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

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

// One projection, ray by ray (each ray summed in increasing k).
void project_one(const PaddedVolume& pv, const ProjectionGeometry& g, const double* M, double sx, double sy,
                 float* img) {
  const int64_t B = g.box, P = pv.P;
  const float* v = pv.data.data();
  const double d[3] = {M[2], M[5], M[8]};
  const float dx = float(d[0]), dy = float(d[1]), dz = float(d[2]);
  const double o = g.volumeCentre + kPad;
  const float cv = float(g.volumeCentre);
  for (int64_t y = 0; y < B; ++y) {
    const double py = double(y) - g.imageCentre + sy;
    for (int64_t x = 0; x < B; ++x) {
      const double px = double(x) - g.imageCentre + sx;
      const double a[3] = {M[0] * px + M[1] * py + o, M[3] * px + M[4] * py + o, M[6] * px + M[7] * py + o};
      int k0, k1;
      float sum = 0.f;
      if (ray_range(pv, g.size, g.volumeCentre, a, d, k0, k1)) {
        const float ax = float(a[0]), ay = float(a[1]), az = float(a[2]);
        for (int k = k0; k <= k1; ++k) {
          const float t = float(k) - cv;
          sum += trilinear(v, P, ax + t * dx, ay + t * dy, az + t * dz);
        }
      }
      img[y * B + x] = sum;
    }
  }
}

}  // namespace

void project_volume(const float* vol, const ProjectionGeometry& g, const double* matrices, const double* shifts,
                    int64_t n, float* out, int threads, Control& control) {
  const PaddedVolume pv(vol, g.size, g.volumeCentre);
  control.setTotal(double(n));
  Guard guard;
#pragma omp parallel for schedule(dynamic, 4) num_threads(std::max(1, threads))
  for (int64_t i = 0; i < n; ++i) {
    guard.run([&] {
      control.throwIfCancelled();
      const double sx = shifts ? shifts[2 * i] : 0.0;
      const double sy = shifts ? shifts[2 * i + 1] : 0.0;
      project_one(pv, g, matrices + 9 * i, sx, sy, out + i * g.box * g.box);
      control.advance(1);
    });
  }
  guard.rethrow();
}

}  // namespace ack
