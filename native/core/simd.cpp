#include "simd.h"

#include <atomic>

namespace ack {

namespace {
std::atomic<bool> g_simd{true};
const bool g_avx2 = [] {
  __builtin_cpu_init();
  return bool(__builtin_cpu_supports("avx2"));
}();
}  // namespace

bool simd_enabled() { return g_avx2 && g_simd.load(std::memory_order_relaxed); }
void set_simd(bool on) { g_simd.store(on, std::memory_order_relaxed); }

ACK_SIMD_KERNEL(double, sum_squares, (const float* v, int64_t len), (v, len)) {
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

ACK_SIMD_KERNEL(void, add_norms_clamped, (float* row, const float* refNorm, float xNorm, int64_t len),
                (row, refNorm, xNorm, len)) {
  for (int64_t j = 0; j < len; ++j) {
    const float d = row[j] + refNorm[j] + xNorm;
    row[j] = d > 0.f ? d : 0.f;
  }
}

std::string simd_level() { return simd_enabled() ? "avx2" : "sse2"; }

}  // namespace ack
