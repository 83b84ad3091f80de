// CTF-corrected class averages at full size (RELION's and SIMPLE's 2D class averages): every
// member aligned with its pose, Fourier-transformed, weighted by its own CTF and summed per class
// in Fourier space, then divided per coefficient by Σ CTF² + 1/τ² with τ² the per-particle
// spectral SNR of the shell, estimated from the Fourier ring correlation of the even/odd halves.
//
// Per class j and half h (members alternate between the halves in image order):
//   S_h(k) = Σ_i w_i(k)·X_i(k),   W_h(k) = Σ_i w_i(k)²
// with X_i the DFT of the aligned image and w_i(k) the particle's CTF at the raw-frame frequency
// M·k, M = R(−ψ)·F^mirror (the aligned image's coefficient at k is the raw image's at M·k).
// FRC_j(s) = FRC(S_even, S_odd) in shells s = round(|k|) (the CTF-weighted halves, which have no
// division by small CTF values), a(s) = mean over shell s of (W_even + W_odd)/2, and
//   Wiener: A = (S_e + S_o) / (W_e + W_o + a·(1 − F)/F),  F = FRC clamped to [1e-3, 1 − 1e-6]
//           (halves: S_h / (W_h + a·(1 − F)/F)); this is 1/τ² per particle, see the derivation
//           in src/align/average.ts;
//   PhaseFlip: w = sign(CTF) (sign 0 = +1), A = (S_e + S_o)/(W_e + W_o) (= the phase-flipped mean);
//   Plain (no CTF): w = 1.
// The sums are kept on the output box's r2c grid (outBox ≤ box: Fourier cropping, pixel size
// box/outBox times larger), so memory is k·outBox² doubles whatever the particle count.
#pragma once
#include <cstdint>

#include "control.h"

namespace ack {

enum class WeightMode { Wiener = 0, PhaseFlip = 1, Plain = 2 };

struct WienerParticles {
  const float* images = nullptr;  // count box×box images (x fastest), normalised, input origins applied
  int64_t count = 0;
  int box = 0;
  double pixelSize = 1;                 // Å per input pixel
  const double* ctf = nullptr;          // count×kCtfParamCount interleaved (ctf.h), nullptr for Plain
  const int32_t* assignment = nullptr;  // class in [0, k) or −1 (skipped)
  const float* psi = nullptr;           // degrees
  const float* shiftX = nullptr;        // input pixels (the transform.h convention)
  const float* shiftY = nullptr;
  const uint8_t* mirror = nullptr;
};

// Per-class sums on the outBox r2c grid: hc = outBox/2 + 1, G = outBox·hc coefficients per class.
struct WienerSums {
  int k = 0, outBox = 0;
  double* sumEven = nullptr;  // k·G complex (re, im interleaved): k·G·2 doubles
  double* sumOdd = nullptr;
  double* weightEven = nullptr;  // k·G doubles
  double* weightOdd = nullptr;
  int32_t* members = nullptr;  // k: members summed so far (decides the half of the next one)
};

// Adds the particles into the sums. Parallel over classes (each class adds its members in image
// order), so the sums are the same for any thread count.
void accumulate_wiener(const WienerParticles& particles, WeightMode mode, WienerSums& sums, int threads,
                       Control& control);

struct WienerResult {
  float* averages = nullptr;    // k·outBox² (zero for an empty class)
  float* even = nullptr;        // k·outBox²
  float* odd = nullptr;         // k·outBox²
  float* frc = nullptr;         // k·(outBox/2 + 1), NaN under 2 members
  float* resolution = nullptr;  // k, pixels of the output box (FRC < 0.143), NaN under 2 members
  float* ssnr = nullptr;        // k·(outBox/2 + 1): 2F/(1 − F) of the full average (F clamped), NaN under 2
};

// The averages from the sums (see the header comment); `mode` as given to accumulate_wiener.
void finalize_wiener(const WienerSums& sums, WeightMode mode, WienerResult& out, int threads);

}  // namespace ack
