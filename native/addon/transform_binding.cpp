// applyAlignment({image, box, psi, shiftX, shiftY, mirror}) -> Float32Array(box*box)   (synchronous: one image)
// applyPoses({images, n, box, psi, shiftX, shiftY, mirror, threads, control})
//   -> Promise<Float32Array(n*box*box)>   (psi/shiftX/shiftY: Float32Array(n), mirror: Uint8Array(n))
#include "../core/transform.h"
#include "registry.h"
#include "worker.h"

namespace ackaddon {
namespace {

Napi::Value ApplyAlignment(const Napi::CallbackInfo& info) {
  Options o(info);
  auto image = o.f32("image");
  const int64_t box = o.integer("box");
  const double psi = o.number("psi"), sx = o.number("shiftX"), sy = o.number("shiftY");
  const bool mirror = o.boolean("mirror");
  if (box < 1 || image.ElementLength() != size_t(box * box))
    throw Napi::RangeError::New(info.Env(), "image must hold box*box values");
  OwnedArray<float> out;
  out.allocate(size_t(box * box));
  ack::apply_alignment(image.Data(), int(box), psi, sx, sy, mirror, out.data);
  return adopt<Napi::Float32Array>(info.Env(), out);
}

class ApplyPosesWorker : public PromiseWorker {
 public:
  ApplyPosesWorker(Napi::Env env, const float* images, int64_t n, int box, const float* psi, const float* sx,
                   const float* sy, const uint8_t* mirror, int threads, double* control)
      : PromiseWorker(env, "ackmeans.applyPoses"),
        images_(images),
        n_(n),
        box_(box),
        psi_(psi),
        sx_(sx),
        sy_(sy),
        mirror_(mirror),
        threads_(threads) {
    control_.attach(control);
    out_.allocate(size_t(n) * box * box);
  }

 protected:
  void Run() override { ack::apply_poses(images_, n_, box_, psi_, sx_, sy_, mirror_, out_.data, threads_, control_); }
  Napi::Value Result(Napi::Env env) override { return adopt<Napi::Float32Array>(env, out_); }

 private:
  const float* images_;
  int64_t n_;
  int box_;
  const float *psi_, *sx_, *sy_;
  const uint8_t* mirror_;
  int threads_;
  OwnedArray<float> out_;
};

Napi::Value ApplyPoses(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Options o(info);
  auto images = o.f32("images");
  const int64_t n = o.integer("n"), box = o.integer("box");
  const int threads = int(o.integer("threads"));
  double* control = o.control();
  if (n < 1 || box < 1 || threads < 1) throw Napi::RangeError::New(env, "need n >= 1, box >= 1, threads >= 1");
  requireLength(env, images, n * box * box, "images", "n*box*box");
  auto psi = o.f32("psi"), sx = o.f32("shiftX"), sy = o.f32("shiftY");
  auto mirror = o.u8("mirror");
  requireLength(env, psi, n, "psi", "n");
  requireLength(env, sx, n, "shiftX", "n");
  requireLength(env, sy, n, "shiftY", "n");
  requireLength(env, mirror, n, "mirror", "n");
  auto* w = new ApplyPosesWorker(env, images.Data(), n, int(box), psi.Data(), sx.Data(), sy.Data(), mirror.Data(),
                                 threads, control);
  w->KeepAll(o);
  return w->Start();
}

Registrar reg("applyAlignment", ApplyAlignment);
Registrar regPoses("applyPoses", ApplyPoses);

}  // namespace
}  // namespace ackaddon
