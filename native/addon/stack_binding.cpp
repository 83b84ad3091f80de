// The working stack's pixel steps (src/pipeline/stack.ts, src/pipeline/scratch.ts):
// preprocessStack({images (Float32Array) or half (Uint16Array of binary16), n, box, outBox, radius, edge, invert, mask, shifts?: Float32Array(2n),
//   ctf?: Float64Array(7n), pixelSize?, screen, roundFloat16, threads, control})
//   -> Promise<{ images: Float32Array(n*outBox²), screen: Uint8Array(n) | undefined }>
// float16Encode({values: Float32Array}) -> Promise<Uint16Array>
// float16Decode({bits: Uint16Array, out?: Float32Array}) -> Promise<Float32Array> (out, when given)
// float16Gather({fd, offset, images, values, items: Int32Array, out: Float32Array, threads})
//   -> Promise<Float32Array> (out): images `items` of a float16 file, decoded (core/gather.h);
//   rejects with "read failed: <errno text>" or "the file ended early"
#include <cstring>
#include <stdexcept>
#include <string>

#include "../core/ctf.h"
#include "../core/float16.h"
#include "../core/gather.h"
#include "../core/preprocess.h"
#include "registry.h"
#include "worker.h"

namespace ackaddon {
namespace {

Napi::Value option(const Napi::Object& o, const char* name) { return o.Get(name); }

double optNumber(Napi::Env env, const Napi::Object& o, const char* name) {
  Napi::Value v = option(o, name);
  if (!v.IsNumber()) throw typeError(env, std::string("options.") + name, "a number");
  return v.As<Napi::Number>().DoubleValue();
}

int64_t optInt(Napi::Env env, const Napi::Object& o, const char* name) {
  const double v = optNumber(env, o, name);
  if (v != double(int64_t(v))) throw typeError(env, std::string("options.") + name, "an integer");
  return int64_t(v);
}

bool optBool(Napi::Env env, const Napi::Object& o, const char* name) {
  Napi::Value v = option(o, name);
  if (!v.IsBoolean()) throw typeError(env, std::string("options.") + name, "a boolean");
  return v.As<Napi::Boolean>().Value();
}

template <class ArrayT>
bool optArray(Napi::Env env, const Napi::Object& o, const char* name, napi_typedarray_type type, const char* what,
              ArrayT& out) {
  Napi::Value v = option(o, name);
  if (v.IsUndefined() || v.IsNull()) return false;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type)
    throw typeError(env, std::string("options.") + name, what);
  out = v.As<ArrayT>();
  return true;
}

class PreprocessStackWorker : public PromiseWorker {
 public:
  PreprocessStackWorker(Napi::Env env, const float* in, int64_t n, const ack::PreprocessParams& p, bool screen,
                        int threads, double* control)
      : PromiseWorker(env, "ackmeans.preprocessStack"), in_(in), n_(n), p_(p), threads_(threads) {
    control_.attach(control);
    out_.allocate(size_t(n) * p.outBox * p.outBox);
    if (screen) {
      screen_.allocate(size_t(n));
      p_.screen = screen_.data;
    }
  }

 protected:
  void Run() override { ack::preprocess_images(in_, n_, p_, out_.data, threads_, control_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object r = Napi::Object::New(env);
    const bool screened = screen_.data != nullptr;
    r.Set("images", adopt<Napi::Float32Array>(env, out_));
    r.Set("screen", screened ? adopt<Napi::Uint8Array>(env, screen_) : env.Undefined());
    return r;
  }

 private:
  const float* in_;
  int64_t n_;
  ack::PreprocessParams p_;
  int threads_;
  OwnedArray<float> out_;
  OwnedArray<uint8_t> screen_;
};

Napi::Value PreprocessStack(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Options opts(info);
  // the input: float32 `images`, or `half` (binary16 bit patterns decoded in the pass)
  const bool half = opts.has("half");
  Napi::Float32Array in;
  Napi::Uint16Array bits;
  if (half)
    bits = opts.u16("half");
  else
    in = opts.f32("images");
  double* control = opts.control();
  Napi::Object o = info[0].As<Napi::Object>();
  const int64_t n = optInt(env, o, "n");
  ack::PreprocessParams p;
  p.box = int(optInt(env, o, "box"));
  p.outBox = int(optInt(env, o, "outBox"));
  p.radius = optNumber(env, o, "radius");
  p.edge = optNumber(env, o, "edge");
  p.invert = optBool(env, o, "invert");
  p.mask = optBool(env, o, "mask");
  p.roundFloat16 = optBool(env, o, "roundFloat16");
  const bool screen = optBool(env, o, "screen");
  const int threads = int(optInt(env, o, "threads"));
  if (n < 1 || p.box < 2 || p.outBox < 2 || p.outBox > p.box || threads < 1)
    throw Napi::RangeError::New(env, "need n >= 1, 2 <= outBox <= box, threads >= 1");
  if (half) {
    requireLength(env, bits, n * p.box * p.box, "half", "n*box*box");
    p.half = bits.Data();
  } else {
    requireLength(env, in, n * p.box * p.box, "images", "n*box*box");
  }
  Napi::Float32Array shifts;
  if (optArray(env, o, "shifts", napi_float32_array, "a Float32Array", shifts)) {
    requireLength(env, shifts, n * 2, "options.shifts", "n*2");
    p.shifts = shifts.Data();
  }
  Napi::Float64Array ctf;
  if (optArray(env, o, "ctf", napi_float64_array, "a Float64Array", ctf)) {
    requireLength(env, ctf, n * ack::kCtfParamCount, "options.ctf", "n*7");
    p.ctf = ctf.Data();
    p.pixelSize = optNumber(env, o, "pixelSize");
    if (!(p.pixelSize > 0)) throw Napi::RangeError::New(env, "options.pixelSize must be > 0 to phase-flip");
  }
  auto* w = new PreprocessStackWorker(env, half ? nullptr : in.Data(), n, p, screen, threads, control);
  w->KeepAll(opts);  // images, control
  if (p.shifts) w->Keep(shifts);
  if (p.ctf) w->Keep(ctf);
  return w->Start();
}

class EncodeWorker : public PromiseWorker {
 public:
  EncodeWorker(Napi::Env env, Napi::Float32Array in) : PromiseWorker(env, "ackmeans.float16Encode"), in_(in.Data()) {
    n_ = in.ElementLength();
    out_.allocate(n_);
    Keep(in);
  }

