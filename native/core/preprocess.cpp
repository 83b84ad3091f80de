#include "preprocess.h"

#include "fftw_planner.h"

#include <fftw3.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace ack {
namespace {

// FFTW plans for one (box, outBox) pair, made under the planner mutex; executed with the
// new-array interface on per-thread aligned buffers (execute is thread-safe).
struct CropPlans {
  int box, outBox;
  fftwf_plan forward = nullptr;  // r2c box×box
  fftwf_plan inverse = nullptr;  // c2r outBox×outBox
  CropPlans(int b, int m) : box(b), outBox(m) {
    std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    float* r = fftwf_alloc_real(size_t(b) * b);
    fftwf_complex* c = fftwf_alloc_complex(size_t(b) * (b / 2 + 1));
    forward = fftwf_plan_dft_r2c_2d(b, b, r, c, FFTW_ESTIMATE);
    inverse = fftwf_plan_dft_c2r_2d(m, m, c, r, FFTW_ESTIMATE);
    fftwf_free(r);
    fftwf_free(c);
    if (!forward || !inverse) throw std::runtime_error("FFTW could not plan the Fourier crop");
  }
  ~CropPlans() {
    std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    fftwf_destroy_plan(forward);
    fftwf_destroy_plan(inverse);
  }
};

struct Buffers {
  float* real;
  fftwf_complex* spec;
  fftwf_complex* cropped;
  explicit Buffers(int box, int outBox) {
    real = fftwf_alloc_real(size_t(box) * box);
    spec = fftwf_alloc_complex(size_t(box) * (box / 2 + 1));
    cropped = fftwf_alloc_complex(size_t(outBox) * (outBox / 2 + 1));
    if (!real || !spec || !cropped) throw std::bad_alloc();
  }
  ~Buffers() {
    fftwf_free(real);
    fftwf_free(spec);
    fftwf_free(cropped);
  }
};

// Signed frequency of index i in a length-m DFT.
inline int signedFreq(int i, int m) { return i <= m / 2 ? i : i - m; }

void crop(const CropPlans& plans, Buffers& buf, const float* in, float* out, float shiftX, float shiftY) {
  const int N = plans.box, m = plans.outBox;
  std::copy(in, in + size_t(N) * N, buf.real);
  fftwf_execute_dft_r2c(plans.forward, buf.real, buf.spec);
  const int hn = N / 2 + 1, hm = m / 2 + 1;
  const float scale = 1.0f / (float(N) * float(N));
  for (int y = 0; y < m; ++y) {
    const int fy = signedFreq(y, m);
    const bool nyqY = (m % 2 == 0) && y == m / 2;
    const int iy = (fy + N) % N;
    for (int x = 0; x < hm; ++x) {
      const bool nyqX = (m % 2 == 0) && x == m / 2;
      fftwf_complex& o = buf.cropped[size_t(y) * hm + x];
      if (nyqY || nyqX) {
        o[0] = o[1] = 0.f;
      } else {
        const fftwf_complex& s = buf.spec[size_t(iy) * hn + x];
        // translation by (sx, sy): multiply by exp(-2πi (fx·sx + fy·sy) / N)
        const double a = -2.0 * M_PI * (double(x) * shiftX + double(fy) * shiftY) / N;
        const float c = float(std::cos(a)) * scale, si = float(std::sin(a)) * scale;
        o[0] = s[0] * c - s[1] * si;
        o[1] = s[0] * si + s[1] * c;
      }
    }
  }
  fftwf_execute_dft_c2r(plans.inverse, buf.cropped, out);
}

// Normalise on the background, then mask, in place on an m×m image.
void normaliseAndMask(float* img, const PreprocessParams& p) {
  const int m = p.outBox;
  const int c = m / 2;
  const double r2 = p.radius * p.radius;
  double sum = 0, sum2 = 0;
  int64_t count = 0;
  for (int y = 0; y < m; ++y)
    for (int x = 0; x < m; ++x) {
      const double dx = x - c, dy = y - c;
      if (dx * dx + dy * dy > r2) {
        const double v = img[y * m + x];
        sum += v;
        sum2 += v * v;
        ++count;
      }
    }
  if (count < m) {
    sum = sum2 = 0;
    count = int64_t(m) * m;
    for (int64_t i = 0; i < count; ++i) {
      sum += img[i];
      sum2 += double(img[i]) * img[i];
    }
  }
  const double mean = sum / count;
  const double var = std::max(0.0, sum2 / count - mean * mean);
  const double inv = var > 0 ? 1.0 / std::sqrt(var) : 1.0;
  for (int y = 0; y < m; ++y)
    for (int x = 0; x < m; ++x) {
      double v = (img[y * m + x] - mean) * inv;
      if (p.mask) {
        const double r = std::sqrt(double(x - c) * (x - c) + double(y - c) * (y - c));
        if (r > p.radius + p.edge) v = 0;
        else if (r > p.radius) v *= 0.5 * (1 + std::cos(M_PI * (r - p.radius) / p.edge));
      }
      img[y * m + x] = float(v);
    }
}

}  // namespace

void fourier_crop(const float* in, int box, int outBox, float* out, float shiftX, float shiftY) {
  CropPlans plans(box, outBox);
  Buffers buf(box, outBox);
  crop(plans, buf, in, out, shiftX, shiftY);
}

void preprocess_images(const float* in, int64_t n, const PreprocessParams& p, float* out, int threads,
                       Control& control) {
  if (p.box < 2 || p.outBox < 2 || p.outBox > p.box) throw std::invalid_argument("working box must be in [2, box]");
  const bool cropping = p.outBox < p.box || p.shifts != nullptr;
  const size_t inSize = size_t(p.box) * p.box, outSize = size_t(p.outBox) * p.outBox;
  std::unique_ptr<CropPlans> plans;
  if (cropping) plans = std::make_unique<CropPlans>(p.box, p.outBox);
  control.setTotal(double(n));
  Guard guard;
#pragma omp parallel num_threads(std::max(1, threads))
  {
    std::unique_ptr<Buffers> buf;
    guard.run([&] {
      if (cropping) buf = std::make_unique<Buffers>(p.box, p.outBox);
    });
#pragma omp for schedule(dynamic, 16)
    for (int64_t i = 0; i < n; ++i) {
      guard.run([&] {
        if ((i & 15) == 0) control.throwIfCancelled();
        float* o = out + size_t(i) * outSize;
        if (cropping)
          crop(*plans, *buf, in + size_t(i) * inSize, o, p.shifts ? p.shifts[2 * i] : 0.f,
               p.shifts ? p.shifts[2 * i + 1] : 0.f);
        else std::copy(in + size_t(i) * inSize, in + size_t(i + 1) * inSize, o);
        if (p.invert)
          for (size_t j = 0; j < outSize; ++j) o[j] = -o[j];
        normaliseAndMask(o, p);
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
  fftwf_plan plan;
  {
    std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    float* r = fftwf_alloc_real(size_t(m) * m);
    fftwf_complex* c = fftwf_alloc_complex(size_t(m) * hm);
    plan = fftwf_plan_dft_r2c_2d(m, m, r, c, FFTW_ESTIMATE);
    fftwf_free(r);
    fftwf_free(c);
  }
  if (!plan) throw std::runtime_error("FFTW could not plan the invariant features");
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
    float* real = fftwf_alloc_real(size_t(m) * m);
    fftwf_complex* spec = fftwf_alloc_complex(size_t(m) * hm);
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
    fftwf_free(real);
    fftwf_free(spec);
  }
  {
    std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    fftwf_destroy_plan(plan);
  }
  guard.rethrow();
}

}  // namespace ack
