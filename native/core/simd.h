// Small vector kernels compiled for AVX2+FMA and for plain x86-64, picked at run time
// (function multiversioning), so one binary runs everywhere and uses the wide path here.
#pragma once
#include <cstdint>
#include <string>

namespace ack {

// Σ v[i]^2, accumulated in double.
double sum_squares(const float* v, int64_t len);
// row[j] = max(0, row[j] + refNorm[j] + xNorm)
void add_norms_clamped(float* row, const float* refNorm, float xNorm, int64_t len);
// "avx512f", "avx2+fma", "sse2": the widest instruction set this CPU offers to our kernels.
std::string simd_level();

}  // namespace ack
