// The one pose applier (README "Multi-reference alignment"; src/align/apply.ts): applying
// alignment parameters to an image, the exact inverse of what align_images reports.
//   aligned(p) = x(c + R(−ψ)·F^mirror·(p − c) − shift),  c = (box/2, box/2), F = diag(1, −1),
// i.e. translate the content by `shift`, rotate it by ψ (from +x toward +y) about c, then
// flip y → −y about c if mirrored. Bilinear interpolation, zero outside the image. This is
// RELION's 2D convention (origin, then ψ) plus our final mirror.
#pragma once
#include <cstdint>

#include "control.h"

namespace ack {

void apply_alignment(const float* image, int box, double psiDegrees, double shiftX, double shiftY, bool mirror,
                     float* out);

// Image i of `images` (n·box² values) with pose (psi[i], shiftX[i], shiftY[i], mirror[i]) into
// out + i·box². OpenMP over images; the result does not depend on `threads`.
void apply_poses(const float* images, int64_t n, int box, const float* psi, const float* shiftX, const float* shiftY,
                 const uint8_t* mirror, float* out, int threads, Control& control);

}  // namespace ack
