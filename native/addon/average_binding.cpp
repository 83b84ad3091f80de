// classAccumulate({images, count, box, assignment, psi, shiftX, shiftY, mirror, k, evenSum, oddSum, members,
//                  evenMembers, threads, control, quantum?, half?, sign?}) -> Promise<void>
//                  (sums updated in place; quantum: a power of two, values rounded to its
//                  multiples; half: each image's half; sign −1 takes images out; see average.h)
// maxAbs({values: Float32Array}) -> Promise<number> (the largest |value|, NaNs ignored)
// classFinalize({evenSum, oddSum, members, evenMembers, k, box, threads, control})
//   -> Promise<{averages, even, odd, frc, resolution}>
#include <cmath>

#include "../core/average.h"
#include "class_outputs.h"
#include "registry.h"
#include "worker.h"

namespace ackaddon {
namespace {

void requireLength(Napi::Env env, size_t got, size_t want, const char* name) {
  if (got != want) throw Napi::RangeError::New(env, std::string(name) + " has the wrong length");
}

class AccumulateWorker : public PromiseWorker {
 public:
  explicit AccumulateWorker(Napi::Env env) : PromiseWorker(env, "ackmeans.classAccumulate") {}
  const float *images = nullptr, *psi = nullptr, *sx = nullptr, *sy = nullptr;
  const int32_t* assignment = nullptr;
  const uint8_t *mirror = nullptr, *half = nullptr;
  double *evenSum = nullptr, *oddSum = nullptr;
  int32_t *members = nullptr, *evenMembers = nullptr;
  int64_t count = 0;
  int box = 0, k = 0, threads = 1, sign = 1;
  double quantum = 0;
  void attach(double* block) { control_.attach(block); }

 protected:
  void Run() override {
    ack::accumulate_classes(images, count, box, assignment, psi, sx, sy, mirror, k, evenSum, oddSum, members,
                            evenMembers, threads, control_, quantum, half, sign);
  }
  Napi::Value Result(Napi::Env env) override { return env.Undefined(); }
};

Napi::Value ClassAccumulate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Options o(info);
  auto images = o.f32("images");
  const int64_t count = o.integer("count"), box = o.integer("box");
  auto assignment = o.i32("assignment");
  auto psi = o.f32("psi"), sx = o.f32("shiftX"), sy = o.f32("shiftY");
  auto mirror = o.u8("mirror");
  const int64_t k = o.integer("k");
  auto evenSum = o.f64("evenSum"), oddSum = o.f64("oddSum");
  auto members = o.i32("members"), evenMembers = o.i32("evenMembers");
  const int threads = int(o.integer("threads"));
  double* control = o.control();
  if (count < 1 || box < 1 || k < 1 || threads < 1)
    throw Napi::RangeError::New(env, "count, box, k, threads must be >= 1");
  const double quantum = o.has("quantum") ? o.number("quantum") : 0.0;
  int exponent = 0;
  if (quantum != 0 && !(std::isfinite(quantum) && quantum > 0 && std::frexp(quantum, &exponent) == 0.5))
    throw Napi::RangeError::New(env, "options.quantum must be a power of two");
  const int64_t sign = o.has("sign") ? o.integer("sign") : 1;
  const bool halves = o.has("half");
  if (sign != 1 && (sign != -1 || !halves || quantum == 0))
    throw Napi::RangeError::New(env, "options.sign must be 1, or -1 with half and quantum");
  requireLength(env, images.ElementLength(), size_t(count * box * box), "images");
  for (auto* a : {&psi, &sx, &sy}) requireLength(env, a->ElementLength(), size_t(count), "parameters");
  requireLength(env, assignment.ElementLength(), size_t(count), "assignment");
  requireLength(env, mirror.ElementLength(), size_t(count), "mirror");
  requireLength(env, evenSum.ElementLength(), size_t(k * box * box), "evenSum");
  requireLength(env, oddSum.ElementLength(), size_t(k * box * box), "oddSum");
  requireLength(env, members.ElementLength(), size_t(k), "members");
  requireLength(env, evenMembers.ElementLength(), size_t(k), "evenMembers");
  auto* w = new AccumulateWorker(env);
  if (halves) {
    auto half = o.u8("half");
    requireLength(env, half.ElementLength(), size_t(count), "half");
    w->half = half.Data();
  }
  w->sign = int(sign);
  w->evenMembers = evenMembers.Data();
  w->images = images.Data();
  w->count = count;
  w->box = int(box);
  w->assignment = assignment.Data();
  w->psi = psi.Data();
  w->sx = sx.Data();
  w->sy = sy.Data();
  w->mirror = mirror.Data();
  w->k = int(k);
  w->evenSum = evenSum.Data();
  w->oddSum = oddSum.Data();
  w->members = members.Data();
  w->threads = threads;
  w->quantum = quantum;
  w->attach(control);
  w->KeepAll(o);
  return w->Start();
}

class FinalizeWorker : public PromiseWorker {
 public:
  FinalizeWorker(Napi::Env env, int k, int box) : PromiseWorker(env, "ackmeans.classFinalize"), k_(k), box_(box) {
    out_.allocate(size_t(k), box);
  }
  const double *evenSum = nullptr, *oddSum = nullptr;
  const int32_t *members = nullptr, *evenMembers = nullptr;
  int threads = 1;
  void attach(double* block) { control_.attach(block); }

