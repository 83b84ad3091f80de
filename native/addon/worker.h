// Shared plumbing of the Node-API layer: a Promise-returning AsyncWorker, argument
// readers that throw TypeError naming the argument, and output arrays that adopt
// native memory. Validation of values (ranges, sizes) lives in TypeScript.
#pragma once
#include <napi.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../core/control.h"

namespace ackaddon {

// Runs Execute() on the libuv pool; resolves with Result() or rejects. A cancelled job
// rejects with an Error whose code is "ABORT_ERR"; other failures keep their message.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  explicit PromiseWorker(Napi::Env env, const char* name)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

  // Queues the job on the libuv pool and returns its promise (the worker frees itself when done).
  Napi::Promise Start() {
    Napi::Promise promise = Promise();
    Queue();
    return promise;
  }

  // Keeps a JavaScript value (an input array, the control block) alive for the job.
  void Keep(Napi::Value v) { kept_.push_back(Napi::Persistent(v.As<Napi::Object>())); }
  // Keeps every typed array read from an options object (inputs, outputs, the control block).
  template <class O>
  void KeepAll(const O& options) {
    for (const Napi::Value& v : options.arrays()) Keep(v);
  }

 protected:
  virtual void Run() = 0;
  virtual Napi::Value Result(Napi::Env env) = 0;

