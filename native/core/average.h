// Class averages from each member's own alignment parameters, with even/odd half averages and
// their Fourier ring correlation (a per-class resolution estimate).
#pragma once
#include <cstddef>
#include <cstdint>

#include "control.h"

namespace ack {

// Adds `count` images (a block of the stack) into per-class sums of aligned images. Images with
// assignment < 0 are skipped. Sums are k·box² doubles; `members[j]` counts class j's members and
// `evenMembers[j]` those in its even half. Without `half`, member number t of class j (counted
// over all blocks, in image order) goes to evenSum when t is even, oddSum when odd; with `half`
// (count values, 0: even, 1: odd), image i goes to the half it names. Parallel over classes (each
// class sums its members in order): the result is the same for any thread count.
// With quantum > 0 (a power of two, with |value| ≤ 2^51·quantum) every aligned value is rounded
// to the nearest multiple of quantum (ties to even) before it is added: while every sum stays
// below 2^53·quantum in magnitude each addition is exact, so the sums do not depend on the order
// or the grouping of the images (blocks summed on different machines and added give the same
// bits). With sign = −1 (only with `half` and quantum > 0) the images are taken out again: the
// rounded values are subtracted and the counts lowered, exactly undoing their addition.
void accumulate_classes(const float* images, int64_t count, int box, const int32_t* assignment, const float* psi,
                        const float* shiftX, const float* shiftY, const uint8_t* mirror, int k, double* evenSum,
                        double* oddSum, int32_t* members, int32_t* evenMembers, int threads, Control& control,
                        double quantum = 0, const uint8_t* half = nullptr, int sign = 1);

// The largest |v| of values[0..n−1], NaNs ignored (0 for none): what sets the quantum of the
// exact sums (src/pipeline/class-sums.ts `sumQuantum`). AVX2 when the SIMD switch is on.
float max_abs(const float* values, size_t n);

// From the sums: averages (all members), even and odd half averages (k·box² floats each; zero
// for an empty half), FRC between the halves in shells s = 0..box/2 (k × (box/2+1); shell s holds
// the Fourier coefficients with round(|(fx, fy)|·box) = s; NaN for a class with an empty half)
// and the resolution in pixels where the FRC first falls below 0.143 (linear between shells; 2
// when it never does; NaN with an empty half). `evenMembers` counts the even half's members.
void finalize_classes(const double* evenSum, const double* oddSum, const int32_t* members, const int32_t* evenMembers,
                      int k, int box, float* averages, float* even, float* odd, float* frc, float* resolution,
                      int threads, const Control* control = nullptr);

// The resolution in pixels where `frc` (shells 0..box/2) first falls below 0.143, linear between
// shells; 2 (Nyquist) when it never does.
float frc_resolution(const float* frc, int box);

}  // namespace ack