 protected:
  void Run() override { ack::encode_float16(in_, out_.data, n_); }
  Napi::Value Result(Napi::Env env) override { return adopt<Napi::Uint16Array>(env, out_); }

 private:
  const float* in_;
  size_t n_;
  OwnedArray<uint16_t> out_;
};

// Decodes into a new array, or into `out` (a caller's buffer of at least as many values: no
// fresh pages to fault in, which costs more than the decoding itself here).
class DecodeWorker : public PromiseWorker {
 public:
  DecodeWorker(Napi::Env env, Napi::Uint16Array in, Napi::Float32Array out)
      : PromiseWorker(env, "ackmeans.float16Decode"), in_(in.Data()) {
    n_ = in.ElementLength();
    if (out.IsEmpty()) {
      owned_.allocate(n_);
      dest_ = owned_.data;
    } else {
      if (out.ElementLength() < n_)
        throw Napi::RangeError::New(env, "options.out must hold at least bits.length values");
      dest_ = out.Data();
      outRef_ = Napi::Persistent(out);  // also keeps it alive for the job
    }
    Keep(in);
  }

 protected:
  void Run() override { ack::decode_float16(in_, dest_, n_); }
  Napi::Value Result(Napi::Env env) override {
    return outRef_.IsEmpty() ? adopt<Napi::Float32Array>(env, owned_) : outRef_.Value();
  }

 private:
  const uint16_t* in_;
  size_t n_;
  float* dest_ = nullptr;
  OwnedArray<float> owned_;
  Napi::Reference<Napi::Float32Array> outRef_;
};

Napi::Value Float16Encode(const Napi::CallbackInfo& info) {
  Options o(info);
  return (new EncodeWorker(info.Env(), o.f32("values")))->Start();
}

Napi::Value Float16Decode(const Napi::CallbackInfo& info) {
  Options o(info);
  return (new DecodeWorker(info.Env(), o.u16("bits"), o.has("out") ? o.f32("out") : Napi::Float32Array()))->Start();
}

class GatherWorker : public PromiseWorker {
 public:
  GatherWorker(Napi::Env env, int fd, int64_t offset, size_t values, Napi::Int32Array items, Napi::Float32Array out,
               int threads)
      : PromiseWorker(env, "ackmeans.float16Gather"),
        fd_(fd),
        offset_(offset),
        values_(values),
        items_(items.Data()),
        count_(int64_t(items.ElementLength())),
        out_(out.Data()),
        threads_(threads) {
    Keep(items);
    outRef_ = Napi::Persistent(out);
  }

 protected:
  void Run() override {
    const int status = ack::gather_float16(fd_, offset_, values_, items_, count_, out_, threads_);
    if (status == -1) throw std::runtime_error("the file ended early");
    if (status != 0) throw std::runtime_error(std::string("read failed: ") + std::strerror(status));
  }
  Napi::Value Result(Napi::Env) override { return outRef_.Value(); }

 private:
  int fd_;
  int64_t offset_;
  size_t values_;
  const int32_t* items_;
  int64_t count_;
  float* out_;
  int threads_;
  Napi::Reference<Napi::Float32Array> outRef_;
};

Napi::Value Float16Gather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Options o(info);
  const int64_t fd = o.integer("fd"), offset = o.integer("offset"), images = o.integer("images");
  const int64_t values = o.integer("values"), threads = o.integer("threads");
  Napi::Int32Array items = o.i32("items");
  Napi::Float32Array out = o.f32("out");
  if (fd < 0 || offset < 0 || images < 0 || values < 1 || threads < 1)
    throw Napi::RangeError::New(env, "need fd, offset, images >= 0, values >= 1, threads >= 1");
  const size_t count = items.ElementLength();
  for (size_t i = 0; i < count; ++i)
    if (items[i] < 0 || items[i] >= images)
      throw Napi::RangeError::New(env, "options.items[" + std::to_string(i) + "] = " + std::to_string(items[i]) +
                                           " is outside 0.." + std::to_string(images - 1));
  if (out.ElementLength() < count * size_t(values))
    throw Napi::RangeError::New(env, "options.out must hold at least items.length*values values");
  return (new GatherWorker(env, int(fd), offset, size_t(values), items, out, int(threads)))->Start();
}

Registrar regPreprocess("preprocessStack", PreprocessStack);
Registrar regEncode("float16Encode", Float16Encode);
Registrar regDecode("float16Decode", Float16Decode);
Registrar regGather("float16Gather", Float16Gather);

}  // namespace
}  // namespace ackaddon
