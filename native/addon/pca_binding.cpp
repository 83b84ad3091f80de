// pca({data, n, dim, components, threads, control}) -> Promise<{ basis: Float32Array(q*d),
//   eigenvalues: Float32Array(q), mean: Float32Array(d) }>
// pcaProject({data, n, dim, basis, components, mean, threads, control}) -> Promise<Float32Array(n*q)>
#include "../core/pca.h"
#include "registry.h"
#include "worker.h"

namespace ackaddon {
namespace {

class PcaWorker : public PromiseWorker {
 public:
  PcaWorker(Napi::Env env, Napi::Float32Array X, int64_t n, int64_t d, int q, int threads, double* control)
      : PromiseWorker(env, "ackmeans.pca"), X_(X.Data()), n_(n), d_(d), q_(q), threads_(threads) {
    control_.attach(control);
    basis_.allocate(size_t(q) * d);
    values_.allocate(q);
    mean_.allocate(d);
  }

 protected:
  void Run() override {
    ack::PcaResult res{basis_.data, values_.data, mean_.data};
    ack::pca(X_, n_, d_, q_, res, threads_, control_);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("basis", adopt<Napi::Float32Array>(env, basis_));
    o.Set("eigenvalues", adopt<Napi::Float32Array>(env, values_));
    o.Set("mean", adopt<Napi::Float32Array>(env, mean_));
    return o;
  }

 private:
  const float* X_;
  int64_t n_, d_;
  int q_, threads_;
  OwnedArray<float> basis_, values_, mean_;
};

class ProjectWorker : public PromiseWorker {
 public:
  ProjectWorker(Napi::Env env, Napi::Float32Array X, int64_t n, int64_t d, Napi::Float32Array basis, int q,
                Napi::Float32Array mean, int threads, double* control)
      : PromiseWorker(env, "ackmeans.pcaProject"),
        X_(X.Data()),
        basis_(basis.Data()),
        mean_(mean.Data()),
        n_(n),
        d_(d),
        q_(q),
        threads_(threads) {
    control_.attach(control);
    out_.allocate(size_t(n) * q);
  }

 protected:
  void Run() override { ack::pca_project(X_, n_, d_, basis_, q_, mean_, out_.data, threads_, control_); }
  Napi::Value Result(Napi::Env env) override { return adopt<Napi::Float32Array>(env, out_); }

 private:
  const float *X_, *basis_, *mean_;
  int64_t n_, d_;
  int q_, threads_;
  OwnedArray<float> out_;
};

Napi::Value Pca(const Napi::CallbackInfo& info) {
  Options o(info);
  auto X = o.f32("data");
  const int64_t n = o.integer("n");
  const int64_t d = o.integer("dim");
  const int64_t q = o.integer("components");
  const int threads = int(o.integer("threads"));
  double* control = o.control();
  if (n < 1 || d < 1 || q < 1 || q > std::min(n, d) || threads < 1)
    throw Napi::RangeError::New(info.Env(), "need n, dim >= 1 and 1 <= components <= min(n, dim)");
  requireLength(info.Env(), X, n * d, "data", "n*dim");
  if (std::min(n, d) > 46340) throw Napi::RangeError::New(info.Env(), "min(n, dim) is too large for one PCA");
  auto* w = new PcaWorker(info.Env(), X, n, d, int(q), threads, control);
  w->KeepAll(o);
  return w->Start();
}

Napi::Value PcaProject(const Napi::CallbackInfo& info) {
  Options o(info);
  auto X = o.f32("data");
  const int64_t n = o.integer("n");
  const int64_t d = o.integer("dim");
  auto basis = o.f32("basis");
  const int64_t q = o.integer("components");
  auto mean = o.f32("mean");
  const int threads = int(o.integer("threads"));
  double* control = o.control();
  if (n < 1 || d < 1 || q < 1 || threads < 1) throw Napi::RangeError::New(info.Env(), "need n, dim, components >= 1");
  requireLength(info.Env(), X, n * d, "data", "n*dim");
  requireLength(info.Env(), basis, q * d, "basis", "components*dim");
  requireLength(info.Env(), mean, d, "mean", "dim");
  auto* w = new ProjectWorker(info.Env(), X, n, d, basis, int(q), mean, threads, control);
  w->KeepAll(o);
  return w->Start();
}

Registrar regPca("pca", Pca);
Registrar regProject("pcaProject", PcaProject);

}  // namespace
}  // namespace ackaddon
