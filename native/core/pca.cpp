#include "pca.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "blas.h"
#include "parallel.h"

extern "C" void ssyevr_(const char* jobz, const char* range, const char* uplo, const int* n, float* a, const int* lda,
                        const float* vl, const float* vu, const int* il, const int* iu, const float* abstol, int* m,
                        float* w, float* z, const int* ldz, int* isuppz, float* work, const int* lwork, int* iwork,
                        const int* liwork, int* info);

namespace ack {
namespace {

constexpr int64_t kTile = 256;
}  // namespace
constexpr int64_t kTileProject = 128;
namespace {

// C (s×s, row-major, lower triangle filled) = A·Aᵀ for A (s×len, row-major), computed on
// fixed tiles of rows of C so every entry comes from the same single-threaded sgemm whatever
// the thread count.
void gram(const float* A, int64_t s, int64_t len, float* C, int threads, Control& control) {
  const int64_t tiles = (s + kTile - 1) / kTile;
  control.setTotal(double(tiles));
  parallel_for(tiles, threads, &control, [&](int64_t t) {
    const int64_t r0 = t * kTile, rows = std::min(kTile, s - r0);
    // rows r0..r0+rows against columns 0..r0+rows (lower triangle and the diagonal block)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(rows), int(r0 + rows), int(len), 1.f, A + r0 * len,
                int(len), A, int(len), 0.f, C + r0 * s, int(s));
    control.advance(1);
  });
}

// Top q eigenpairs of the symmetric s×s matrix C (row-major, lower triangle valid; destroyed).
// values[q] decreasing, vectors q×s row-major.
void topEigen(float* C, int s, int q, float* values, float* vectors) {
  // Row-major lower = column-major upper.
  const char jobz = 'V', range = 'I', uplo = 'U';
  const int il = s - q + 1, iu = s;
  const float vl = 0, vu = 0, abstol = 0;
  int found = 0, info = 0, lwork = -1, liwork = -1, iworkQuery = 0;
  float workQuery = 0;
  std::vector<float> w(s), z(size_t(s) * q);
  std::vector<int> isuppz(2 * size_t(q));
  ssyevr_(&jobz, &range, &uplo, &s, C, &s, &vl, &vu, &il, &iu, &abstol, &found, w.data(), z.data(), &s, isuppz.data(),
          &workQuery, &lwork, &iworkQuery, &liwork, &info);
  if (info != 0) throw std::runtime_error("LAPACK ssyevr workspace query failed (info " + std::to_string(info) + ")");
  lwork = int(workQuery);
  liwork = iworkQuery;
  std::vector<float> work(std::max(1, lwork));
  std::vector<int> iwork(std::max(1, liwork));
  ssyevr_(&jobz, &range, &uplo, &s, C, &s, &vl, &vu, &il, &iu, &abstol, &found, w.data(), z.data(), &s, isuppz.data(),
          work.data(), &lwork, iwork.data(), &liwork, &info);
  if (info != 0) throw std::runtime_error("LAPACK ssyevr failed (info " + std::to_string(info) + ")");
  if (found != q) throw std::runtime_error("LAPACK ssyevr returned fewer eigenvectors than asked");
  // ssyevr returns ascending eigenvalues; column j of z (column-major) is vector j.
  for (int j = 0; j < q; ++j) {
    const int src = q - 1 - j;
    values[j] = w[src];
    std::copy(z.begin() + size_t(src) * s, z.begin() + size_t(src + 1) * s, vectors + size_t(j) * s);
  }
}

void fixSign(float* v, int64_t d) {
  int64_t best = 0;
  for (int64_t i = 1; i < d; ++i)
    if (std::fabs(v[i]) > std::fabs(v[best])) best = i;
  if (v[best] < 0)
    for (int64_t i = 0; i < d; ++i) v[i] = -v[i];
}

}  // namespace

void pca(const float* X, int64_t n, int64_t d, int q, PcaResult& res, int threads, Control& control) {
  blas_init();
  if (q < 1 || q > std::min(n, d)) throw std::invalid_argument("the number of components must be in [1, min(n, d)]");
  // mean (double accumulation, fixed order)
  std::vector<double> mean(d, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) mean[j] += X[i * d + j];
  for (int64_t j = 0; j < d; ++j) res.mean[j] = float(mean[j] / double(n));
  std::vector<float> Xc(size_t(n) * d);
#pragma omp parallel for num_threads(std::max(1, threads))
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) Xc[size_t(i) * d + j] = X[i * d + j] - res.mean[j];
  control.throwIfCancelled();
  if (d <= n) {
    // covariance: C = Xcᵀ·Xc (d×d); transpose Xc once so the Gram kernel serves both cases.
    std::vector<float> Xt(size_t(d) * n);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < d; ++j) Xt[size_t(j) * n + i] = Xc[size_t(i) * d + j];
    std::vector<float>().swap(Xc);
    std::vector<float> C(size_t(d) * d);
    gram(Xt.data(), d, n, C.data(), threads, control);
    topEigen(C.data(), int(d), q, res.eigenvalues, res.basis);
  } else {
    // Gram: G = Xc·Xcᵀ (n×n); eigenvector u of G gives basis v = Xcᵀu / ‖Xcᵀu‖.
    std::vector<float> G(size_t(n) * n), U(size_t(q) * n);
    gram(Xc.data(), n, d, G.data(), threads, control);
    topEigen(G.data(), int(n), q, res.eigenvalues, U.data());
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, q, int(d), int(n), 1.f, U.data(), int(n), Xc.data(), int(d),
                0.f, res.basis, int(d));
    for (int j = 0; j < q; ++j) {
      double norm = 0;
      float* v = res.basis + size_t(j) * d;
      for (int64_t i = 0; i < d; ++i) norm += double(v[i]) * v[i];
      const float inv = norm > 0 ? float(1.0 / std::sqrt(norm)) : 0.f;
      for (int64_t i = 0; i < d; ++i) v[i] *= inv;
    }
  }
  for (int j = 0; j < q; ++j) {
    res.eigenvalues[j] = std::max(0.f, res.eigenvalues[j]) / float(n);
    fixSign(res.basis + size_t(j) * d, d);
  }
}

}  // namespace ack

namespace ack {

void pca_project(const float* X, int64_t n, int64_t d, const float* basis, int q, const float* mean, float* out,
                 int threads, Control& control) {
  blas_init();
  std::vector<float> bm(q);  // basis·mean, subtracted from X·basisᵀ
  for (int j = 0; j < q; ++j) {
    double s = 0;
    for (int64_t i = 0; i < d; ++i) s += double(basis[size_t(j) * d + i]) * mean[i];
    bm[j] = float(s);
  }
  const int64_t tiles = (n + kTileProject - 1) / kTileProject;
  control.setTotal(double(n));
  parallel_for(tiles, threads, &control, [&](int64_t t) {
    const int64_t r0 = t * kTileProject, rows = std::min(kTileProject, n - r0);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(rows), q, int(d), 1.f, X + r0 * d, int(d), basis, int(d),
                0.f, out + r0 * q, q);
    for (int64_t r = 0; r < rows; ++r)
      for (int j = 0; j < q; ++j) out[(r0 + r) * q + j] -= bm[j];
    control.advance(rows);
  });
}

}  // namespace ack