 protected:
  void Run() override {
    ack::finalize_classes(evenSum, oddSum, members, evenMembers, k_, box_, out_.averages.data, out_.even.data,
                          out_.odd.data, out_.frc.data, out_.resolution.data, threads, &control_);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    out_.adoptInto(env, o);
    return o;
  }

 private:
  int k_, box_;
  ClassOutputs out_;
};

Napi::Value ClassFinalize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Options o(info);
  auto evenSum = o.f64("evenSum"), oddSum = o.f64("oddSum");
  auto members = o.i32("members"), evenMembers = o.i32("evenMembers");
  const int64_t k = o.integer("k"), box = o.integer("box");
  const int threads = int(o.integer("threads"));
  double* control = o.control();
  if (k < 1 || box < 2 || threads < 1) throw Napi::RangeError::New(env, "k, box, threads must be positive");
  requireLength(env, evenSum.ElementLength(), size_t(k * box * box), "evenSum");
  requireLength(env, oddSum.ElementLength(), size_t(k * box * box), "oddSum");
  requireLength(env, members.ElementLength(), size_t(k), "members");
  requireLength(env, evenMembers.ElementLength(), size_t(k), "evenMembers");
  for (int64_t j = 0; j < k; ++j)
    if (evenMembers.Data()[j] < 0 || evenMembers.Data()[j] > members.Data()[j])
      throw Napi::RangeError::New(env, "evenMembers must lie in [0, members]");
  auto* w = new FinalizeWorker(env, int(k), int(box));
  w->evenSum = evenSum.Data();
  w->oddSum = oddSum.Data();
  w->members = members.Data();
  w->evenMembers = evenMembers.Data();
  w->threads = threads;
  w->attach(control);
  w->KeepAll(o);
  return w->Start();
}

class MaxAbsWorker : public PromiseWorker {
 public:
  MaxAbsWorker(Napi::Env env, Napi::Float32Array values)
      : PromiseWorker(env, "ackmeans.maxAbs"), values_(values.Data()), n_(values.ElementLength()) {
    Keep(values);
  }

 protected:
  void Run() override { max_ = ack::max_abs(values_, n_); }
  Napi::Value Result(Napi::Env env) override { return Napi::Number::New(env, max_); }

 private:
  const float* values_;
  size_t n_;
  float max_ = 0;
};

Napi::Value MaxAbs(const Napi::CallbackInfo& info) {
  Options o(info);
  return (new MaxAbsWorker(info.Env(), o.f32("values")))->Start();
}

Registrar reg1("classAccumulate", ClassAccumulate);
Registrar regMaxAbs("maxAbs", MaxAbs);
Registrar reg2("classFinalize", ClassFinalize);

}  // namespace
}  // namespace ackaddon
