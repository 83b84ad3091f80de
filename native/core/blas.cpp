#include "blas.h"

#include <algorithm>
#include <chrono>
#include <complex>
#include <mutex>
#include <random>
#include <stdexcept>
#include <vector>

extern "C" {
void openblas_set_num_threads(int);
char* openblas_get_config(void);
char* openblas_get_corename(void);
}

namespace ack {

void blas_init() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

std::string blas_version() { return openblas_get_config(); }
std::string blas_core() { return openblas_get_corename(); }

double gemm_peak(char kind, int m, int n, int k, int threads, int reps) {
  if (m <= 0 || n <= 0 || k <= 0 || reps <= 0) throw std::invalid_argument("gemm_peak: sizes must be positive");
  static std::mutex mu;  // the thread count of OpenBLAS is global: one peak measurement at a time
  std::lock_guard<std::mutex> lock(mu);
  openblas_set_num_threads(std::max(1, threads));
  std::mt19937 gen(1);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<double> times;
  auto clock = [] { return std::chrono::steady_clock::now(); };
  if (kind == 's') {
    std::vector<float> a(size_t(m) * k), b(size_t(n) * k), c(size_t(m) * n);
    for (auto& v : a) v = u(gen);
    for (auto& v : b) v = u(gen);
    for (int r = 0; r <= reps; ++r) {
      auto t0 = clock();
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.f, a.data(), k, b.data(), k, 0.f, c.data(), n);
      if (r > 0) times.push_back(std::chrono::duration<double>(clock() - t0).count());  // r = 0 warms up
    }
  } else if (kind == 'c') {
    std::vector<std::complex<float>> a(size_t(m) * k), b(size_t(n) * k), c(size_t(m) * n);
    for (auto& v : a) v = {u(gen), u(gen)};
    for (auto& v : b) v = {u(gen), u(gen)};
    const std::complex<float> one(1.f, 0.f), zero(0.f, 0.f);
    for (int r = 0; r <= reps; ++r) {
      auto t0 = clock();
      cblas_cgemm(CblasRowMajor, CblasNoTrans, CblasConjTrans, m, n, k, &one, a.data(), k, b.data(), k, &zero, c.data(),
                  n);
      if (r > 0) times.push_back(std::chrono::duration<double>(clock() - t0).count());
    }
  } else {
    openblas_set_num_threads(1);
    throw std::invalid_argument("gemm_peak: kind must be 's' or 'c'");
  }
  openblas_set_num_threads(1);
  std::sort(times.begin(), times.end());
  double t = times[times.size() / 2];
  double flops = (kind == 's' ? 2.0 : 8.0) * double(m) * n * k;
  return flops / t / 1e9;
}

}  // namespace ack
