#include "preprocess.h"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <memory>
#include <stdexcept>
#include <vector>

#include "ctf.h"
#include "fft_plans.h"
#include "float16.h"
#include "parallel.h"

namespace ack {
namespace {

// Signed frequency of index i in a length-m DFT.
inline int signedFreq(int i, int m) { return i <= m / 2 ? i : i - m; }

Screen screen_image(const float* img, size_t pixels) {
  const float first = img[0];
  bool constant = true, outOfRange = false;
  for (size_t p = 0; p < pixels; ++p) {
    const float v = img[p];
    if (!std::isfinite(v)) return Screen::NonFinite;
    if (std::fabs(v) > kOutOfRangeBound) outOfRange = true;
    if (v != first) constant = false;
  }
  return outOfRange ? Screen::OutOfRange : constant ? Screen::Constant : Screen::Good;
}

// The Fourier step of one image (box N -> working box m): forward transform at N, then on the
// kept frequencies the CTF sign, the shift's phase and the 1/N² scale, then the inverse at m.
class FourierStep {
 public:
  FourierStep(int box, int outBox, bool zeroNyquist)
      : N_(box),
        m_(outBox),
        hn_(box / 2 + 1),
        hm_(outBox / 2 + 1),
        zeroNyquist_(zeroNyquist),
        forward_(plan_r2c_2d(box, box)),
        inverse_(plan_c2r_2d(outBox, outBox)) {}

  // Per-thread buffers.
  struct Buffers {
    FftwBuffer<float> real, small;
    FftwBuffer<fftwf_complex> spec, cropped;
    std::vector<std::complex<float>> rowPhase, colPhase;  // the shift's phase, per row and column
  };
  Buffers buffers() const {
    return {fftw_buffer<float>(size_t(N_) * N_),          fftw_buffer<float>(size_t(m_) * m_),
            fftw_buffer<fftwf_complex>(size_t(N_) * hn_), fftw_buffer<fftwf_complex>(size_t(m_) * hm_),
            std::vector<std::complex<float>>(m_),         std::vector<std::complex<float>>(hm_)};
  }

  void run(Buffers& b, const float* in, float* out, float shiftX, float shiftY, const Ctf* ctf,
           double pixelSize) const {
    const int N = N_, m = m_;
    std::copy(in, in + size_t(N) * N, b.real.get());
    fftwf_execute_dft_r2c(forward_, b.real.get(), b.spec.get());
    const float scale = 1.0f / (float(N) * float(N));
    const bool shifting = shiftX != 0.f || shiftY != 0.f;
    const double step = ctf ? 1.0 / (N * pixelSize) : 0.0;
    if (shifting) {  // translation by (sx, sy): exp(-2πi (fx·sx + fy·sy) / N), separable
      for (int x = 0; x < hm_; ++x) b.colPhase[x] = std::polar(1.0f, float(-2.0 * M_PI * double(x) * shiftX / N));
      for (int y = 0; y < m; ++y)
        b.rowPhase[y] = std::polar(1.0f, float(-2.0 * M_PI * double(signedFreq(y, m)) * shiftY / N));
    }
    for (int y = 0; y < m; ++y) {
      const int fy = signedFreq(y, m);
      const bool nyqY = (m % 2 == 0) && y == m / 2;
      const int iy = (fy + N) % N;
      for (int x = 0; x < hm_; ++x) {
        const bool nyqX = (m % 2 == 0) && x == m / 2;
        fftwf_complex& o = b.cropped[size_t(y) * hm_ + x];
        if (zeroNyquist_ && (nyqY || nyqX)) {
          o[0] = o[1] = 0.f;
          continue;
        }
        const fftwf_complex& s = b.spec[size_t(iy) * hn_ + x];
        float c = scale, si = 0.f;
        if (shifting) {
          const std::complex<float> ph = b.rowPhase[y] * b.colPhase[x];
          c = ph.real() * scale;
          si = ph.imag() * scale;
        }
        if (ctf && ctf->negative(x * step, fy * step)) {
          c = -c;
          si = -si;
        }
        o[0] = s[0] * c - s[1] * si;
        o[1] = s[0] * si + s[1] * c;
      }
    }
    fftwf_execute_dft_c2r(inverse_, b.cropped.get(), b.small.get());
    std::copy(b.small.get(), b.small.get() + size_t(m) * m, out);
  }

