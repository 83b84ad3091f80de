// preprocessImages({images, n, box, outBox, radius, edge, invert, normalise?, mask, shifts?, out?,
// threads, control}) (normalise: default true)
//   -> Promise<Float32Array(n*outBox*outBox)> (`out`, when given: a caller's buffer of at least
//      that many values, so that no fresh pages are faulted in)
#include "../core/preprocess.h"
#include "registry.h"
#include "worker.h"

namespace ackaddon {
namespace {

class PreprocessWorker : public PromiseWorker {
 public:
  PreprocessWorker(Napi::Env env, Napi::Float32Array in, int64_t n, const ack::PreprocessParams& p, int threads,
                   double* control, Napi::Float32Array out)
      : PromiseWorker(env, "ackmeans.preprocessImages"), in_(in.Data()), n_(n), p_(p), threads_(threads) {
    control_.attach(control);
    const size_t size = size_t(n) * p.outBox * p.outBox;
    if (out.IsEmpty()) {
      owned_.allocate(size);
      dest_ = owned_.data;
    } else {
      if (out.ElementLength() < size) throw Napi::RangeError::New(env, "out must hold at least n*outBox*outBox values");
      dest_ = out.Data();
      outRef_ = Napi::Persistent(out);  // also keeps it alive for the job
    }
  }

 protected:
  void Run() override { ack::preprocess_images(in_, n_, p_, dest_, threads_, control_); }
  Napi::Value Result(Napi::Env env) override {
    return outRef_.IsEmpty() ? adopt<Napi::Float32Array>(env, owned_) : outRef_.Value();
  }

 private:
  const float* in_;
  int64_t n_;
  ack::PreprocessParams p_;
  int threads_;
  float* dest_ = nullptr;
  OwnedArray<float> owned_;
  Napi::Reference<Napi::Float32Array> outRef_;
};

Napi::Value PreprocessImages(const Napi::CallbackInfo& info) {
  Options o(info);
  auto in = o.f32("images");
  const int64_t n = o.integer("n");
  ack::PreprocessParams p;
  p.box = int(o.integer("box"));
  p.outBox = int(o.integer("outBox"));
  p.radius = o.number("radius");
  p.edge = o.number("edge");
  p.invert = o.boolean("invert");
  p.mask = o.boolean("mask");
  p.normalise = !o.has("normalise") || o.boolean("normalise");
  Napi::Float32Array shifts;
  if (o.has("shifts")) {
    shifts = o.f32("shifts");
    requireLength(info.Env(), shifts, int64_t(n) * 2, "shifts", "n*2");
    p.shifts = shifts.Data();
  }
  const int threads = int(o.integer("threads"));
  double* control = o.control();
  if (n < 1 || p.box < 2 || p.outBox < 2 || p.outBox > p.box || threads < 1)
    throw Napi::RangeError::New(info.Env(), "need n >= 1, 2 <= outBox <= box, threads >= 1");
  if (in.ElementLength() != size_t(n) * p.box * p.box)
    throw Napi::RangeError::New(info.Env(), "images must hold n*box*box values");
  auto* w =
      new PreprocessWorker(info.Env(), in, n, p, threads, control, o.has("out") ? o.f32("out") : Napi::Float32Array());
  w->KeepAll(o);
  return w->Start();
}

Registrar reg("preprocessImages", PreprocessImages);

}  // namespace
}  // namespace ackaddon

// invariantFeatures({images, n, box, rings, angles, harmonics, threads, control})
//   -> Promise<Float32Array(n*rings*harmonics)>
namespace ackaddon {
namespace {

class FeaturesWorker : public PromiseWorker {
 public:
  FeaturesWorker(Napi::Env env, Napi::Float32Array in, int64_t n, int m, int rings, int angles, int harmonics,
                 int threads, double* control)
      : PromiseWorker(env, "ackmeans.invariantFeatures"),
        in_(in.Data()),
        n_(n),
        m_(m),
        rings_(rings),
        angles_(angles),
        harmonics_(harmonics),
        threads_(threads) {
    control_.attach(control);
    out_.allocate(size_t(n) * rings * harmonics);
  }

 protected:
  void Run() override {
    ack::invariant_features(in_, n_, m_, rings_, angles_, harmonics_, out_.data, threads_, control_);
  }
  Napi::Value Result(Napi::Env env) override { return adopt<Napi::Float32Array>(env, out_); }

 private:
  const float* in_;
  int64_t n_;
  int m_, rings_, angles_, harmonics_, threads_;
  OwnedArray<float> out_;
};

Napi::Value InvariantFeatures(const Napi::CallbackInfo& info) {
  Options o(info);
  auto in = o.f32("images");
  const int64_t n = o.integer("n");
  const int m = int(o.integer("box"));
  const int rings = int(o.integer("rings"));
  const int angles = int(o.integer("angles"));
  const int harmonics = int(o.integer("harmonics"));
  const int threads = int(o.integer("threads"));
  double* control = o.control();
  if (n < 1 || m < 8 || rings < 1 || rings + 2 > m / 2 || angles < 2 || harmonics < 1 || harmonics > angles ||
      threads < 1)
    throw Napi::RangeError::New(info.Env(), "need n >= 1, box >= 8, 1 <= rings <= box/2 - 2, 1 <= harmonics <= angles");
  requireLength(info.Env(), in, int64_t(n) * m * m, "images", "n*box*box");
  auto* w = new FeaturesWorker(info.Env(), in, n, m, rings, angles, harmonics, threads, control);
  w->KeepAll(o);
  return w->Start();
}

Registrar regFeatures("invariantFeatures", InvariantFeatures);

}  // namespace
}  // namespace ackaddon
