// The loop every independent-items kernel uses: body(i) for i in [0, count) over `threads`
// OpenMP threads (dynamic schedule, `chunk` items at a time), a cancellation check before each
// item, and the first exception rethrown after the loop (none crosses the OpenMP boundary).
// Which thread runs an item never changes its result, so results do not depend on `threads`.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "control.h"

namespace ack {

template <class Body>
void parallel_for(int64_t count, int threads, const Control* control, Body&& body, int chunk = 1) {
  Guard guard;
#pragma omp parallel for schedule(dynamic, chunk) num_threads(std::max(1, threads))
  for (int64_t i = 0; i < count; ++i) {
    guard.run([&] {
      if (control) control->throwIfCancelled();
      body(i);
    });
  }
  guard.rethrow();
}

}  // namespace ack