 private:
  int N_, m_, hn_, hm_;
  bool zeroNyquist_;
  fftwf_plan forward_, inverse_;
};

// The background (pixels beyond the radius, for the normalisation) and the soft mask's weight of
// every pixel of an m×m image (1 inside the radius, a raised cosine over `edge` pixels, zero
// beyond: kOutside), made once per call: the weights are the values the per-pixel formula gives.
struct MaskTable {
  static constexpr double kOutside = -1;
  std::vector<int32_t> background;
  std::vector<double> weight;
  explicit MaskTable(const PreprocessParams& p) {
    const int m = p.outBox, c = m / 2;
    const double r2 = p.radius * p.radius;
    weight.assign(size_t(m) * m, 1.0);
    for (int y = 0; y < m; ++y)
      for (int x = 0; x < m; ++x) {
        const double dx = x - c, dy = y - c;
        if (dx * dx + dy * dy > r2) background.push_back(y * m + x);
        const double r = std::sqrt(double(x - c) * (x - c) + double(y - c) * (y - c));
        if (r > p.radius + p.edge)
          weight[size_t(y) * m + x] = kOutside;
        else if (r > p.radius)
          weight[size_t(y) * m + x] = 0.5 * (1 + std::cos(M_PI * (r - p.radius) / p.edge));
      }
  }
};

// Normalise on the background, then mask, in place on an m×m image.
void normaliseAndMask(float* img, const PreprocessParams& p, const MaskTable& mask) {
  const int m = p.outBox;
  if (!p.normalise && !p.mask) return;
  double sum = 0, sum2 = 0;
  int64_t count = int64_t(mask.background.size());
  for (const int32_t j : mask.background) {
    const double v = img[j];
    sum += v;
    sum2 += v * v;
  }
  if (count < m) {
    sum = sum2 = 0;
    count = int64_t(m) * m;
    for (int64_t i = 0; i < count; ++i) {
      sum += img[i];
      sum2 += double(img[i]) * img[i];
    }
  }
  const double mean = p.normalise ? sum / count : 0.0;
  const double var = std::max(0.0, sum2 / count - (sum / count) * (sum / count));
  const double inv = p.normalise && var > 0 ? 1.0 / std::sqrt(var) : 1.0;
  const size_t pixels = size_t(m) * m;
  for (size_t j = 0; j < pixels; ++j) {
    double v = (img[j] - mean) * inv;
    if (p.mask) {
      const double w = mask.weight[j];
      if (w == MaskTable::kOutside)
        v = 0;
      else if (w != 1)
        v *= w;
    }
    img[j] = float(v);
  }
}

}  // namespace

void fourier_crop(const float* in, int box, int outBox, float* out, float shiftX, float shiftY) {
  const FourierStep step(box, outBox, true);
  FourierStep::Buffers buf = step.buffers();
  step.run(buf, in, out, shiftX, shiftY, nullptr, 0);
}

void preprocess_images(const float* in, int64_t n, const PreprocessParams& p, float* out, int threads,
                       Control& control) {
  if (p.box < 2 || p.outBox < 2 || p.outBox > p.box) throw std::invalid_argument("working box must be in [2, box]");
  if (p.ctf && !(p.pixelSize > 0)) throw std::invalid_argument("phase flipping needs a positive pixel size");
  const bool zeroNyquist = p.outBox < p.box || p.shifts != nullptr;
  const bool fourier = zeroNyquist || p.ctf != nullptr;
  const size_t inSize = size_t(p.box) * p.box, outSize = size_t(p.outBox) * p.outBox;
  std::unique_ptr<FourierStep> step;
  if (fourier) step = std::make_unique<FourierStep>(p.box, p.outBox, zeroNyquist);
  control.setTotal(double(n));
  const MaskTable mask(p);
  Guard guard;
#pragma omp parallel num_threads(std::max(1, threads))
  {
    FourierStep::Buffers buf;
    std::vector<float> decoded;
    guard.run([&] {
      if (step) buf = step->buffers();
      if (p.half) decoded.resize(inSize);
    });
#pragma omp for schedule(dynamic, 16)
    for (int64_t i = 0; i < n; ++i) {
      guard.run([&] {
        if ((i & 15) == 0) control.throwIfCancelled();
        const float* img = in + size_t(i) * inSize;
        if (p.half) {
          decode_float16(p.half + size_t(i) * inSize, decoded.data(), inSize);
          img = decoded.data();
        }
        float* o = out + size_t(i) * outSize;
        if (p.screen) {
          const Screen s = screen_image(img, inSize);
          p.screen[i] = uint8_t(s);
          if (s != Screen::Good) {
            std::fill(o, o + outSize, 0.f);
            control.advance(1);
            return;
          }
        }
        if (step) {
          std::unique_ptr<Ctf> ctf;
          if (p.ctf) ctf = std::make_unique<Ctf>(ctf_params(p.ctf + kCtfParamCount * i));
          step->run(buf, img, o, p.shifts ? p.shifts[2 * i] : 0.f, p.shifts ? p.shifts[2 * i + 1] : 0.f, ctf.get(),
                    p.pixelSize);
        } else {
          std::copy(img, img + inSize, o);
        }
        if (p.invert)
          for (size_t j = 0; j < outSize; ++j) o[j] = -o[j];
        normaliseAndMask(o, p, mask);
        if (p.roundFloat16) round_float16(o, outSize);
        control.advance(1);
      });
    }
  }
  guard.rethrow();
}

}  // namespace ack

