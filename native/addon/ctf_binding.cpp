// ctfHalfplane({params: Float64Array(7), box, pixelSize}) -> Float32Array(box*(box/2+1))  (sync)
// applyCtf({images, n, box, pixelSize, params: Float64Array(7n), mode (0 multiply, 1 phase flip),
//          threads, control}) -> Promise<Float32Array(n*box*box)>
#include "../core/ctf.h"
#include "registry.h"
#include "worker.h"

namespace ackaddon {
namespace {

class CtfWorker : public PromiseWorker {
 public:
  CtfWorker(Napi::Env env, const float* in, int64_t n, int box, double pixelSize, const double* params,
            ack::CtfMode mode, int threads, double* control)
      : PromiseWorker(env, "ackmeans.applyCtf"),
        in_(in),
        n_(n),
        box_(box),
        pixelSize_(pixelSize),
        params_(params),
        mode_(mode),
        threads_(threads) {
    control_.attach(control);
    out_.allocate(size_t(n) * size_t(box) * size_t(box));
  }

 protected:
  void Run() override { ack::apply_ctf(in_, out_.data, n_, box_, pixelSize_, params_, mode_, threads_, control_); }
  Napi::Value Result(Napi::Env env) override { return adopt<Napi::Float32Array>(env, out_); }

 private:
  const float* in_;
  int64_t n_;
  int box_;
  double pixelSize_;
  const double* params_;
  ack::CtfMode mode_;
  int threads_;
  OwnedArray<float> out_;
};

Napi::Value CtfHalfplane(const Napi::CallbackInfo& info) {
  Options o(info);
  auto params = o.f64("params");
  int64_t box = o.integer("box");
  double pixelSize = o.number("pixelSize");
  requireLength(info.Env(), params, ack::kCtfParamCount, "params", "7");
  if (box < 2 || pixelSize <= 0) throw Napi::RangeError::New(info.Env(), "box must be >= 2 and pixelSize > 0");
  OwnedArray<float> out;
  out.allocate(size_t(box) * size_t(box / 2 + 1));
  ack::ctf_halfplane(ack::ctf_params(params.Data()), int(box), pixelSize, out.data);
  return adopt<Napi::Float32Array>(info.Env(), out);
}

Napi::Value ApplyCtf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Options o(info);
  auto images = o.f32("images");
  int64_t n = o.integer("n");
  int64_t box = o.integer("box");
  double pixelSize = o.number("pixelSize");
  auto params = o.f64("params");
  int64_t mode = o.integer("mode");
  int threads = static_cast<int>(o.integer("threads"));
  double* control = o.control();
  if (n < 1 || box < 2 || threads < 1 || pixelSize <= 0)
    throw Napi::RangeError::New(env, "n >= 1, box >= 2, threads >= 1, pixelSize > 0 required");
  requireLength(env, images, n * box * box, "images", "n*box^2");
  requireLength(env, params, n * ack::kCtfParamCount, "params", "7n");
  if (mode != 0 && mode != 1) throw Napi::RangeError::New(env, "mode must be 0 (multiply) or 1 (phase flip)");
  auto* w = new CtfWorker(env, images.Data(), n, int(box), pixelSize, params.Data(),
                          mode == 0 ? ack::CtfMode::Multiply : ack::CtfMode::PhaseFlip, threads, control);
  w->KeepAll(o);
  return w->Start();
}

Registrar regHalfplane("ctfHalfplane", CtfHalfplane);
Registrar regApply("applyCtf", ApplyCtf);

}  // namespace
}  // namespace ackaddon
