#include "ack_pass.h"

#include <limits>
#include <stdexcept>
#include <vector>

namespace ack {
namespace {

constexpr int64_t kPrefetchRows = 8;      // rows fetched ahead of the one being scanned
constexpr int64_t kCheckEvery = 1 << 16;  // images between cancellation checks

inline void prefetch_row(const float* row, int64_t k) {
  const char* p = reinterpret_cast<const char*>(row);
  const int64_t bytes = k * int64_t(sizeof(float));
  for (int64_t b = 0; b < bytes; b += 64) __builtin_prefetch(p + b, 0, 0);
}

}  // namespace

// The pass over a table of `width` columns per image: column c of image i holds the
// dissimilarity scores[i·width + c] to class classes[i·width + c] (classes == nullptr: the dense
// table, column c is class c; a class of −1 is an empty column). One loop for both, so the rule
// lives in one place.
int64_t ack_pass_table(const float* scores, const int32_t* classes, int64_t width, int64_t n, int64_t k,
                       int32_t* assignment, int32_t* sizes, double lambda2, const int32_t* order, int64_t count,
                       Control& control) {
  for (int64_t o = 0; o < count; ++o)
    if (order[o] < 0 || order[o] >= n) throw std::out_of_range("order holds an index outside [0, n)");
  std::vector<double> penalty(k);
  for (int64_t h = 0; h < k; ++h) penalty[h] = lambda2 * sizes[h];
  control.setTotal(double(count));
  for (int64_t o = 0; o < kPrefetchRows && o < count; ++o) prefetch_row(scores + int64_t(order[o]) * width, width);
  int64_t moves = 0;
  constexpr double inf = std::numeric_limits<double>::infinity();
  for (int64_t o = 0; o < count; ++o) {
    if (o > 0 && o % kCheckEvery == 0) {
      control.throwIfCancelled();
      control.advance(kCheckEvery);
    }
    if (o + kPrefetchRows < count) prefetch_row(scores + int64_t(order[o + kPrefetchRows]) * width, width);
    const int64_t i = order[o];
    const float* row = scores + i * width;
    const int32_t* cls = classes ? classes + i * width : nullptr;
    const int32_t cur = assignment[i];
    if (cur < 0 || cur >= k) throw std::out_of_range("assignment holds a class outside [0, k)");
    penalty[cur] = lambda2 * --sizes[cur];
    // the smallest cost d(i,h) + λ2·s[h]; ties go to the lowest class, then to the own class
    double best = inf, own = inf;
    int32_t to = cur;
    for (int64_t c = 0; c < width; ++c) {
      const int32_t h = cls ? cls[c] : int32_t(c);
      if (h < 0) continue;
      if (h >= k) throw std::out_of_range("candidate classes hold a class outside [0, k)");
      const double cost = double(row[c]) + penalty[h];
      if (h == cur) own = cost;
      if (cost < best || (cost == best && h < to)) {
        best = cost;
        to = h;
      }
    }
    if (own == best) to = cur;  // ties keep the class (and an image without candidates stays)
    penalty[to] = lambda2 * ++sizes[to];
    if (to != cur) {
      assignment[i] = to;
      ++moves;
    }
  }
  if (count > 0) control.advance(count - ((count - 1) / kCheckEvery) * kCheckEvery);
  return moves;
}

int64_t ack_pass(const float* table, int64_t n, int64_t k, int32_t* assignment, int32_t* sizes, double lambda2,
                 const int32_t* order, int64_t count, Control& control) {
  return ack_pass_table(table, nullptr, k, n, k, assignment, sizes, lambda2, order, count, control);
}

}  // namespace ack
