// projectVolume({volume, size, volumeCentre, matrices, shifts?, n, box, imageCentre, threads, control})
//   -> Promise<Float32Array(n*box*box)>. `shifts` is a Float64Array(2n) or absent.
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
  Options o(info);
  auto vol = o.f32("volume");
  ack::ProjectionGeometry g;
  g.size = o.integer("size");
  g.volumeCentre = o.number("volumeCentre");
  auto matrices = o.f64("matrices");
  const bool hasShifts = o.has("shifts");
  int64_t n = o.integer("n");
  g.box = o.integer("box");
  g.imageCentre = o.number("imageCentre");
  int threads = static_cast<int>(o.integer("threads"));
  double* control = o.control();
  if (g.size < 1 || g.box < 1 || n < 1 || threads < 1)
    throw Napi::RangeError::New(env, "size, box, n, threads must be >= 1");
  requireLength(env, vol, g.size * g.size * g.size, "volume", "size^3");
  requireLength(env, matrices, 9 * n, "matrices", "9n");
  const double* shifts = nullptr;
  if (hasShifts) {
    auto s = o.f64("shifts");
    requireLength(env, s, 2 * n, "shifts", "2n");
    shifts = s.Data();
  }
  auto* w = new ProjectWorker(env, vol.Data(), g, matrices.Data(), shifts, n, threads, control);
  w->KeepAll(o);
  return w->Start();
}

Registrar reg("projectVolume", ProjectVolume);

}  // namespace
}  // namespace ackaddon
