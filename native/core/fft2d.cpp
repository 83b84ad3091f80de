#include "fft2d.h"

#include <map>
#include <memory>
#include <new>
#include <stdexcept>

namespace ack {

const Fft2dPlan& fft2d_plan(int box) {
  static std::map<int, std::unique_ptr<Fft2dPlan>> cache;
  std::lock_guard<std::mutex> lock(fftw_planner_mutex());
  auto& slot = cache[box];
  if (!slot) {
    Fft2dBuffers b(box);
    auto p = std::make_unique<Fft2dPlan>();
    p->box = box;
    p->forward = fftwf_plan_dft_r2c_2d(box, box, b.real, b.spectrum, FFTW_ESTIMATE);
    p->inverse = fftwf_plan_dft_c2r_2d(box, box, b.spectrum, b.real, FFTW_ESTIMATE);
    if (!p->forward || !p->inverse) throw std::runtime_error("FFTW could not plan a 2D transform");
    slot = std::move(p);
  }
  return *slot;
}

Fft2dBuffers::Fft2dBuffers(int box)
    : real(fftwf_alloc_real(size_t(box) * box)), spectrum(fftwf_alloc_complex(size_t(box) * (box / 2 + 1))) {
  if (!real || !spectrum) {
    fftwf_free(real);
    fftwf_free(spectrum);
    throw std::bad_alloc();
  }
}

Fft2dBuffers::~Fft2dBuffers() {
  fftwf_free(real);
  fftwf_free(spectrum);
}

}  // namespace ack
