#include "wiener.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "average.h"
#include "ctf.h"
#include "fft_plans.h"
#include "parallel.h"
#include "transform.h"

namespace ack {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kFrcFloor = 1e-3, kFrcCeiling = 1 - 1e-6;

// Row of the input r2c grid (box) holding the output grid's row y (outBox), or −1 when the output
// frequency is beyond the input's Nyquist (cannot happen for outBox ≤ box).
int source_row(int y, int outBox, int box) {
  const int fy = y <= outBox / 2 ? y : y - outBox;
  return fy >= 0 ? fy : fy + box;
}

// Shell of the output grid's coefficient (y, x): round(|(fx, fy)|).
int shell_of(int y, int x, int outBox) {
  const int fy = y <= outBox / 2 ? y : y - outBox;
  return int(std::lround(std::sqrt(double(x) * x + double(fy) * fy)));
}

// Hermitian weight of column x: the coefficients with 0 < x < outBox/2 stand for their conjugates too.
double hermitian(int x, int outBox) { return (x == 0 || 2 * x == outBox) ? 1.0 : 2.0; }

}  // namespace

void accumulate_wiener(const WienerParticles& pt, WeightMode mode, WienerSums& sums, int threads, Control& control) {
  const int N = pt.box, M = sums.outBox, hcN = N / 2 + 1, hc = M / 2 + 1;
  const size_t D = size_t(N) * N, G = size_t(M) * hc;
  std::vector<std::vector<int64_t>> byClass(sums.k);
  for (int64_t i = 0; i < pt.count; ++i)
    if (pt.assignment[i] >= 0 && pt.assignment[i] < sums.k) byClass[pt.assignment[i]].push_back(i);
  const fftwf_plan forward = plan_r2c_2d(N, N);
  const double step = 1.0 / (N * pt.pixelSize);  // 1/Å per frequency index
  control.setTotal(double(pt.count));
  Guard guard;
#pragma omp parallel num_threads(std::max(1, threads))
  {
    FftwBuffer<float> real;
    FftwBuffer<fftwf_complex> spectrum;
    guard.run([&] {
      real = fftw_buffer<float>(D);
      spectrum = fftw_buffer<fftwf_complex>(size_t(N) * hcN);
    });
#pragma omp for schedule(dynamic, 1)
    for (int j = 0; j < sums.k; ++j) {
      guard.run([&] {
        control.throwIfCancelled();
        for (int64_t i : byClass[j]) {
          apply_alignment(pt.images + i * D, N, pt.psi[i], pt.shiftX[i], pt.shiftY[i], pt.mirror[i] != 0, real.get());
          fftwf_execute_dft_r2c(forward, real.get(), spectrum.get());
          const bool evenHalf = sums.members[j] % 2 == 0;
          double* S = (evenHalf ? sums.sumEven : sums.sumOdd) + size_t(j) * G * 2;
          double* W = (evenHalf ? sums.weightEven : sums.weightOdd) + size_t(j) * G;
          const Ctf ctf(mode == WeightMode::Plain ? CtfParams{0, 0, 0, 300, 0, 0, 0}  // unused
                                                  : ctf_params(pt.ctf + i * kCtfParamCount));
          // raw-frame frequency of aligned frequency k: R(−ψ)·F^mirror·k
          const double a = pt.psi[i] * kPi / 180.0, c = std::cos(a), s = std::sin(a);
          const double flip = pt.mirror[i] ? -1.0 : 1.0;
          const double norm = 1.0 / double(D);  // so that the output box's inverse gives pixel values
          for (int y = 0; y < M; ++y) {
            const int fy = y <= M / 2 ? y : y - M;
            const fftwf_complex* row = spectrum.get() + size_t(source_row(y, M, N)) * hcN;
            for (int x = 0; x < hc; ++x) {
              double w = 1.0;
              if (mode != WeightMode::Plain) {
                const double kx = x * step, ky = flip * fy * step;
                w = ctf(c * kx + s * ky, -s * kx + c * ky);
                if (mode == WeightMode::PhaseFlip) w = w < 0 ? -1.0 : 1.0;
              }
              const size_t g = size_t(y) * hc + x;
              S[2 * g] += w * row[x][0] * norm;
              S[2 * g + 1] += w * row[x][1] * norm;
              W[g] += w * w;
            }
          }
          ++sums.members[j];
        }
        control.advance(int64_t(byClass[j].size()));
      });
    }
  }
  guard.rethrow();
}

