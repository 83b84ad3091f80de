// FFTW plans for 2D real transforms of square images (r2c and c2r), made once per size and
// shared by all threads. Planning is not thread-safe in FFTW, so every plan of ours is made
// under fftw_planner_mutex(); execution (the new-array interface on fftwf_alloc'd buffers) is.
// FFTW_ESTIMATE: the same plan, hence bit-identical results, on every run.
#pragma once
#include <fftw3.h>

#include <cstdint>
#include "fftw_planner.h"

namespace ack {

struct Fft2dPlan {
  int box = 0;
  fftwf_plan forward = nullptr;  // box×box real -> box×(box/2+1) complex, unnormalised
  fftwf_plan inverse = nullptr;  // box×(box/2+1) complex -> box×box real, unnormalised (× box²)
};

// The cached plan pair for box×box images.
const Fft2dPlan& fft2d_plan(int box);

// Per-thread work buffers aligned as FFTW expects (the plans run on any such pair).
class Fft2dBuffers {
 public:
  explicit Fft2dBuffers(int box);
  ~Fft2dBuffers();
  Fft2dBuffers(const Fft2dBuffers&) = delete;
  Fft2dBuffers& operator=(const Fft2dBuffers&) = delete;
  float* real;             // box*box
  fftwf_complex* spectrum; // box*(box/2+1)
};

}  // namespace ack
