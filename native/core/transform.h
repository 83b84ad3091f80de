// Applying alignment parameters to an image: the exact inverse of what align_images reports.
//   aligned(p) = x(c + R(−ψ)·F^mirror·(p − c) − shift),  c = (box/2, box/2), F = diag(1, −1),
// i.e. translate the content by `shift`, rotate it by ψ (from +x toward +y) about c, then
// flip y → −y about c if mirrored. Bilinear interpolation, zero outside the image.
#pragma once
#include <cstdint>

namespace ack {

void apply_alignment(const float* image, int box, double psiDegrees, double shiftX, double shiftY, bool mirror,
                     float* out);

}  // namespace ack
