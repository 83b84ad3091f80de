// wienerAccumulate({images, count, box, pixelSize, ctf, assignment, psi, shiftX, shiftY, mirror, mode,
//                   k, outBox, sumEven, sumOdd, weightEven, weightOdd, members, threads, control})
//   -> Promise<void>                                   (sums updated in place)
// wienerFinalize({sumEven, sumOdd, weightEven, weightOdd, members, k, outBox, mode, threads})
//   -> Promise<{averages, even, odd, frc, resolution, ssnr}>
// One options object per call; values are checked in src/align/average.ts, lengths here.
#include "../core/ctf.h"
#include "../core/wiener.h"
#include "class_outputs.h"
#include "registry.h"
#include "worker.h"

namespace ackaddon {
namespace {

// A typed array property of `o` of the given element type, or a TypeError naming it.
template <class ArrayT>
ArrayT prop(const Napi::Object& o, const char* name, napi_typedarray_type type, const char* what) {
  Napi::Value v = o.Get(name);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) throw typeError(o.Env(), name, what);
  return v.As<ArrayT>();
}

int64_t intProp(const Napi::Object& o, const char* name) {
  Napi::Value v = o.Get(name);
  if (!v.IsNumber()) throw typeError(o.Env(), name, "a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (d != double(int64_t(d))) throw typeError(o.Env(), name, "an integer");
  return int64_t(d);
}

// The options object, checked as every native call checks it (worker.h's Options).
Napi::Object options(const Napi::CallbackInfo& info) {
  Options checked(info);
  return info[0].As<Napi::Object>();
}

struct Sums {
  Napi::Float64Array sumEven, sumOdd, weightEven, weightOdd;
  Napi::Int32Array members;
  ack::WienerSums view;
};

Sums sumsOf(const Napi::Object& o, int64_t k, int64_t outBox) {
  Sums s{prop<Napi::Float64Array>(o, "sumEven", napi_float64_array, "a Float64Array"),
         prop<Napi::Float64Array>(o, "sumOdd", napi_float64_array, "a Float64Array"),
         prop<Napi::Float64Array>(o, "weightEven", napi_float64_array, "a Float64Array"),
         prop<Napi::Float64Array>(o, "weightOdd", napi_float64_array, "a Float64Array"),
         prop<Napi::Int32Array>(o, "members", napi_int32_array, "an Int32Array"),
         {}};
  const int64_t G = outBox * (outBox / 2 + 1);
  requireLength(o.Env(), s.sumEven, k * G * 2, "sumEven", "k·outBox·(outBox/2+1)·2");
  requireLength(o.Env(), s.sumOdd, k * G * 2, "sumOdd", "k·outBox·(outBox/2+1)·2");
  requireLength(o.Env(), s.weightEven, k * G, "weightEven", "k·outBox·(outBox/2+1)");
  requireLength(o.Env(), s.weightOdd, k * G, "weightOdd", "k·outBox·(outBox/2+1)");
  requireLength(o.Env(), s.members, k, "members", "k");
  s.view = {int(k),          int(outBox), s.sumEven.Data(), s.sumOdd.Data(), s.weightEven.Data(), s.weightOdd.Data(),
            s.members.Data()};
  return s;
}

ack::WeightMode modeOf(const Napi::Object& o) {
  const int64_t m = intProp(o, "mode");
  if (m < 0 || m > 2) throw Napi::RangeError::New(o.Env(), "mode must be 0 (Wiener), 1 (phase flip) or 2 (plain)");
  return ack::WeightMode(m);
}

class AccumulateWorker : public PromiseWorker {
 public:
  explicit AccumulateWorker(Napi::Env env) : PromiseWorker(env, "ackmeans.wienerAccumulate") {}
  ack::WienerParticles particles;
  ack::WienerSums sums;
  ack::WeightMode mode = ack::WeightMode::Wiener;
  int threads = 1;
  void attach(double* block) { control_.attach(block); }

 protected:
  void Run() override { ack::accumulate_wiener(particles, mode, sums, threads, control_); }
  Napi::Value Result(Napi::Env env) override { return env.Undefined(); }
};

Napi::Value WienerAccumulate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = options(info);
  const int64_t count = intProp(o, "count"), box = intProp(o, "box"), k = intProp(o, "k"),
                outBox = intProp(o, "outBox"), threads = intProp(o, "threads");
  if (count < 1 || box < 2 || k < 1 || threads < 1 || outBox < 2 || outBox > box)
    throw Napi::RangeError::New(env, "count, k, threads must be >= 1 and 2 <= outBox <= box");
  auto images = prop<Napi::Float32Array>(o, "images", napi_float32_array, "a Float32Array");
  auto assignment = prop<Napi::Int32Array>(o, "assignment", napi_int32_array, "an Int32Array");
  auto psi = prop<Napi::Float32Array>(o, "psi", napi_float32_array, "a Float32Array");
  auto sx = prop<Napi::Float32Array>(o, "shiftX", napi_float32_array, "a Float32Array");
  auto sy = prop<Napi::Float32Array>(o, "shiftY", napi_float32_array, "a Float32Array");
  auto mirror = prop<Napi::Uint8Array>(o, "mirror", napi_uint8_array, "a Uint8Array");
  auto control = prop<Napi::Float64Array>(o, "control", napi_float64_array, "a Float64Array");
  if (control.ElementLength() < 3) throw Napi::RangeError::New(env, "control must have 3 elements");
  const Napi::Value pixelSize = o.Get("pixelSize");
  if (!pixelSize.IsNumber()) throw typeError(env, "pixelSize", "a number");
  requireLength(env, images, count * box * box, "images", "count·box²");
  for (auto* a : {&psi, &sx, &sy}) requireLength(env, *a, count, "psi/shiftX/shiftY", "count");
  requireLength(env, assignment, count, "assignment", "count");
  requireLength(env, mirror, count, "mirror", "count");
  auto* w = new AccumulateWorker(env);
  w->mode = modeOf(o);
  const double* ctf = nullptr;
  if (w->mode != ack::WeightMode::Plain) {
    auto c = prop<Napi::Float64Array>(o, "ctf", napi_float64_array, "a Float64Array");
    requireLength(env, c, count * ack::kCtfParamCount, "ctf", "count·7");
    ctf = c.Data();
    w->Keep(c);
  }
  Sums s = sumsOf(o, k, outBox);
  w->particles = {images.Data(), count,
                  int(box),      pixelSize.As<Napi::Number>().DoubleValue(),
                  ctf,           assignment.Data(),
                  psi.Data(),    sx.Data(),
                  sy.Data(),     mirror.Data()};
  w->sums = s.view;
  w->threads = int(threads);
  w->attach(control.Data());
  for (Napi::Value v :
       {Napi::Value(images), Napi::Value(assignment), Napi::Value(psi), Napi::Value(sx), Napi::Value(sy),
        Napi::Value(mirror), Napi::Value(control), Napi::Value(s.sumEven), Napi::Value(s.sumOdd),
        Napi::Value(s.weightEven), Napi::Value(s.weightOdd), Napi::Value(s.members)})
    w->Keep(v);
  return w->Start();
}

class FinalizeWorker : public PromiseWorker {
 public:
  FinalizeWorker(Napi::Env env, int k, int outBox) : PromiseWorker(env, "ackmeans.wienerFinalize") {
    out_.allocate(size_t(k), outBox);
    ssnr_.allocate(size_t(k) * size_t(outBox / 2 + 1));
  }
  ack::WienerSums sums;
  ack::WeightMode mode = ack::WeightMode::Wiener;
  int threads = 1;

