// Multi-reference alignment: for every image i and reference j, the in-plane rotation ψ, the
// shift (on a grid) and the mirror that best match the image to the reference, and the
// resulting dissimilarity. See align.cpp for the algorithm and src/align/align.ts for the
// conventions (the aligned image is mirror^m ∘ rotate(ψ) ∘ translate(shift) of the raw image).
#pragma once
#include <cstdint>

#include "control.h"

namespace ack {

struct AlignSettings {
  int box = 0;
  int firstRing = 1, lastRing = 1;
  double shiftRange = 0, shiftStep = 1;  // grid offsets k·shiftStep, |k·shiftStep| ≤ shiftRange, in x and y
  bool mirror = true;
  double bandLimit = 0.5;  // cycles/pixel: ring r keeps harmonics m ≤ 2πr·bandLimit
  // Search the shifts on the references' side (SPEC §4): each reference is resampled at every
  // grid offset d and each image once, at its centre, instead of each image at every offset.
  // The pose is still the image's: shift t = R(−ψ)·F^mirror·d (the grid offset turned with the
  // found angle, so shifts leave the grid), score = ‖x‖²_w + ‖μ_d‖²_w − 2·max correlation.
  // Ignored by a local search (per-image offsets shift the images).
  bool shiftReferences = false;
};

// Per-phase wall time summed over threads, in seconds, and the flop counts of the phases.
// Each complex inverse FFT (`transforms`) gives the correlations of an image and of its mirror.
struct AlignTimings {
  double resample = 0, gemm = 0, gather = 0, ifft = 0, peak = 0;  // gather: the FFTs' input spectra
  double gemmFlops = 0, ifftLength = 0, correlations = 0, transforms = 0;
};

// Outputs are n×k row-major. score = ‖x_s‖²_w + ‖μ‖²_w − 2·max correlation (clamped at 0);
// psi in degrees [0, 360); shiftX/Y in pixels; mirror 0/1.
//
// offsets (optional): n×offsetsPerImage indices into the shift grid (x fastest, (2K+1)² offsets
// with K = ⌊shiftRange/shiftStep⌋): image i is searched at those offsets only (a local search
// around a previous shift); nullptr searches every image at every grid offset.
void align_images(const AlignSettings& settings, const float* images, int64_t n, const float* refs, int64_t k,
                  float* score, float* psi, float* shiftX, float* shiftY, uint8_t* mirror, int threads,
                  Control& control, AlignTimings* timings, const int32_t* offsets = nullptr, int offsetsPerImage = 0);

// The number of offsets in the shift grid of `settings`.
int shift_grid_size(const AlignSettings& settings);

// The same alignment for a sparse set of pairs: image i against the m references
// candidates[i·m + c] (−1 = an empty slot, which gets score +inf and zero pose). Outputs are
// n×m row-major, entry (i, c) is align_images' entry (i, candidates[i·m + c]) up to rounding
// (the GEMM and FFT batch shapes differ).
//
// spectra (optional, with spectraNorms): the images' own side as image_spectra made it for the
// same settings (then `images` is not read and may be null): the same results, without
// resampling the images. Only with shiftReferences, and not with a local search.
void align_candidates(const AlignSettings& settings, const float* images, int64_t n, const float* refs, int64_t k,
                      const int32_t* candidates, int m, float* score, float* psi, float* shiftX, float* shiftY,
                      uint8_t* mirror, int threads, Control& control, AlignTimings* timings,
                      const int32_t* offsets = nullptr, int offsetsPerImage = 0, const float* spectra = nullptr,
                      const double* spectraNorms = nullptr);

// With shiftReferences each image is resampled once, at its centre, whatever the references: its
// weighted polar ring spectra (image_spectrum_floats(settings) floats) and their norm can be made
// once and kept for later searches against other references (align_candidates' `spectra`).
// Throws std::invalid_argument unless the settings search the shifts on the references' side.
int image_spectrum_floats(const AlignSettings& settings);
void image_spectra(const AlignSettings& settings, const float* images, int64_t n, float* spectra, double* norms,
                   int threads, Control& control);

}  // namespace ack
