// Real-space projector: line integrals of a cubic volume along rotated rays, trilinear
// sampling, one projection per task (OpenMP over projections).
//
// Image pixel (x, y) of projection i, with p = (x − ci + sx_i, y − ci + sy_i, t):
//   image_i[y][x] = Σ_t V(M_i · p + cv),   t ∈ {k − cv : k integer},
// where V(q) is the trilinear interpolation of vol[z][y][x] at q = (qx, qy, qz), zero outside
// the volume (voxels beyond the edge count as 0). M_i maps image coordinates to volume
// coordinates (RELION: M = A(rot, tilt, psi)ᵀ). The sum runs over the whole ray, clipped to
// the volume, so it is the full line integral at unit step whatever the output box.
#pragma once
#include <cstdint>

#include "control.h"

namespace ack {

struct ProjectionGeometry {
  int64_t size;         // volume edge (vol is size³, [z][y][x], x fastest)
  double volumeCentre;  // cv: voxel coordinate of the rotation centre (RELION: size/2 floored)
  int64_t box;          // output image edge
  double imageCentre;   // ci: pixel coordinate of the image centre
};

// matrices: n×9 row-major M_i; shifts: n×2 (sx, sy) in pixels or nullptr; out: n·box² floats.
// Throws Cancelled. Results do not depend on the thread count.
void project_volume(const float* vol, const ProjectionGeometry& g, const double* matrices, const double* shifts,
                    int64_t n, float* out, int threads, Control& control);
// The AVX2 sampling kernel runs when simd_enabled() (simd.h); both kernels give bit-identical images.

}  // namespace ack
