// Per-image preprocessing of particle images, one pass and one FFT round trip per image:
// screening (optional), CTF phase flip, origin shift and Fourier crop to the working box (all
// three as one multiplication of the input's spectrum), optional contrast inversion,
// normalisation on the background outside the particle, a soft circular mask, and (optionally)
// rounding to float16 precision. Batched over images with OpenMP; pure C++ (no Node headers).
#pragma once
#include <cstdint>

#include "control.h"

namespace ack {

// Why screening rejected an image (0 = kept). Checked in this order: any NaN/±Inf, then any
// |value| > kOutOfRangeBound, then all pixels equal.
enum class Screen : uint8_t { Good = 0, NonFinite = 1, OutOfRange = 2, Constant = 3 };
constexpr double kOutOfRangeBound = 1e6;

struct PreprocessParams {
  int box = 0;                     // input box (pixels)
  int outBox = 0;                  // working box (pixels), <= box
  double radius = 0;               // particle radius in working-box pixels (background is r > radius)
  double edge = 0;                 // width of the raised-cosine edge of the mask, pixels (0 = hard mask)
  bool invert = false;             // multiply by -1 before normalising
  bool normalise = true;           // mean 0, sd 1 on the background (false: values as cropped)
  bool mask = true;                // apply the soft mask after normalising
  const float* shifts = nullptr;   // optional n·2 (x, y) shifts in input pixels applied first
  const double* ctf = nullptr;     // optional n·kCtfParamCount CTFs (ctf.h): phase-flip image i first
  double pixelSize = 0;            // input Å/pixel (for the CTF)
  uint8_t* screen = nullptr;       // optional n outputs: screen each image first (Screen values)
  bool roundFloat16 = false;       // round every output value to the nearest float16 (float16.h)
  const uint16_t* half = nullptr;  // optional: the input as n·box² binary16 values (then in = nullptr)
};

// in: n·box² values; out: n·outBox² values. With `ctf`, image i is phase-flipped with its own
// CTF: its spectrum is multiplied by sign(CTF) (sign(0) = +1) on the input box's frequency grid,
// as RELION's "only flip phases". With `shifts`, image i is translated by (shifts[2i],
// shifts[2i+1]) input pixels (a Fourier phase shift, i.e. circular: out(x) = in(x − s)), so
// RELION's origins can be applied on the way in. Centre of an image of size m is (m/2, m/2)
// (integer division, RELION's convention). The Fourier crop keeps frequencies |f| < outBox/2
// and keeps pixel values (a constant image stays the same constant); when cropping (outBox <
// box) or shifting, the Nyquist row/column of an even working box is set to zero. With neither
// a crop, a shift nor a CTF, no transform is made. Background: pixels with r > radius; when
// fewer than outBox pixels qualify, the whole image is used. A background with zero variance
// leaves the image centred but unscaled. With `screen`, a rejected image is not processed and
// its output is all zeros. Results do not depend on the thread count.
void preprocess_images(const float* in, int64_t n, const PreprocessParams& p, float* out, int threads,
                       Control& control);

// Fourier crop (and shift) of one image (box -> outBox), the kernel of preprocess_images.
void fourier_crop(const float* in, int box, int outBox, float* out, float shiftX = 0, float shiftY = 0);

}  // namespace ack

namespace ack {

// Rotation-, translation- and mirror-invariant features of m×m images (for MRA/MSA's first
// classes): the power spectrum |F|² (translation-invariant) sampled on rings r = 2..rings+1
// (cycles per box) at `angles` angles over [0, π) (bilinear; |F|² is centrosymmetric), then,
// per ring, the magnitudes of the angular harmonics 0..harmonics−1 of log(1 + |F|²)
// (rotation-invariant; a mirror only conjugates them). out: n · rings · harmonics values.
void invariant_features(const float* in, int64_t n, int m, int rings, int angles, int harmonics, float* out,
                        int threads, Control& control);

}  // namespace ack
