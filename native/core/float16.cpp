#include "float16.h"

#include <cpuid.h>
#include <immintrin.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "simd.h"

namespace ack {

uint16_t float_to_half(float value) {
  uint32_t x;
  std::memcpy(&x, &value, sizeof x);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const int32_t exp = int32_t((x >> 23) & 0xffu);
  const uint32_t mant = x & 0x7fffffu;
  if (exp == 0xff) return uint16_t(sign | 0x7c00u | (mant ? 0x200u : 0u));
  const int32_t e = exp - 127 + 15;
  if (e >= 31) return uint16_t(sign | 0x7c00u);
  if (e <= 0) {  // subnormal half (or zero)
    if (e < -10) return uint16_t(sign);
    const uint32_t m = mant | 0x800000u;
    const int shift = 14 - e;
    const uint32_t half = 1u << (shift - 1);
    const uint32_t rem = m & ((1u << shift) - 1);
    uint32_t r = m >> shift;
    if (rem > half || (rem == half && (r & 1u))) r += 1;
    return uint16_t(sign | r);
  }
  const uint32_t rem = mant & 0x1fffu;
  uint32_t r = (uint32_t(e) << 10) | (mant >> 13);
  if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) r += 1;  // may carry into the exponent: correct
  return uint16_t(sign | r);
}

float half_to_float(uint16_t h) {
  const float sign = (h & 0x8000u) ? -1.f : 1.f;
  const int exp = (h >> 10) & 0x1f;
  const int frac = h & 0x3ff;
  if (exp == 0) return sign * std::ldexp(float(frac), -24);
  if (exp == 31) return frac ? std::nanf("") : sign * INFINITY;
  return sign * std::ldexp(float(1024 + frac), exp - 25);
}

namespace {
const std::vector<float>& decode_table() {
  static const std::vector<float> table = [] {
    std::vector<float> t(65536);
    for (uint32_t h = 0; h < 65536; ++h) t[h] = half_to_float(uint16_t(h));
    return t;
  }();
  return table;
}
}  // namespace

namespace {
void decode_float16_table(const uint16_t* in, float* out, size_t n) {
  const float* t = decode_table().data();
  for (size_t i = 0; i < n; ++i) out[i] = t[in[i]];
}
// F16C converts 8 values per instruction, exactly (subnormals included); NaNs are then replaced
// by half_to_float's NaN, so both paths give the same bits for every input.
__attribute__((target("avx2,f16c"))) void decode_float16_f16c(const uint16_t* in, float* out, size_t n) {
  const __m256 nan = _mm256_set1_ps(std::nanf(""));
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i)));
    _mm256_storeu_ps(out + i, _mm256_blendv_ps(x, nan, _mm256_cmp_ps(x, x, _CMP_UNORD_Q)));
  }
  decode_float16_table(in + i, out + i, n - i);
}
// F16C rounds 8 values per instruction to nearest, ties to even, with half subnormals and
// overflow to infinity, as float_to_half does; a NaN is first made the quiet NaN of its sign,
// which converts to float_to_half's 0x7e00 with the sign (F16C would keep payload bits).
__attribute__((target("avx2,f16c"))) inline __m128i encode8(__m256 x) {
  const __m256 sign = _mm256_and_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32(int(0x80000000u))));
  const __m256 quiet = _mm256_or_ps(sign, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fc00000)));
  return _mm256_cvtps_ph(_mm256_blendv_ps(x, quiet, _mm256_cmp_ps(x, x, _CMP_UNORD_Q)), _MM_FROUND_TO_NEAREST_INT);
}
void encode_float16_scalar(const float* in, uint16_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = float_to_half(in[i]);
}
void round_float16_table(float* v, size_t n) {
  const float* t = decode_table().data();
  for (size_t i = 0; i < n; ++i) v[i] = t[float_to_half(v[i])];
}
__attribute__((target("avx2,f16c"))) void encode_float16_f16c(const float* in, uint16_t* out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), encode8(_mm256_loadu_ps(in + i)));
  encode_float16_scalar(in + i, out + i, n - i);
}
__attribute__((target("avx2,f16c"))) void round_float16_f16c(float* v, size_t n) {
  const __m256 nan = _mm256_set1_ps(std::nanf(""));
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_cvtph_ps(encode8(_mm256_loadu_ps(v + i)));
    _mm256_storeu_ps(v + i, _mm256_blendv_ps(x, nan, _mm256_cmp_ps(x, x, _CMP_UNORD_Q)));
  }
  round_float16_table(v + i, n - i);
}
const bool g_f16c = [] {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C) != 0;
}();
}  // namespace

void encode_float16(const float* in, uint16_t* out, size_t n) {
  (g_f16c && simd_enabled() ? encode_float16_f16c : encode_float16_scalar)(in, out, n);
}

void round_float16(float* v, size_t n) { (g_f16c && simd_enabled() ? round_float16_f16c : round_float16_table)(v, n); }

void decode_float16(const uint16_t* in, float* out, size_t n) {
  (g_f16c && simd_enabled() ? decode_float16_f16c : decode_float16_table)(in, out, n);
}

}  // namespace ack
