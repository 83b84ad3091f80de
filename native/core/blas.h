// OpenBLAS entry points used by the core, and the single-threaded-BLAS rule:
// every parallel region of ours calls BLAS from one thread per task, so OpenBLAS's
// own pool is kept at one thread (set once in blas_init) except in gemm_peak.
#pragma once
#include <cblas.h>
#include <string>

namespace ack {

void blas_init();            // OpenBLAS to 1 thread (idempotent)
std::string blas_version();  // openblas_get_config()
std::string blas_core();     // openblas_get_corename()

// Plain GEMM throughput of this machine: C(m×n) = A(m×k)·B(n×k)^T, repeated `reps` times with
// OpenBLAS's own threading at `threads`. kind 's' = sgemm, 'c' = cgemm. Returns GFLOP/s
// (counting 2mnk real flops for sgemm, 8mnk for cgemm) of the median repetition.
double gemm_peak(char kind, int m, int n, int k, int threads, int reps);

}  // namespace ack
