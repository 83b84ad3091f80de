// distanceTable({images, n, references, k, dim, threads, control}) -> Promise<Float32Array(n*k)>
#include "../core/distances.h"
#include "registry.h"
#include "worker.h"

namespace ackaddon {
namespace {

class DistanceWorker : public PromiseWorker {
 public:
  DistanceWorker(Napi::Env env, Napi::Float32Array X, int64_t n, Napi::Float32Array M, int64_t k, int64_t D,
                 int threads, double* control)
      : PromiseWorker(env, "ackmeans.distanceTable"),
        X_(X.Data()),
        M_(M.Data()),
        n_(n),
        k_(k),
        D_(D),
        threads_(threads) {
    control_.attach(control);
    out_.allocate(size_t(n) * size_t(k));
  }

 protected:
  void Run() override { ack::distance_table(X_, n_, M_, k_, D_, out_.data, threads_, control_); }
  Napi::Value Result(Napi::Env env) override { return adopt<Napi::Float32Array>(env, out_); }

 private:
  const float* X_;
  const float* M_;
  int64_t n_, k_, D_;
  int threads_;
  OwnedArray<float> out_;
};

Napi::Value DistanceTable(const Napi::CallbackInfo& info) {
  Options o(info);
  auto X = o.f32("images");
  int64_t n = o.integer("n");
  auto M = o.f32("references");
  int64_t k = o.integer("k");
  int64_t D = o.integer("dim");
  int threads = static_cast<int>(o.integer("threads"));
  double* control = o.control();
  if (n < 1 || k < 1 || D < 1 || threads < 1)
    throw Napi::RangeError::New(info.Env(), "n, k, dim, threads must be >= 1");
  requireLength(info.Env(), X, n * D, "images", "n*dim");
  requireLength(info.Env(), M, k * D, "references", "k*dim");
  auto* w = new DistanceWorker(info.Env(), X, n, M, k, D, threads, control);
  w->KeepAll(o);
  return w->Start();
}

Registrar reg("distanceTable", DistanceTable);

}  // namespace
}  // namespace ackaddon
