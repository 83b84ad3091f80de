#include "transform.h"

#include <cmath>

#include "parallel.h"

namespace ack {

void apply_alignment(const float* image, int box, double psiDegrees, double shiftX, double shiftY, bool mirror,
                     float* out) {
  const double c = box / 2;
  const double a = psiDegrees * M_PI / 180.0, cs = std::cos(a), sn = std::sin(a);
  auto pixel = [&](int64_t x, int64_t y) -> double {
    return (x < 0 || y < 0 || x >= box || y >= box) ? 0.0 : image[y * box + x];
  };
  for (int py = 0; py < box; ++py)
    for (int px = 0; px < box; ++px) {
      const double u = px - c, v = mirror ? c - py : py - c;
      const double x = c + cs * u + sn * v - shiftX, y = c - sn * u + cs * v - shiftY;  // R(−ψ)·(u, v)
      const double x0 = std::floor(x), y0 = std::floor(y), fx = x - x0, fy = y - y0;
      const int64_t i = int64_t(x0), j = int64_t(y0);
      out[size_t(py) * box + px] = float((1 - fx) * (1 - fy) * pixel(i, j) + fx * (1 - fy) * pixel(i + 1, j) +
                                         (1 - fx) * fy * pixel(i, j + 1) + fx * fy * pixel(i + 1, j + 1));
    }
}

void apply_poses(const float* images, int64_t n, int box, const float* psi, const float* shiftX, const float* shiftY,
                 const uint8_t* mirror, float* out, int threads, Control& control) {
  const size_t D = size_t(box) * box;
  control.setTotal(double(n));
  parallel_for(
      n, threads, &control,
      [&](int64_t i) {
        apply_alignment(images + i * D, box, psi[i], shiftX[i], shiftY[i], mirror[i] != 0, out + i * D);
        control.advance(1);
      },
      16);
}

}  // namespace ack