  void Execute() final {
    try {
      Run();
    } catch (const ack::Cancelled&) {
      cancelled_ = true;
      SetError("cancelled");
    } catch (const std::bad_alloc&) {
      SetError("out of memory");
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() final {
    Napi::HandleScope scope(Env());
    try {
      deferred_.Resolve(Result(Env()));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error& e) final {
    Napi::HandleScope scope(Env());
    Napi::Error err = Napi::Error::New(Env(), e.Message());
    err.Set("code", Napi::String::New(Env(), cancelled_ ? "ABORT_ERR" : "ERR_ACKMEANS_NATIVE"));
    deferred_.Reject(err.Value());
  }

  ack::Control control_;

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::ObjectReference> kept_;
  bool cancelled_ = false;
};

inline Napi::TypeError typeError(Napi::Env env, const std::string& name, const char* what) {
  return Napi::TypeError::New(env, name + " must be " + what);
}

inline Napi::Float32Array argFloat32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw typeError(info.Env(), name, "a Float32Array");
  return info[i].As<Napi::Float32Array>();
}

inline Napi::Float64Array argFloat64(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    throw typeError(info.Env(), name, "a Float64Array");
  return info[i].As<Napi::Float64Array>();
}

inline Napi::Int32Array argInt32Array(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw typeError(info.Env(), name, "an Int32Array");
  return info[i].As<Napi::Int32Array>();
}

inline int64_t argInt(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsNumber()) throw typeError(info.Env(), name, "a number");
  double v = info[i].As<Napi::Number>().DoubleValue();
  if (v != static_cast<double>(static_cast<int64_t>(v))) throw typeError(info.Env(), name, "an integer");
  return static_cast<int64_t>(v);
}

inline double argNumber(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsNumber()) throw typeError(info.Env(), name, "a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

inline bool argBool(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsBoolean()) throw typeError(info.Env(), name, "a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

// Throws RangeError "<name> must hold <what> values" unless `array` has exactly `count` elements.
inline void requireLength(Napi::Env env, const Napi::TypedArray& array, int64_t count, const char* name,
                          const char* what) {
  if (count < 0 || array.ElementLength() != size_t(count))
    throw Napi::RangeError::New(env, std::string(name) + " must hold " + what + " values");
}

// The control block: Float64Array(3) [cancel, done, total], shared with JavaScript.
inline double* argControl(const Napi::CallbackInfo& info, size_t i) {
  Napi::Float64Array a = argFloat64(info, i, "control");
  if (a.ElementLength() < 3) throw Napi::RangeError::New(info.Env(), "control must have 3 elements");
  return a.Data();
}

// The one options object every native call takes (sharp's "baton"): fields are read by name on
// the main thread and copied into the worker's plain C++ fields; typed arrays read through it are
// remembered so the worker can keep them alive for the job (KeepAll). Errors name the field:
// "options.images must be a Float32Array".
class Options {
 public:
  explicit Options(const Napi::CallbackInfo& info) : env_(info.Env()) {
    if (info.Length() < 1 || !info[0].IsObject() || info[0].IsTypedArray())
      throw Napi::TypeError::New(env_, "the native call takes one options object");
    o_ = info[0].As<Napi::Object>();
  }
  Napi::Env Env() const { return env_; }
  bool has(const char* name) const {
    Napi::Value v = o_.Get(name);
    return !v.IsUndefined() && !v.IsNull();
  }
  Napi::Float32Array f32(const char* name) {
    return typed<Napi::Float32Array>(name, napi_float32_array, "a Float32Array");
  }
  Napi::Float64Array f64(const char* name) {
    return typed<Napi::Float64Array>(name, napi_float64_array, "a Float64Array");
  }
  Napi::Int32Array i32(const char* name) { return typed<Napi::Int32Array>(name, napi_int32_array, "an Int32Array"); }
  Napi::Uint8Array u8(const char* name) { return typed<Napi::Uint8Array>(name, napi_uint8_array, "a Uint8Array"); }
  Napi::Uint16Array u16(const char* name) { return typed<Napi::Uint16Array>(name, napi_uint16_array, "a Uint16Array"); }
  int64_t integer(const char* name) {
    double v = number(name);
    if (v != static_cast<double>(static_cast<int64_t>(v))) throw error(name, "an integer");
    return static_cast<int64_t>(v);
  }
  double number(const char* name) {
    Napi::Value v = o_.Get(name);
    if (!v.IsNumber()) throw error(name, "a number");
    return v.As<Napi::Number>().DoubleValue();
  }
  bool boolean(const char* name) {
    Napi::Value v = o_.Get(name);
    if (!v.IsBoolean()) throw error(name, "a boolean");
    return v.As<Napi::Boolean>().Value();
  }
  std::string string(const char* name) {
    Napi::Value v = o_.Get(name);
    if (!v.IsString()) throw error(name, "a string");
    return v.As<Napi::String>().Utf8Value();
  }
  Napi::Object object(const char* name) {
    Napi::Value v = o_.Get(name);
    if (!v.IsObject()) throw error(name, "an object");
    return v.As<Napi::Object>();
  }
  // The control block: Float64Array(3) [cancel, done, total], shared with JavaScript.
  double* control() {
    auto a = f64("control");
    if (a.ElementLength() < 3) throw Napi::RangeError::New(env_, "options.control must have 3 elements");
    return a.Data();
  }
  // Every typed array read so far (for PromiseWorker::Keep).
  const std::vector<Napi::Value>& arrays() const { return arrays_; }

 private:
  Napi::TypeError error(const char* name, const char* what) const {
    return Napi::TypeError::New(env_, std::string("options.") + name + " must be " + what);
  }
  template <class A>
  A typed(const char* name, napi_typedarray_type type, const char* what) {
    Napi::Value v = o_.Get(name);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) throw error(name, what);
    arrays_.push_back(v);
    return v.As<A>();
  }
  Napi::Env env_;
  Napi::Object o_;
  std::vector<Napi::Value> arrays_;
};

// A heap buffer of T that becomes a typed array without a copy (freed by V8's finaliser).
template <class T>
struct OwnedArray {
  T* data = nullptr;
  size_t length = 0;
  void allocate(size_t n) {
    release();
    data = static_cast<T*>(std::malloc(std::max<size_t>(1, n) * sizeof(T)));
    if (!data) throw std::bad_alloc();
    length = n;
  }
  void release() {
    std::free(data);
    data = nullptr;
    length = 0;
  }
  ~OwnedArray() { release(); }
};

template <class ArrayT, class T>
inline ArrayT adopt(Napi::Env env, OwnedArray<T>& owned) {
  T* p = owned.data;
  size_t len = owned.length;
  owned.data = nullptr;
  owned.length = 0;
  auto buffer =
      Napi::ArrayBuffer::New(env, p, std::max<size_t>(1, len) * sizeof(T), [](Napi::Env, void* d) { std::free(d); });
  return ArrayT::New(env, len, buffer, 0);
}

}  // namespace ackaddon
