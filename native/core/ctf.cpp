#include "ctf.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "fft_plans.h"

namespace ack {

namespace {
constexpr double kPi = 3.14159265358979323846;
}  // namespace

Ctf::Ctf(const CtfParams& p) {
  const double volts = p.voltage * 1e3;
  const double lambda = 12.2643247 / std::sqrt(volts * (1.0 + volts * 0.978466e-6));
  mean_ = -0.5 * (p.defocusU + p.defocusV);
  deviation_ = -0.5 * (p.defocusU - p.defocusV);
  const double angle = p.defocusAngle * kPi / 180.0;
  cos2a_ = std::cos(2.0 * angle);
  sin2a_ = std::sin(2.0 * angle);
  k1_ = kPi * lambda;
  k2_ = 0.5 * kPi * (p.cs * 1e7) * lambda * lambda * lambda;
  const double q0 = p.amplitudeContrast;
  phase_ = p.phaseShift * kPi / 180.0 + std::atan(q0 / std::sqrt(1.0 - q0 * q0));
}

double Ctf::operator()(double fx, double fy) const {
  const double u2 = fx * fx + fy * fy;
  // cos 2(θ − angle) with θ = atan2(fy, fx), without the trigonometry: cos 2θ = (fx² − fy²)/u²,
  // sin 2θ = 2·fx·fy/u².
  const double df =
      u2 == 0.0 ? mean_ : mean_ + deviation_ * ((fx * fx - fy * fy) * cos2a_ + 2.0 * fx * fy * sin2a_) / u2;
  const double gamma = k1_ * df * u2 + k2_ * u2 * u2 - phase_;
  return -std::sin(gamma);
}

bool Ctf::negative(double fx, double fy) const {
  const double u2 = fx * fx + fy * fy;
  const double df =
      u2 == 0.0 ? mean_ : mean_ + deviation_ * ((fx * fx - fy * fy) * cos2a_ + 2.0 * fx * fy * sin2a_) / u2;
  const double gamma = k1_ * df * u2 + k2_ * u2 * u2 - phase_;
  // −sin γ < 0 ⇔ γ ∈ (2jπ, (2j+1)π) ⇔ q = ⌊γ/π⌋ is even and γ ≠ qπ
  const double q = std::floor(gamma / kPi);
  return std::fmod(q, 2.0) == 0.0 && gamma != q * kPi;
}

void ctf_halfplane(const CtfParams& p, int box, double pixelSize, float* out) {
  const Ctf ctf(p);
  const int half = box / 2 + 1;
  const double step = 1.0 / (box * pixelSize);
  for (int ky = 0; ky < box; ++ky) {
    const int fy = ky <= box / 2 ? ky : ky - box;
    for (int kx = 0; kx < half; ++kx) out[ky * half + kx] = float(ctf(kx * step, fy * step));
  }
}

void apply_ctf(const float* in, float* out, int64_t n, int box, double pixelSize, const double* params, CtfMode mode,
               int threads, Control& control) {
  const fftwf_plan forward = plan_r2c_2d(box, box), inverse = plan_c2r_2d(box, box);
  const int half = box / 2 + 1;
  const size_t pixels = size_t(box) * box;
  const float norm = 1.0f / float(pixels);
  control.setTotal(double(n));
  Guard guard;
#pragma omp parallel num_threads(std::max(1, threads))
  {
    FftwBuffer<float> real;
    FftwBuffer<fftwf_complex> spectrum;
    std::vector<float> ctf;
    guard.run([&] {
      real = fftw_buffer<float>(pixels);
      spectrum = fftw_buffer<fftwf_complex>(size_t(box) * half);
      ctf.resize(size_t(box) * half);
    });
#pragma omp for schedule(dynamic, 8)
    for (int64_t i = 0; i < n; ++i) {
      guard.run([&] {
        control.throwIfCancelled();
        ctf_halfplane(ctf_params(params + kCtfParamCount * i), box, pixelSize, ctf.data());
        std::copy_n(in + i * pixels, pixels, real.get());
        fftwf_execute_dft_r2c(forward, real.get(), spectrum.get());
        for (size_t k = 0; k < ctf.size(); ++k) {
          const float c = mode == CtfMode::Multiply ? ctf[k] : (ctf[k] < 0.f ? -1.f : 1.f);
          spectrum[k][0] *= c * norm;
          spectrum[k][1] *= c * norm;
        }
        fftwf_execute_dft_c2r(inverse, spectrum.get(), real.get());
        std::copy_n(real.get(), pixels, out + i * pixels);
        control.advance(1);
      });
    }
  }
  guard.rethrow();
}

}  // namespace ack
