// info() -> build and machine facts; simd({on?}) -> boolean; gemmPeak({kind, m, n, k, threads, reps}) -> Promise<GFLOP/s>
#include "../core/blas.h"
#include "../core/info.h"
#include "../core/simd.h"
#include "registry.h"
#include "worker.h"

namespace ackaddon {
namespace {

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ack::BuildInfo b = ack::build_info();
  Napi::Object o = Napi::Object::New(env);
  o.Set("fftw", b.fftwVersion);
  o.Set("openblas", b.openblasConfig);
  o.Set("openblasCore", b.openblasCore);
  o.Set("simd", b.simd);
  o.Set("ompMaxThreads", b.ompMaxThreads);
  o.Set("hardwareThreads", b.hardwareThreads);
  o.Set("compiler", b.compiler);
  o.Set("napiVersion", NAPI_VERSION);
  return o;
}

class GemmPeakWorker : public PromiseWorker {
 public:
  GemmPeakWorker(Napi::Env env, char kind, int m, int n, int k, int threads, int reps)
      : PromiseWorker(env, "ackmeans.gemmPeak"), kind_(kind), m_(m), n_(n), k_(k), threads_(threads), reps_(reps) {}

 protected:
  void Run() override { gflops_ = ack::gemm_peak(kind_, m_, n_, k_, threads_, reps_); }
  Napi::Value Result(Napi::Env env) override { return Napi::Number::New(env, gflops_); }

 private:
  char kind_;
  int m_, n_, k_, threads_, reps_;
  double gflops_ = 0;
};

Napi::Value GemmPeak(const Napi::CallbackInfo& info) {
  Options o(info);
  std::string kind = o.string("kind");
  if (kind != "s" && kind != "c") throw Napi::RangeError::New(info.Env(), "kind must be 's' or 'c'");
  int m = int(o.integer("m")), n = int(o.integer("n")), k = int(o.integer("k"));
  int threads = int(o.integer("threads")), reps = int(o.integer("reps"));
  if (m < 1 || n < 1 || k < 1 || threads < 1 || reps < 1)
    throw Napi::RangeError::New(info.Env(), "m, n, k, threads, reps must be >= 1");
  auto* w = new GemmPeakWorker(info.Env(), kind[0], m, n, k, threads, reps);
  return w->Start();
}

// simd({on?}) -> boolean: the global SIMD switch (every kernel with an AVX2 path honours it);
// returns whether the AVX2 paths run.
Napi::Value Simd(const Napi::CallbackInfo& info) {
  Options o(info);
  if (o.has("on")) ack::set_simd(o.boolean("on"));
  return Napi::Boolean::New(info.Env(), ack::simd_enabled());
}

Registrar regInfo("info", Info);
Registrar regSimd("simd", Simd);
Registrar regPeak("gemmPeak", GemmPeak);

}  // namespace
}  // namespace ackaddon
