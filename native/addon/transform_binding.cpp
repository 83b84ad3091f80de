// applyAlignment(image, box, psi, shiftX, shiftY, mirror) -> Float32Array(box*box)   (synchronous: one image)
// applyPoses(images, { n, box, psi, shiftX, shiftY, mirror, threads }, control)
//   -> Promise<Float32Array(n*box*box)>   (psi/shiftX/shiftY: Float32Array(n), mirror: Uint8Array(n))
#include <string>

#include "../core/transform.h"
#include "registry.h"
#include "worker.h"

namespace ackaddon {
namespace {

Napi::Value ApplyAlignment(const Napi::CallbackInfo& info) {
  auto image = argFloat32(info, 0, "image");
  const int64_t box = argInt(info, 1, "box");
  const double psi = argNumber(info, 2, "psi"), sx = argNumber(info, 3, "shiftX"), sy = argNumber(info, 4, "shiftY");
  const bool mirror = argBool(info, 5, "mirror");
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
      : PromiseWorker(env, "ackmeans.applyPoses"), images_(images), n_(n), box_(box), psi_(psi), sx_(sx), sy_(sy),
        mirror_(mirror), threads_(threads) {
    control_.attach(control);
    out_.allocate(size_t(n) * box * box);
  }

 protected:
  void Run() override {
    ack::apply_poses(images_, n_, box_, psi_, sx_, sy_, mirror_, out_.data, threads_, control_);
  }
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

template <class ArrayT>
ArrayT member(Napi::Env env, const Napi::Object& o, const char* name, napi_typedarray_type type, const char* what,
              int64_t length) {
  Napi::Value v = o.Get(name);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type)
    throw typeError(env, std::string("options.") + name, what);
  ArrayT a = v.As<ArrayT>();
  requireLength(env, a, length, name, "n");
  return a;
}

int64_t memberInt(Napi::Env env, const Napi::Object& o, const char* name) {
  Napi::Value v = o.Get(name);
  if (!v.IsNumber()) throw typeError(env, std::string("options.") + name, "a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (d != double(int64_t(d))) throw typeError(env, std::string("options.") + name, "an integer");
  return int64_t(d);
}

Napi::Value ApplyPoses(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto images = argFloat32(info, 0, "images");
  if (info.Length() < 2 || !info[1].IsObject()) throw typeError(env, "options", "an object");
  Napi::Object o = info[1].As<Napi::Object>();
  double* control = argControl(info, 2);
  const int64_t n = memberInt(env, o, "n"), box = memberInt(env, o, "box");
  const int threads = int(memberInt(env, o, "threads"));
  if (n < 1 || box < 1 || threads < 1) throw Napi::RangeError::New(env, "need n >= 1, box >= 1, threads >= 1");
  requireLength(env, images, n * box * box, "images", "n*box*box");
  auto psi = member<Napi::Float32Array>(env, o, "psi", napi_float32_array, "a Float32Array", n);
  auto sx = member<Napi::Float32Array>(env, o, "shiftX", napi_float32_array, "a Float32Array", n);
  auto sy = member<Napi::Float32Array>(env, o, "shiftY", napi_float32_array, "a Float32Array", n);
  auto mirror = member<Napi::Uint8Array>(env, o, "mirror", napi_uint8_array, "a Uint8Array", n);
  auto* w = new ApplyPosesWorker(env, images.Data(), n, int(box), psi.Data(), sx.Data(), sy.Data(), mirror.Data(),
                                 threads, control);
  w->Keep(images);
  w->Keep(psi);
  w->Keep(sx);
  w->Keep(sy);
  w->Keep(mirror);
  w->Keep(info[2]);
  return w->Start();
}

Registrar reg("applyAlignment", ApplyAlignment);
Registrar regPoses("applyPoses", ApplyPoses);

}  // namespace
}  // namespace ackaddon
