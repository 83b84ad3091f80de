#include "info.h"

#include <fftw3.h>
#include <omp.h>

#include <thread>

#include "blas.h"
#include "simd.h"

namespace ack {

BuildInfo build_info() {
  BuildInfo b;
  b.fftwVersion = fftwf_version;
  b.openblasConfig = blas_version();
  b.openblasCore = blas_core();
  b.simd = simd_level();
  b.ompMaxThreads = omp_get_max_threads();
  b.hardwareThreads = static_cast<int>(std::thread::hardware_concurrency());
#if defined(__clang__)
  b.compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
  b.compiler = "gcc " __VERSION__;
#else
  b.compiler = "unknown";
#endif
  return b;
}

}  // namespace ack
