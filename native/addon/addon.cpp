// Module entry: exports every function registered by the binding files.
#include <napi.h>

#include "registry.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  for (const auto& e : ackaddon::exportRegistry()) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
  return exports;
}

}  // namespace

NODE_API_MODULE(ackmeans_native, Init)
