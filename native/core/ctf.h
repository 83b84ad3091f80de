// RELION's contrast transfer function (ctf.h in RELION, without B-factor or higher-order
// aberrations), on the rfft half-plane grid, and its application to batches of images.
//
// For a spatial frequency (fx, fy) in 1/Å, u² = fx² + fy², θ = atan2(fy, fx):
//   Δf(θ)  = −[(U + V)/2 + (U − V)/2 · cos 2(θ − angle)]         (Å; U, V > 0 = underfocus)
//   λ      = 12.2643247 / sqrt(kV·10³ · (1 + kV·10³ · 0.978466e-6))   (Å, relativistic)
//   γ      = π·λ·Δf·u² + (π/2)·Cs·λ³·u⁴ − phaseShift − atan(Q0 / sqrt(1 − Q0²))
//   CTF    = −sin γ                                                  (Cs in Å = mm·10⁷)
// so CTF(0) = Q0 (positive contrast transfer at low frequency). Δf at u = 0 is taken as the mean.
#pragma once
#include <cstdint>

#include "control.h"

namespace ack {

struct CtfParams {
  double defocusU;           // Å
  double defocusV;           // Å
  double defocusAngle;       // degrees
  double voltage;            // kV
  double cs;                 // mm
  double amplitudeContrast;  // Q0 in [0, 1)
  double phaseShift;         // degrees
};
constexpr int kCtfParamCount = 7;  // the fields above, in this order, in interleaved arrays

// The CtfParams stored at p[0..6].
inline CtfParams ctf_params(const double* p) { return {p[0], p[1], p[2], p[3], p[4], p[5], p[6]}; }

// Precomputed constants of one CTF.
class Ctf {
 public:
  explicit Ctf(const CtfParams& p);
  double operator()(double fx, double fy) const;  // frequencies in 1/Å
  // True where the CTF is negative, from the parity of ⌊γ/π⌋ (no sine): the phase flip's sign.
  bool negative(double fx, double fy) const;

 private:
  double mean_, deviation_, cos2a_, sin2a_, k1_, k2_, phase_;
};

// The CTF on FFTW's r2c grid of a box×box image: out[ky*(box/2+1) + kx], kx = 0..box/2, row ky
// holding frequency ky (ky ≤ box/2) or ky − box, in units of 1/(box·pixelSize).
void ctf_halfplane(const CtfParams& p, int box, double pixelSize, float* out);

enum class CtfMode {
  Multiply,   // image ← IFFT(FFT(image) · CTF): what the microscope does (simulation)
  PhaseFlip,  // image ← IFFT(FFT(image) · sign(CTF)), sign(0) = +1 (RELION's "only flip phases")
};

// n box×box images (x fastest) transformed into `out` (may equal `in`), each with its own CTF
// (params: n×kCtfParamCount interleaved). OpenMP over images; results independent of threads.
void apply_ctf(const float* in, float* out, int64_t n, int box, double pixelSize, const double* params, CtfMode mode,
               int threads, Control& control);

}  // namespace ack