 protected:
  void Run() override {
    ack::WienerResult out{out_.averages.data, out_.even.data,       out_.odd.data,
                          out_.frc.data,      out_.resolution.data, ssnr_.data};
    ack::finalize_wiener(sums, mode, out, threads);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    out_.adoptInto(env, o);
    o.Set("ssnr", adopt<Napi::Float32Array>(env, ssnr_));
    return o;
  }

 private:
  ClassOutputs out_;
  OwnedArray<float> ssnr_;
};

Napi::Value WienerFinalize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = options(info);
  const int64_t k = intProp(o, "k"), outBox = intProp(o, "outBox"), threads = intProp(o, "threads");
  if (k < 1 || outBox < 2 || threads < 1) throw Napi::RangeError::New(env, "k, threads must be >= 1, outBox >= 2");
  Sums s = sumsOf(o, k, outBox);
  auto* w = new FinalizeWorker(env, int(k), int(outBox));
  w->sums = s.view;
  w->mode = modeOf(o);
  w->threads = int(threads);
  for (Napi::Value v : {Napi::Value(s.sumEven), Napi::Value(s.sumOdd), Napi::Value(s.weightEven),
                        Napi::Value(s.weightOdd), Napi::Value(s.members)})
    w->Keep(v);
  return w->Start();
}

Registrar reg1("wienerAccumulate", WienerAccumulate);
Registrar reg2("wienerFinalize", WienerFinalize);

}  // namespace
}  // namespace ackaddon
