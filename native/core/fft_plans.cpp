#include "fft_plans.h"

#include "fftw_planner.h"

#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <stdexcept>
#include <tuple>

namespace ack {
namespace {

using Key = std::tuple<int, int, int, int, int>;  // kind, n (or rows), howmany (or cols), stride, dist

// Makes (once) and returns the plan for `key`; `make` gets scratch buffers of the right size.
template <class Make>
fftwf_plan cached(const Key& key, size_t realCount, size_t complexCount, Make make) {
  static std::map<Key, fftwf_plan> plans;
  std::lock_guard<std::mutex> lock(fftw_planner_mutex());
  auto it = plans.find(key);
  if (it != plans.end()) return it->second;
  FftwBuffer<float> r = fftw_buffer<float>(realCount);
  FftwBuffer<fftwf_complex> c = fftw_buffer<fftwf_complex>(complexCount);
  fftwf_plan p = make(r.get(), c.get());
  if (!p) throw std::runtime_error("FFTW could not make a plan");
  plans.emplace(key, p);
  return p;
}

}  // namespace

void* fftw_alloc_zeroed(size_t bytes) {
  void* p = fftwf_malloc(bytes ? bytes : 1);
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, bytes);
  return p;
}

fftwf_plan plan_r2c_many(int n, int howmany, int stride, int dist) {
  const int h = n / 2 + 1;
  size_t span = size_t(howmany - 1) * dist + size_t(n - 1) * stride + 1;
  size_t cspan = size_t(howmany - 1) * dist + size_t(h - 1) * stride + 1;
  return cached({0, n, howmany, stride, dist}, span, cspan, [&](float* r, fftwf_complex* c) {
    return fftwf_plan_many_dft_r2c(1, &n, howmany, r, nullptr, stride, dist, c, nullptr, stride, dist, FFTW_ESTIMATE);
  });
}

fftwf_plan plan_c2c_backward_rows(int n, int howmany, int dist) {
  // The output is planned in the "real" scratch buffer (2·count floats), so that input and
  // output are both fftwf_malloc'd, as the buffers the plan is executed on.
  const size_t count = size_t(howmany) * dist;
  return cached({5, n, howmany, 1, dist}, 2 * count, count, [&](float* r, fftwf_complex* c) {
    return fftwf_plan_many_dft(1, &n, howmany, c, nullptr, 1, dist, reinterpret_cast<fftwf_complex*>(r), nullptr, 1,
                               dist, FFTW_BACKWARD, FFTW_ESTIMATE);
  });
}

fftwf_plan plan_r2c_2d(int rows, int cols) {
  return cached({2, rows, cols, 0, 0}, size_t(rows) * cols, size_t(rows) * (cols / 2 + 1),
                [&](float* r, fftwf_complex* c) { return fftwf_plan_dft_r2c_2d(rows, cols, r, c, FFTW_ESTIMATE); });
}

fftwf_plan plan_c2r_2d(int rows, int cols) {
  return cached({3, rows, cols, 0, 0}, size_t(rows) * cols, size_t(rows) * (cols / 2 + 1),
                [&](float* r, fftwf_complex* c) { return fftwf_plan_dft_c2r_2d(rows, cols, c, r, FFTW_ESTIMATE); });
}

}  // namespace ack
