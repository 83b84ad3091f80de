// preprocessImages(images, n, box, outBox, radius, edge, invert, mask, shifts | null, threads, control)
//   -> Promise<Float32Array(n*outBox*outBox)>
#include "../core/preprocess.h"
#include "registry.h"
#include "worker.h"

namespace ackaddon {
namespace {

class PreprocessWorker : public PromiseWorker {
 public:
  PreprocessWorker(Napi::Env env, Napi::Float32Array in, int64_t n, const ack::PreprocessParams& p, int threads,
                   double* control)
      : PromiseWorker(env, "ackmeans.preprocessImages"), in_(in.Data()), n_(n), p_(p), threads_(threads) {
    Keep(in);
    control_.attach(control);
    out_.allocate(size_t(n) * p.outBox * p.outBox);
  }

 protected:
  void Run() override { ack::preprocess_images(in_, n_, p_, out_.data, threads_, control_); }
  Napi::Value Result(Napi::Env env) override { return adopt<Napi::Float32Array>(env, out_); }

 private:
  const float* in_;
  int64_t n_;
  ack::PreprocessParams p_;
  int threads_;
  OwnedArray<float> out_;
};

Napi::Value PreprocessImages(const Napi::CallbackInfo& info) {
  auto in = argFloat32(info, 0, "images");
  const int64_t n = argInt(info, 1, "n");
  ack::PreprocessParams p;
  p.box = int(argInt(info, 2, "box"));
  p.outBox = int(argInt(info, 3, "outBox"));
  p.radius = argNumber(info, 4, "radius");
  p.edge = argNumber(info, 5, "edge");
  p.invert = argBool(info, 6, "invert");
  p.mask = argBool(info, 7, "mask");
  Napi::Float32Array shifts;
  if (!info[8].IsNull() && !info[8].IsUndefined()) {
    shifts = argFloat32(info, 8, "shifts");
    requireLength(info.Env(), shifts, int64_t(n) * 2, "shifts", "n*2");
    p.shifts = shifts.Data();
  }
  const int threads = int(argInt(info, 9, "threads"));
  double* control = argControl(info, 10);
  if (n < 1 || p.box < 2 || p.outBox < 2 || p.outBox > p.box || threads < 1)
    throw Napi::RangeError::New(info.Env(), "need n >= 1, 2 <= outBox <= box, threads >= 1");
  if (in.ElementLength() != size_t(n) * p.box * p.box)
    throw Napi::RangeError::New(info.Env(), "images must hold n*box*box values");
  auto* w = new PreprocessWorker(info.Env(), in, n, p, threads, control);
  if (p.shifts) w->Keep(shifts);
  w->Keep(info[10]);
  return w->Start();
}

Registrar reg("preprocessImages", PreprocessImages);

}  // namespace
}  // namespace ackaddon

// invariantFeatures(images, n, box, rings, angles, harmonics, threads, control)
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
    Keep(in);
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
  auto in = argFloat32(info, 0, "images");
  const int64_t n = argInt(info, 1, "n");
  const int m = int(argInt(info, 2, "box"));
  const int rings = int(argInt(info, 3, "rings"));
  const int angles = int(argInt(info, 4, "angles"));
  const int harmonics = int(argInt(info, 5, "harmonics"));
  const int threads = int(argInt(info, 6, "threads"));
  double* control = argControl(info, 7);
  if (n < 1 || m < 8 || rings < 1 || rings + 2 > m / 2 || angles < 2 || harmonics < 1 || harmonics > angles ||
      threads < 1)
    throw Napi::RangeError::New(info.Env(), "need n >= 1, box >= 8, 1 <= rings <= box/2 - 2, 1 <= harmonics <= angles");
  requireLength(info.Env(), in, int64_t(n) * m * m, "images", "n*box*box");
  auto* w = new FeaturesWorker(info.Env(), in, n, m, rings, angles, harmonics, threads, control);
  w->Keep(info[7]);
  return w->Start();
}

Registrar regFeatures("invariantFeatures", InvariantFeatures);

}  // namespace
}  // namespace ackaddon
