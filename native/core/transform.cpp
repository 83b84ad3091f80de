#include "transform.h"

#include <immintrin.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "parallel.h"
#include "simd.h"

namespace ack {

namespace {

// The scalar definition: pixels px0..px1−1 of row py, each from its source point, bilinear, zero
// outside the image.
void apply_row_base(const float* image, int box, double cs, double sn, double shiftX, double shiftY, bool mirror,
                    float* out, int py, int px0, int px1) {
  const double c = box / 2;
  auto pixel = [&](int64_t x, int64_t y) -> double {
    return (x < 0 || y < 0 || x >= box || y >= box) ? 0.0 : image[y * box + x];
  };
  for (int px = px0; px < px1; ++px) {
    const double u = px - c, v = mirror ? c - py : py - c;
    const double x = c + cs * u + sn * v - shiftX, y = c - sn * u + cs * v - shiftY;  // R(−ψ)·(u, v)
    const double x0 = std::floor(x), y0 = std::floor(y), fx = x - x0, fy = y - y0;
    const int64_t i = int64_t(x0), j = int64_t(y0);
    out[size_t(py) * box + px] = float((1 - fx) * (1 - fy) * pixel(i, j) + fx * (1 - fy) * pixel(i + 1, j) +
                                       (1 - fx) * fy * pixel(i, j + 1) + fx * fy * pixel(i + 1, j + 1));
  }
}

// 4 values at `at` (int32 offsets) in `padded`, as doubles. Plain loads: gathers are microcoded
// and were 3/4 of the time of this function on the AMD EPYC we measure on.
__attribute__((target("avx2"))) inline __m256d tap(const float* padded, const int32_t* at, int32_t offset) {
  return _mm256_cvtps_pd(
      _mm_setr_ps(padded[at[0] + offset], padded[at[1] + offset], padded[at[2] + offset], padded[at[3] + offset]));
}

// The same operations in the same order on 4 pixels at a time (no FMA, so every value is the
// scalar one bit for bit). The taps are read from a copy of the image with a zero border, one
// pixel wide on the left and top, two on the right and bottom: a source column i in [−1, box)
// reads padded columns i+1 and i+2, any other (far outside, or beyond int32: INT32_MIN) reads the
// two zero columns box+1 and box+2; rows alike. So every tap is the scalar one and no read
// leaves the buffer.
__attribute__((target("avx2"))) void apply_alignment_avx2(const float* image, int box, double cs, double sn,
                                                          double shiftX, double shiftY, bool mirror, float* out) {
  const int W = box + 3;
  thread_local std::vector<float> padded;
  // the border is never written: zero the buffer only when the box changes
  if (padded.size() != size_t(W) * W) padded.assign(size_t(W) * W, 0.f);
  for (int y = 0; y < box; ++y)
    std::memcpy(padded.data() + size_t(y + 1) * W + 1, image + size_t(y) * box, sizeof(float) * size_t(box));
  const float* pad = padded.data();
  const double c = box / 2;
  const __m256d vc = _mm256_set1_pd(c), vcs = _mm256_set1_pd(cs), vsn = _mm256_set1_pd(sn),
                vsx = _mm256_set1_pd(shiftX), vsy = _mm256_set1_pd(shiftY), one = _mm256_set1_pd(1.0);
  const __m128i minus2 = _mm_set1_epi32(-2), size = _mm_set1_epi32(box), outside = _mm_set1_epi32(box + 1),
                vone = _mm_set1_epi32(1), vw = _mm_set1_epi32(W);
  const int full = box / 4 * 4;
  alignas(16) int32_t at[4];
  for (int py = 0; py < box; ++py) {
    const double v = mirror ? c - py : py - c;
    const __m256d snv = _mm256_mul_pd(vsn, _mm256_set1_pd(v)), csv = _mm256_mul_pd(vcs, _mm256_set1_pd(v));
    for (int px = 0; px < full; px += 4) {
      const __m256d u = _mm256_sub_pd(_mm256_setr_pd(px, px + 1, px + 2, px + 3), vc);
      const __m256d x = _mm256_sub_pd(_mm256_add_pd(_mm256_add_pd(vc, _mm256_mul_pd(vcs, u)), snv), vsx);
      const __m256d y = _mm256_sub_pd(_mm256_add_pd(_mm256_sub_pd(vc, _mm256_mul_pd(vsn, u)), csv), vsy);
      const __m256d x0 = _mm256_floor_pd(x), y0 = _mm256_floor_pd(y);
      const __m256d fx = _mm256_sub_pd(x, x0), fy = _mm256_sub_pd(y, y0);
      const __m128i i = _mm256_cvttpd_epi32(x0), j = _mm256_cvttpd_epi32(y0);
      // padded column i+1 for i in [−1, box), else box+1 (zeros); rows alike
      const __m128i iin = _mm_and_si128(_mm_cmpgt_epi32(i, minus2), _mm_cmpgt_epi32(size, i));
      const __m128i jin = _mm_and_si128(_mm_cmpgt_epi32(j, minus2), _mm_cmpgt_epi32(size, j));
      const __m128i pi = _mm_blendv_epi8(outside, _mm_add_epi32(i, vone), iin);
      const __m128i pj = _mm_blendv_epi8(outside, _mm_add_epi32(j, vone), jin);
      _mm_store_si128(reinterpret_cast<__m128i*>(at), _mm_add_epi32(_mm_mullo_epi32(pj, vw), pi));
      const __m256d p00 = tap(pad, at, 0), p10 = tap(pad, at, 1), p01 = tap(pad, at, W), p11 = tap(pad, at, W + 1);
      const __m256d gx = _mm256_sub_pd(one, fx), gy = _mm256_sub_pd(one, fy);
      __m256d r = _mm256_mul_pd(_mm256_mul_pd(gx, gy), p00);
      r = _mm256_add_pd(r, _mm256_mul_pd(_mm256_mul_pd(fx, gy), p10));
      r = _mm256_add_pd(r, _mm256_mul_pd(_mm256_mul_pd(gx, fy), p01));
      r = _mm256_add_pd(r, _mm256_mul_pd(_mm256_mul_pd(fx, fy), p11));
      _mm_storeu_ps(out + size_t(py) * box + px, _mm256_cvtpd_ps(r));
    }
    apply_row_base(image, box, cs, sn, shiftX, shiftY, mirror, out, py, full, box);
  }
}

}  // namespace

void apply_alignment(const float* image, int box, double psiDegrees, double shiftX, double shiftY, bool mirror,
                     float* out) {
  const double a = psiDegrees * M_PI / 180.0, cs = std::cos(a), sn = std::sin(a);
  if (simd_enabled())
    apply_alignment_avx2(image, box, cs, sn, shiftX, shiftY, mirror, out);
  else
    for (int py = 0; py < box; ++py) apply_row_base(image, box, cs, sn, shiftX, shiftY, mirror, out, py, 0, box);
}

void apply_poses(const float* images, int64_t n, int box, const float* psi, const float* shiftX, const float* shiftY,
                 const uint8_t* mirror, float* out, int threads, Control& control) {
  const size_t D = size_t(box) * box;
  control.setTotal(double(n));
  parallel_for(
      n, threads, &control,
      [&](int64_t i) {
        apply_alignment(images + i * D, box, psi[i], shiftX[i], shiftY[i], mirror[i] != 0, out + i * D);
        control.advance(1);
      },
      16);
}

}  // namespace ack
