// projectVolume(volume, size, volumeCentre, matrices, shifts, n, box, imageCentre, threads, control)
//   -> Promise<Float32Array(n*box*box)>. `shifts` is a Float64Array(2n) or null.
// projectorSimd(on?) -> boolean (sync).
#include "../core/project.h"
#include "registry.h"
#include "worker.h"

namespace ackaddon {
namespace {

class ProjectWorker : public PromiseWorker {
 public:
  ProjectWorker(Napi::Env env, const float* vol, const ack::ProjectionGeometry& g, const double* matrices,
                const double* shifts, int64_t n, int threads, double* control)
      : PromiseWorker(env, "ackmeans.projectVolume"),
        vol_(vol),
        g_(g),
        matrices_(matrices),
        shifts_(shifts),
        n_(n),
        threads_(threads) {
    control_.attach(control);
    out_.allocate(size_t(n) * size_t(g.box) * size_t(g.box));
  }

 protected:
  void Run() override { ack::project_volume(vol_, g_, matrices_, shifts_, n_, out_.data, threads_, control_); }
  Napi::Value Result(Napi::Env env) override { return adopt<Napi::Float32Array>(env, out_); }

 private:
  const float* vol_;
  ack::ProjectionGeometry g_;
  const double* matrices_;
  const double* shifts_;
  int64_t n_;
  int threads_;
  OwnedArray<float> out_;
};

Napi::Value ProjectVolume(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto vol = argFloat32(info, 0, "volume");
  ack::ProjectionGeometry g;
  g.size = argInt(info, 1, "size");
  g.volumeCentre = argNumber(info, 2, "volumeCentre");
  auto matrices = argFloat64(info, 3, "matrices");
  const bool hasShifts = !(info.Length() > 4 && info[4].IsNull());
  int64_t n = argInt(info, 5, "n");
  g.box = argInt(info, 6, "box");
  g.imageCentre = argNumber(info, 7, "imageCentre");
  int threads = static_cast<int>(argInt(info, 8, "threads"));
  double* control = argControl(info, 9);
  if (g.size < 1 || g.box < 1 || n < 1 || threads < 1)
    throw Napi::RangeError::New(env, "size, box, n, threads must be >= 1");
  requireLength(env, vol, g.size * g.size * g.size, "volume", "size^3");
  requireLength(env, matrices, 9 * n, "matrices", "9n");
  const double* shifts = nullptr;
  if (hasShifts) {
    auto s = argFloat64(info, 4, "shifts");
    requireLength(env, s, 2 * n, "shifts", "2n");
    shifts = s.Data();
  }
  auto* w = new ProjectWorker(env, vol.Data(), g, matrices.Data(), shifts, n, threads, control);
  w->Keep(vol);
  w->Keep(matrices);
  if (hasShifts) w->Keep(info[4]);
  w->Keep(info[9]);
  return w->Start();
}

// projectorSimd(on?: boolean) -> boolean: switches the AVX2 sampling kernel (for tests) and
// says whether it runs.
Napi::Value ProjectorSimd(const Napi::CallbackInfo& info) {
  if (info.Length() > 0 && !info[0].IsUndefined()) ack::set_projector_simd(argBool(info, 0, "on"));
  return Napi::Boolean::New(info.Env(), ack::projector_simd_enabled());
}

Registrar reg("projectVolume", ProjectVolume);
Registrar regSimd("projectorSimd", ProjectorSimd);

}  // namespace
}  // namespace ackaddon
