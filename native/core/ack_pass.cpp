#include "ack_pass.h"

#include <stdexcept>
#include <vector>

#include "simd.h"

namespace ack {
namespace {

constexpr int64_t kPrefetchRows = 8;      // rows fetched ahead of the one being scanned
constexpr int64_t kCheckEvery = 1 << 16;  // images between cancellation checks

// The smallest cost row[h] + penalty[h] over h (double precision; 4 independent lanes).
ACK_SIMD_KERNEL(double, min_cost, (const float* row, const double* penalty, int64_t k), (row, penalty, k)) {
  double m0 = 1.0 / 0.0, m1 = m0, m2 = m0, m3 = m0;
  int64_t h = 0;
  for (; h + 4 <= k; h += 4) {
    const double c0 = double(row[h]) + penalty[h];
    const double c1 = double(row[h + 1]) + penalty[h + 1];
    const double c2 = double(row[h + 2]) + penalty[h + 2];
    const double c3 = double(row[h + 3]) + penalty[h + 3];
    m0 = c0 < m0 ? c0 : m0;
    m1 = c1 < m1 ? c1 : m1;
    m2 = c2 < m2 ? c2 : m2;
    m3 = c3 < m3 ? c3 : m3;
  }
  for (; h < k; ++h) {
    const double c = double(row[h]) + penalty[h];
    m0 = c < m0 ? c : m0;
  }
  m0 = m1 < m0 ? m1 : m0;
  m2 = m3 < m2 ? m3 : m2;
  return m2 < m0 ? m2 : m0;
}

inline void prefetch_row(const float* row, int64_t k) {
  const char* p = reinterpret_cast<const char*>(row);
  const int64_t bytes = k * int64_t(sizeof(float));
  for (int64_t b = 0; b < bytes; b += 64) __builtin_prefetch(p + b, 0, 0);
}

}  // namespace

int64_t ack_pass(const float* table, int64_t n, int64_t k, int32_t* assignment, int32_t* sizes, double lambda2,
                 const int32_t* order, int64_t count, Control& control) {
  for (int64_t o = 0; o < count; ++o)
    if (order[o] < 0 || order[o] >= n) throw std::out_of_range("order holds an index outside [0, n)");
  std::vector<double> penalty(k);
  for (int64_t h = 0; h < k; ++h) penalty[h] = lambda2 * sizes[h];
  control.setTotal(double(count));
  for (int64_t o = 0; o < kPrefetchRows && o < count; ++o) prefetch_row(table + int64_t(order[o]) * k, k);
  int64_t moves = 0;
  for (int64_t o = 0; o < count; ++o) {
    if (o > 0 && o % kCheckEvery == 0) {
      control.throwIfCancelled();
      control.advance(kCheckEvery);
    }
    if (o + kPrefetchRows < count) prefetch_row(table + int64_t(order[o + kPrefetchRows]) * k, k);
    const int64_t i = order[o];
    const float* row = table + i * k;
    const int32_t cur = assignment[i];
    if (cur < 0 || cur >= k) throw std::out_of_range("assignment holds a class outside [0, k)");
    penalty[cur] = lambda2 * --sizes[cur];
    const double m = min_cost(row, penalty.data(), k);
    int32_t best = cur;
    if (double(row[cur]) + penalty[cur] != m) {
      best = 0;
      while (double(row[best]) + penalty[best] != m) ++best;  // the first class reaching the minimum
    }
    penalty[best] = lambda2 * ++sizes[best];
    if (best != cur) {
      assignment[i] = best;
      ++moves;
    }
  }
  if (count > 0) control.advance(count - ((count - 1) / kCheckEvery) * kCheckEvery);
  return moves;
}

}  // namespace ack