void finalize_wiener(const WienerSums& sums, WeightMode mode, WienerResult& out, int threads) {
  const int M = sums.outBox, hc = M / 2 + 1, shells = M / 2 + 1;
  const size_t G = size_t(M) * hc, D = size_t(M) * M;
  const fftwf_plan inverse = plan_c2r_2d(M, M);
  parallel_for(sums.k, threads, nullptr, [&](int64_t j) {
    const int n = sums.members[j];
    const double* Se = sums.sumEven + size_t(j) * G * 2;
    const double* So = sums.sumOdd + size_t(j) * G * 2;
    const double* We = sums.weightEven + size_t(j) * G;
    const double* Wo = sums.weightOdd + size_t(j) * G;
    float* frc = out.frc + size_t(j) * shells;
    float* ssnr = out.ssnr + size_t(j) * shells;
    // FRC of the CTF-weighted half sums and the mean half weight per shell
    std::vector<double> cross(shells, 0), ne(shells, 0), no(shells, 0), weight(shells, 0), count(shells, 0);
    for (int y = 0; y < M; ++y)
      for (int x = 0; x < hc; ++x) {
        const int sh = shell_of(y, x, M);
        if (sh >= shells) continue;
        const size_t g = size_t(y) * hc + x;
        const double h = hermitian(x, M);
        cross[sh] += h * (Se[2 * g] * So[2 * g] + Se[2 * g + 1] * So[2 * g + 1]);
        ne[sh] += h * (Se[2 * g] * Se[2 * g] + Se[2 * g + 1] * Se[2 * g + 1]);
        no[sh] += h * (So[2 * g] * So[2 * g] + So[2 * g + 1] * So[2 * g + 1]);
        weight[sh] += h * 0.5 * (We[g] + Wo[g]);
        count[sh] += h;
      }
    std::vector<double> reg(shells, 0.0);  // 1/τ² per shell
    for (int sh = 0; sh < shells; ++sh) {
      const double d = std::sqrt(ne[sh] * no[sh]);
      const double f = d > 0 ? cross[sh] / d : 0.0;
      const double fc = std::clamp(f, kFrcFloor, kFrcCeiling);
      frc[sh] = n < 2 ? std::numeric_limits<float>::quiet_NaN() : float(f);
      ssnr[sh] = n < 2 ? std::numeric_limits<float>::quiet_NaN() : float(2 * fc / (1 - fc));
      if (mode == WeightMode::Wiener && n >= 2 && count[sh] > 0) reg[sh] = weight[sh] / count[sh] * (1 - fc) / fc;
    }
    out.resolution[j] = n < 2 ? std::numeric_limits<float>::quiet_NaN() : frc_resolution(frc, M);
    FftwBuffer<float> real = fftw_buffer<float>(D);
    FftwBuffer<fftwf_complex> spectrum = fftw_buffer<fftwf_complex>(G);
    auto image = [&](auto coefficient, float* dst) {
      for (int y = 0; y < M; ++y)
        for (int x = 0; x < hc; ++x) {
          const size_t g = size_t(y) * hc + x;
          const int sh = std::min(shell_of(y, x, M), shells - 1);
          double re = 0, im = 0;
          coefficient(g, sh, re, im);
          spectrum[g][0] = float(re);
          spectrum[g][1] = float(im);
        }
      fftwf_execute_dft_c2r(inverse, spectrum.get(), real.get());
      std::copy(real.get(), real.get() + D, dst);
    };
    auto divide = [](double re, double im, double w, double& ore, double& oim) {
      ore = w > 0 ? re / w : 0.0;
      oim = w > 0 ? im / w : 0.0;
    };
    image(
        [&](size_t g, int sh, double& re, double& im) {
          divide(Se[2 * g] + So[2 * g], Se[2 * g + 1] + So[2 * g + 1], We[g] + Wo[g] + (n > 0 ? reg[sh] : 0), re, im);
        },
        out.averages + j * D);
    image([&](size_t g, int sh, double& re, double& im) { divide(Se[2 * g], Se[2 * g + 1], We[g] + reg[sh], re, im); },
          out.even + j * D);
    image([&](size_t g, int sh, double& re, double& im) { divide(So[2 * g], So[2 * g + 1], Wo[g] + reg[sh], re, im); },
          out.odd + j * D);
  });
}

}  // namespace ack
