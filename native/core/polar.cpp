#include "polar.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "fft_plans.h"

namespace ack {

PolarGrid::PolarGrid(int box_, int first, int last, double bandLimit) : box(box_), firstRing(first), lastRing(last) {
  if (first < 1 || last < first) throw std::invalid_argument("polar grid: need 1 <= firstRing <= lastRing");
  if (!(bandLimit > 0)) throw std::invalid_argument("polar grid: bandLimit must be > 0");
  rings = last - first + 1;
  int offset = 0;
  for (int r = first; r <= last; ++r) {
    int M = 8;
    while (M < 2.0 * M_PI * r) M *= 2;
    samples.push_back(M);
    sampleOffset.push_back(offset);
    offset += M;  // M ≥ 8, so every ring starts 32-byte aligned
    int m = std::min(M / 2 - 1, int(std::floor(2.0 * M_PI * r * bandLimit + 1e-9)));
    keep.push_back(std::max(0, m));
    weight.push_back(float(2.0 * M_PI * r / (double(M) * M)));
    ringPlans.push_back(plan_r2c_many(M, 1, 1, M));
  }
  totalSamples = offset;
  mMax = *std::max_element(keep.begin(), keep.end());
  for (int m = 0; m <= mMax; ++m) {
    int q = 0;
    while (keep[q] < m) ++q;  // keep[] does not decrease with r
    firstActive.push_back(q);
    harmonicOffset.push_back(packed);
    packed += rings - q;
  }
}

PolarSampler::PolarSampler(const PolarGrid& grid, const std::vector<double>& dx, const std::vector<double>& dy)
    : grid_(grid), dx_(dx), dy_(dy) {
  double reach = 0;
  for (size_t o = 0; o < dx.size(); ++o) reach = std::max({reach, std::fabs(dx[o]), std::fabs(dy[o])});
  pad_ = int(std::ceil(reach)) + 2;
  width_ = grid.box + 2 * pad_;
  const int S = grid.totalSamples;
  const double c = grid.box / 2;
  const double lo = -pad_, hi = grid.box + pad_ - 2;  // keep (x0+1, y0+1) inside the padded image
  // The table of centre offset (dx, dy); returns whether every sample is inside, unclamped.
  auto make_table = [&](double ox, double oy, int32_t* index, float* w) {
    bool regular = true;
    for (int q = 0; q < grid.rings; ++q) {
      const int r = grid.firstRing + q, M = grid.samples[q];
      for (int t = 0; t < M; ++t) {
        const double th = 2.0 * M_PI * t / M;
        const double x = c + ox + r * std::cos(th), y = c + oy + r * std::sin(th);
        const size_t s = size_t(grid.sampleOffset[q]) + t;
        if (x < lo || y < lo || x > hi + 1 || y > hi + 1) {  // outside: weights stay 0
          regular = false;
          continue;
        }
        if (x >= hi || y >= hi) regular = false;  // clamped below
        const double x0 = std::min(std::floor(x), hi), y0 = std::min(std::floor(y), hi);
        const float fx = float(x - x0), fy = float(y - y0);
        index[s] = int32_t((y0 + pad_) * width_ + (x0 + pad_));
        w[4 * s + 0] = (1 - fx) * (1 - fy);
        w[4 * s + 1] = fx * (1 - fy);
        w[4 * s + 2] = (1 - fx) * fy;
        w[4 * s + 3] = fx * fy;
      }
    }
    return regular;
  };
  // Offsets whose fractional parts are the same share the table of the first of them, moved by
  // whole pixels (when no sample of either leaves the image or is clamped), so that a grid of
  // whole-pixel steps has one table (and half-pixel steps four) that stays in cache.
  std::vector<int32_t> ownIndex(S);
  std::vector<float> ownW(size_t(S) * 4);
  std::vector<int> regularTable;  // per table: the offset it was made for, or −1 if irregular
  for (size_t o = 0; o < dx.size(); ++o) {
    const double fx = dx[o] - std::floor(dx[o]), fy = dy[o] - std::floor(dy[o]);
    std::fill(ownIndex.begin(), ownIndex.end(), 0);
    std::fill(ownW.begin(), ownW.end(), 0.f);
    const bool regular = make_table(dx[o], dy[o], ownIndex.data(), ownW.data());
    int shared = -1;
    for (size_t t = 0; regular && t < regularTable.size() && shared < 0; ++t) {
      const int p = regularTable[t];
      if (p >= 0 && std::fabs(dx[p] - std::floor(dx[p]) - fx) < 1e-9 &&
          std::fabs(dy[p] - std::floor(dy[p]) - fy) < 1e-9)
        shared = int(t);
    }
    if (shared >= 0) {
      const int p = regularTable[shared];
      table_.push_back(shared);
      delta_.push_back(
          int32_t((std::floor(dy[o]) - std::floor(dy[p])) * width_ + (std::floor(dx[o]) - std::floor(dx[p]))));
      continue;
    }
    table_.push_back(int(regularTable.size()));
    delta_.push_back(0);
    regularTable.push_back(regular ? int(o) : -1);
    index_.insert(index_.end(), ownIndex.begin(), ownIndex.end());
    w_.insert(w_.end(), ownW.begin(), ownW.end());
  }
}

void PolarSampler::padImage(const float* image, float* padded) const {
  const int box = grid_.box;
  std::fill(padded, padded + size_t(width_) * width_, 0.f);
  for (int y = 0; y < box; ++y)
    std::copy(image + size_t(y) * box, image + size_t(y + 1) * box, padded + size_t(y + pad_) * width_ + pad_);
}

void PolarSampler::sample(const float* padded, int o, float* out) const {
  const int S = grid_.totalSamples, W = width_;
  const int32_t* idx = index_.data() + size_t(table_[o]) * S;
  const float* w = w_.data() + size_t(table_[o]) * S * 4;
  const float* base = padded + delta_[o];
  for (int s = 0; s < S; ++s) {
    const float* p = base + idx[s];
    out[s] = w[4 * s] * p[0] + w[4 * s + 1] * p[1] + w[4 * s + 2] * p[W] + w[4 * s + 3] * p[W + 1];
  }
}

double ring_spectra(const PolarGrid& grid, float* samples, fftwf_complex* scratch, const float* scale, int rows,
                    int row, cfloat* out) {
  double norm = 0;
  for (int q = 0; q < grid.rings; ++q) {
    fftwf_execute_dft_r2c(grid.ringPlans[q], samples + grid.sampleOffset[q], scratch);
    const cfloat* X = reinterpret_cast<const cfloat*>(scratch);
    double e = double(X[0].real()) * X[0].real();
    for (int m = 1; m <= grid.keep[q]; ++m) e += 2.0 * std::norm(X[m]);
    norm += grid.weight[q] * e;
    const float s = scale ? scale[q] : 1.f;
    for (int m = 0; m <= grid.keep[q]; ++m) {
      const int act = grid.active(m);
      float* re = reinterpret_cast<float*>(out + size_t(rows) * grid.harmonicOffset[m]) + size_t(row) * 2 * act +
                  (q - grid.firstActive[m]);
      re[0] = s * (X[m].real() + X[m].imag());
      re[act] = s * (X[m].real() - X[m].imag());
    }
  }
  return norm;
}

}  // namespace ack
