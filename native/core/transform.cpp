#include "transform.h"

#include <immintrin.h>

#include <cmath>

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

// 4 pixels of `image` at `index` (int32) where `mask` is set, else 0, as doubles.
__attribute__((target("avx2"))) inline __m256d tap(const float* image, __m128i mask, __m128i index) {
  return _mm256_cvtps_pd(_mm_mask_i32gather_ps(_mm_setzero_ps(), image, index, _mm_castsi128_ps(mask), 4));
}

// The same operations in the same order on 4 pixels at a time (no FMA, so every value is the
// scalar one bit for bit); the 4 taps are masked gathers, so no read leaves the image. Source
// points beyond int32 convert to INT32_MIN: outside, as in the scalar code.
__attribute__((target("avx2"))) void apply_alignment_avx2(const float* image, int box, double cs, double sn,
                                                          double shiftX, double shiftY, bool mirror, float* out) {
  const double c = box / 2;
  const __m256d vc = _mm256_set1_pd(c), vcs = _mm256_set1_pd(cs), vsn = _mm256_set1_pd(sn),
                vsx = _mm256_set1_pd(shiftX), vsy = _mm256_set1_pd(shiftY), one = _mm256_set1_pd(1.0);
  const __m128i minus1 = _mm_set1_epi32(-1), last = _mm_set1_epi32(box - 1), vbox = _mm_set1_epi32(box),
                size = _mm_set1_epi32(box);
  const int full = box / 4 * 4;
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
      // tap columns i, i+1 and rows j, j+1 inside [0, box)
      const __m128i i0 = _mm_and_si128(_mm_cmpgt_epi32(i, minus1), _mm_cmpgt_epi32(size, i));
      const __m128i i1 = _mm_and_si128(_mm_cmpgt_epi32(i, _mm_set1_epi32(-2)), _mm_cmpgt_epi32(last, i));
      const __m128i j0 = _mm_and_si128(_mm_cmpgt_epi32(j, minus1), _mm_cmpgt_epi32(size, j));
      const __m128i j1 = _mm_and_si128(_mm_cmpgt_epi32(j, _mm_set1_epi32(-2)), _mm_cmpgt_epi32(last, j));
      const __m128i at = _mm_add_epi32(_mm_mullo_epi32(j, vbox), i);
      const __m256d p00 = tap(image, _mm_and_si128(i0, j0), at);
      const __m256d p10 = tap(image, _mm_and_si128(i1, j0), _mm_add_epi32(at, _mm_set1_epi32(1)));
      const __m256d p01 = tap(image, _mm_and_si128(i0, j1), _mm_add_epi32(at, vbox));
      const __m256d p11 = tap(image, _mm_and_si128(i1, j1), _mm_add_epi32(at, _mm_set1_epi32(box + 1)));
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
