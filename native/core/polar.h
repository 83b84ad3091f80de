// Polar resampling: rings r = firstRing..lastRing around the image centre (box/2, box/2),
// ring r with M_r samples (the smallest power of two ≥ 2πr) at angles θ_t = 2πt/M_r measured
// from the +x axis (columns) toward the +y axis (rows), bilinear interpolation, zero outside
// the image. Each ring is Fourier transformed (FFTW r2c) and only its harmonics
// m ≤ m_r = min(M_r/2 − 1, ⌊2πr·bandLimit⌋) are kept ("packed spectra").
//
// Every sample stands for the area 2πr/M_r around it, so the weighted inner product
//   ⟨x, y⟩_w = Σ_r (2πr/M_r) Σ_t x_r(θ_t)·y_r(θ_t)
// approximates the pixel inner product over the annulus; in terms of ring spectra (Parseval,
// kept harmonics only) it is Σ_r (2πr/M_r²)·[X_r(0)Y_r(0) + 2·Re Σ_{m=1..m_r} X_r(m)·conj(Y_r(m))].
#pragma once
#include <fftw3.h>

#include <complex>
#include <cstdint>
#include <vector>

namespace ack {

using cfloat = std::complex<float>;

struct PolarGrid {
  int box = 0, firstRing = 0, lastRing = 0;
  int rings = 0;                      // lastRing − firstRing + 1; ring index q = r − firstRing
  std::vector<int> samples;           // M_r per ring
  std::vector<int> sampleOffset;      // start of ring q in a row of samples (multiples of 8)
  int totalSamples = 0;               // Σ M_r (plus alignment padding)
  std::vector<int> keep;              // m_r per ring
  std::vector<float> weight;          // 2πr / M_r² per ring (the spectral weight)
  int mMax = 0;                       // max m_r
  std::vector<int> firstActive;       // per harmonic m ≤ mMax: first ring q with m_r ≥ m
  std::vector<int> harmonicOffset;    // per harmonic m: start of its block in packed spectra
  int packed = 0;                     // Σ_m (rings − firstActive[m]) = packed length of one row
  std::vector<fftwf_plan> ringPlans;  // r2c plan of each ring (made once, executed concurrently)

  PolarGrid(int box, int firstRing, int lastRing, double bandLimit);
  int active(int m) const { return rings - firstActive[m]; }
};

// Bilinear sampling tables for a set of sampling-centre offsets (dx, dy) in pixels, on images
// padded by `pad` zero pixels on every side (row width box + 2·pad). Offsets that differ by whole
// pixels share one table, moved (unless a sample would leave the image): the same weights.
class PolarSampler {
 public:
  PolarSampler(const PolarGrid& grid, const std::vector<double>& dx, const std::vector<double>& dy);
  int pad() const { return pad_; }
  int width() const { return width_; }
  int offsets() const { return int(dx_.size()); }
  // Copies a box×box image into a zeroed (box+2·pad)² buffer.
  void padImage(const float* image, float* padded) const;
  // Samples of every ring for centre offset `o` of a padded image (grid.totalSamples values).
  void sample(const float* padded, int o, float* out) const;

 private:
  const PolarGrid& grid_;
  std::vector<double> dx_, dy_;
  int pad_, width_;
  std::vector<int32_t> index_;  // per table and sample: top-left pixel in the padded image
  std::vector<float> w_;        // per table and sample: 4 bilinear weights
  std::vector<int> table_;      // per offset: its table
  std::vector<int32_t> delta_;  // per offset: whole-pixel move of its table (in padded pixels)
};

// Ring FFTs of one row of samples into a block of `rows` packed spectra, laid out per harmonic
// as sums and differences of the real and imaginary parts: block m (starting at
// rows·harmonicOffset[m] complex slots) holds, for each row `row`, active(m) values
// Re X_q(m) + Im X_q(m) and then active(m) values Re X_q(m) − Im X_q(m), for rings
// q = firstActive[m]..rings−1, each multiplied by `scale[q]` (nullptr: 1). Read as floats, block m
// is a (2·rows) × active(m) real matrix whose rows alternate sums U and differences V: the layout
// of the per-harmonic real GEMMs in align.cpp, whose four products U·U', U·V', V·U', V·V' of an
// image and a reference are directly the spectra of the correlations of the image and of its
// mirror image (the conjugated spectra), see align.cpp. `scratch` holds ≥ M_max/2+1 complex values
// and `samples` is fftwf_alloc'd (ring offsets keep it aligned). Returns the weighted norm
// ⟨x,x⟩_w of the row (kept harmonics only).
double ring_spectra(const PolarGrid& grid, float* samples, fftwf_complex* scratch, const float* scale, int rows,
                    int row, cfloat* out);

}  // namespace ack
