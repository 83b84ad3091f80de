// IEEE 754 binary16 (MRC mode 12, the scratch stack's format) <-> float32. Encoding rounds to
// nearest, ties to even; overflow gives ±infinity; NaN stays NaN (0x7e00 with the sign). The
// same bit patterns as src/io/float16.ts, so JavaScript and C++ agree on every value.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ack {

uint16_t float_to_half(float value);
float half_to_float(uint16_t bits);

// out[i] = float_to_half(in[i]) / half_to_float(in[i]) for i < n, and v[i] =
// half_to_float(float_to_half(v[i])) in place (with F16C when the SIMD switch is on and the CPU
// has it: the same bits).
void encode_float16(const float* in, uint16_t* out, size_t n);
void decode_float16(const uint16_t* in, float* out, size_t n);
void round_float16(float* v, size_t n);

}  // namespace ack
