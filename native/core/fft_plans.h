// The process-wide cache of FFTW single-precision plans (the only one: every kernel plans here). FFTW's planner is not thread-safe, so
// plans are made under one mutex, once per shape, and then executed concurrently through the
// new-array interface (fftwf_execute_dft_*), always on fftwf_alloc'd (SIMD-aligned) buffers.
// Plans use FFTW_ESTIMATE: the chosen algorithm depends only on the shape, never on timings,
// so results are identical from run to run (FFTW_MEASURE measured no faster here, see align.cpp).
#pragma once
#include <fftw3.h>

#include <cstddef>
#include <memory>

namespace ack {

// Batched 1-D real -> complex transforms of length n: `howmany` transforms, element stride
// `stride`, distance between transforms `dist` (the same layout for input and output, counted
// in their own units).
fftwf_plan plan_r2c_many(int n, int howmany, int stride, int dist);
// `howmany` out-of-place backward complex transforms of length n, rows of n complex values
// `dist` ≥ n apart (in and out); the input is preserved.
fftwf_plan plan_c2c_backward_rows(int n, int howmany, int dist);
// 2-D transforms of one rows×cols image: real -> rows×(cols/2+1) complex and back, both
// unnormalised (a round trip multiplies by rows·cols). The c2r transform overwrites its input.
fftwf_plan plan_r2c_2d(int rows, int cols);
fftwf_plan plan_c2r_2d(int rows, int cols);

// An fftwf_malloc'd array of T (aligned for FFTW's SIMD codelets), zero-initialised.
template <class T>
struct FftwDeleter {
  void operator()(T* p) const { fftwf_free(p); }
};
template <class T>
using FftwBuffer = std::unique_ptr<T[], FftwDeleter<T>>;
void* fftw_alloc_zeroed(size_t bytes);
template <class T>
FftwBuffer<T> fftw_buffer(size_t count) {
  return FftwBuffer<T>(static_cast<T*>(fftw_alloc_zeroed(count * sizeof(T))));
}

}  // namespace ack
