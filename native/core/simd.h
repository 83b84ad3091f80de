// Small vector kernels compiled twice, for AVX2 and for plain x86-64, and one global switch that
// picks the path at run time: the AVX2 one when the switch is on and the CPU has AVX2 (so one
// binary runs everywhere, and tests can compare both paths). No kernel is built with FMA.
#pragma once
#include <cstdint>
#include <string>

namespace ack {

// Σ v[i]^2, accumulated in double.
double sum_squares(const float* v, int64_t len);
// row[j] = max(0, row[j] + refNorm[j] + xNorm)
void add_norms_clamped(float* row, const float* refNorm, float xNorm, int64_t len);
// "avx2" or "sse2": the instruction set our kernels use here ("sse2" when switched off).
std::string simd_level();

// The global SIMD switch (default on). simd_enabled() is true when it is on and the CPU has AVX2.
bool simd_enabled();
void set_simd(bool on);

// ACK_SIMD_KERNEL(ret, name, (params), (args)) { body }: defines `ret name(params)`, whose body is
// compiled once for AVX2 and once for baseline x86-64; each call runs the AVX2 copy when
// simd_enabled(). The body is written once, right after the macro.
#define ACK_SIMD_KERNEL(ret, name, params, args)                                             \
  static inline __attribute__((always_inline)) ret name##_body params;                       \
  __attribute__((target("avx2"))) static ret name##_avx2 params { return name##_body args; } \
  static ret name##_base params { return name##_body args; }                                 \
  ret name params { return ::ack::simd_enabled() ? name##_avx2 args : name##_base args; }    \
  static inline __attribute__((always_inline)) ret name##_body params

}  // namespace ack
