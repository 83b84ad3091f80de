#include "simd.h"

namespace ack {

#define ACK_CLONES __attribute__((target_clones("avx2", "default")))

ACK_CLONES double sum_squares(const float* v, int64_t len) {
  // Eight independent float partial sums (vectorisable), folded into double every 1024 values.
  double total = 0.0;
  int64_t i = 0;
  while (i < len) {
    const int64_t end = i + 1024 < len ? i + 1024 : len;
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (; i + 8 <= end; i += 8)
      for (int l = 0; l < 8; ++l) acc[l] += v[i + l] * v[i + l];
    for (; i < end; ++i) acc[0] += v[i] * v[i];
    for (int l = 0; l < 8; ++l) total += acc[l];
  }
  return total;
}

ACK_CLONES void add_norms_clamped(float* row, const float* refNorm, float xNorm, int64_t len) {
  for (int64_t j = 0; j < len; ++j) {
    const float d = row[j] + refNorm[j] + xNorm;
    row[j] = d > 0.f ? d : 0.f;
  }
}

std::string simd_level() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return "avx512f (kernels use avx2+fma)";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2+fma";
  return "sse2";
}

}  // namespace ack