namespace ack {

void invariant_features(const float* in, int64_t n, int m, int rings, int angles, int harmonics, float* out,
                        int threads, Control& control) {
  if (rings < 1 || rings + 2 > m / 2 || angles < 2 || harmonics < 1 || harmonics > angles)
    throw std::invalid_argument("invariant features: need 1 <= rings <= m/2 - 2 and 1 <= harmonics <= angles");
  const int hm = m / 2 + 1;
  const fftwf_plan plan = plan_r2c_2d(m, m);
  std::vector<double> cosT(size_t(angles) * harmonics), sinT(size_t(angles) * harmonics);
  for (int a = 0; a < angles; ++a)
    for (int h = 0; h < harmonics; ++h) {
      cosT[size_t(a) * harmonics + h] = std::cos(2 * M_PI * h * a / angles);
      sinT[size_t(a) * harmonics + h] = std::sin(2 * M_PI * h * a / angles);
    }
  const int F = rings * harmonics;
  control.setTotal(double(n));
  Guard guard;
#pragma omp parallel num_threads(std::max(1, threads))
  {
    FftwBuffer<float> realBuf;
    FftwBuffer<fftwf_complex> specBuf;
    guard.run([&] {
      realBuf = fftw_buffer<float>(size_t(m) * m);
      specBuf = fftw_buffer<fftwf_complex>(size_t(m) * hm);
    });
    float* real = realBuf.get();
    fftwf_complex* spec = specBuf.get();
    std::vector<double> power(size_t(m) * m), ring(angles);
#pragma omp for schedule(dynamic, 16)
    for (int64_t i = 0; i < n; ++i) {
      guard.run([&] {
        if (!real || !spec) throw std::bad_alloc();
        if ((i & 15) == 0) control.throwIfCancelled();
        std::copy(in + size_t(i) * m * m, in + size_t(i + 1) * m * m, real);
        fftwf_execute_dft_r2c(plan, real, spec);
        std::fill(power.begin(), power.end(), 0.0);
        // full centred power spectrum: power[(fy + m/2)·m + (fx + m/2)] for fx, fy in [−m/2, m/2)
        for (int y = 0; y < m; ++y)
          for (int x = 0; x < hm; ++x) {
            const fftwf_complex& s = spec[size_t(y) * hm + x];
            const double p = double(s[0]) * s[0] + double(s[1]) * s[1];
            const int fy = y <= m / 2 ? y : y - m;
            const int fx = x;
            for (int sign = -1; sign <= 1; sign += 2) {
              const int X = sign * fx + m / 2, Y = sign * fy + m / 2;
              if (X >= 0 && X < m && Y >= 0 && Y < m) power[size_t(Y) * m + X] = p;
            }
          }
        float* o = out + size_t(i) * F;
        for (int r = 0; r < rings; ++r) {
          const double radius = r + 2;
          for (int a = 0; a < angles; ++a) {
            const double t = M_PI * a / angles;
            const double fx = radius * std::cos(t) + m / 2, fy = radius * std::sin(t) + m / 2;
            const int x0 = int(std::floor(fx)), y0 = int(std::floor(fy));
            const double ax = fx - x0, ay = fy - y0;
            auto at = [&](int X, int Y) { return power[size_t(Y) * m + X]; };
            const double v = (1 - ay) * ((1 - ax) * at(x0, y0) + ax * at(x0 + 1, y0)) +
                             ay * ((1 - ax) * at(x0, y0 + 1) + ax * at(x0 + 1, y0 + 1));
            ring[a] = std::log1p(v);
          }
          for (int h = 0; h < harmonics; ++h) {
            double re = 0, im = 0;
            for (int a = 0; a < angles; ++a) {
              re += ring[a] * cosT[size_t(a) * harmonics + h];
              im += ring[a] * sinT[size_t(a) * harmonics + h];
            }
            o[r * harmonics + h] = float(std::sqrt(re * re + im * im) / angles);
          }
        }
        control.advance(1);
      });
    }
  }
  guard.rethrow();
}

}  // namespace ack
