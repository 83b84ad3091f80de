#include "fftw_planner.h"

namespace ack {

std::mutex& fftw_planner_mutex() {
  static std::mutex mu;
  return mu;
}

}  // namespace ack
