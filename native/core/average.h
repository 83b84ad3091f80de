// Class averages from each member's own alignment parameters, with even/odd half averages and
// their Fourier ring correlation (a per-class resolution estimate).
#pragma once
#include <cstdint>

#include "control.h"

namespace ack {

// Adds `count` images (a block of the stack) into per-class sums of aligned images: member
// number t of class j (counted over all blocks, in image order, kept in `members[j]`) goes to
// evenSum when t is even, oddSum when odd. Images with assignment < 0 are skipped. Sums are
// k·box² doubles. Parallel over classes (each class sums its members in order): the result is
// the same for any thread count.
// With quantum > 0 (a power of two, with |value| ≤ 2^51·quantum) every aligned value is rounded
// to the nearest multiple of quantum (ties to even) before it is added: while every sum stays
// below 2^53·quantum in magnitude each addition is exact, so the sums do not depend on the order
// or the grouping of the images (blocks summed on different machines and added give the same
// bits).
void accumulate_classes(const float* images, int64_t count, int box, const int32_t* assignment, const float* psi,
                        const float* shiftX, const float* shiftY, const uint8_t* mirror, int k, double* evenSum,
                        double* oddSum, int32_t* members, int threads, Control& control, double quantum = 0);

// From the sums: averages (all members), even and odd half averages (k·box² floats each; zero
// for an empty half), FRC between the halves in shells s = 0..box/2 (k × (box/2+1); shell s holds
// the Fourier coefficients with round(|(fx, fy)|·box) = s; NaN for a class under 2 members) and
// the resolution in pixels where the FRC first falls below 0.143 (linear between shells; 2 when it
// never does; NaN under 2 members).
void finalize_classes(const double* evenSum, const double* oddSum, const int32_t* members, int k, int box,
                      float* averages, float* even, float* odd, float* frc, float* resolution, int threads,
                      const Control* control = nullptr);

// The resolution in pixels where `frc` (shells 0..box/2) first falls below 0.143, linear between
// shells; 2 (Nyquist) when it never does.
float frc_resolution(const float* frc, int box);

}  // namespace ack
