// Each binding file registers its exports with a static Registrar, so adding a native
// capability means adding one file under native/addon (both builds pick files up by glob).
#pragma once
#include <napi.h>

#include <vector>

namespace ackaddon {

using ExportFn = Napi::Value (*)(const Napi::CallbackInfo&);

struct ExportEntry {
  const char* name;
  ExportFn fn;
};

inline std::vector<ExportEntry>& exportRegistry() {
  static std::vector<ExportEntry> entries;
  return entries;
}

struct Registrar {
  Registrar(const char* name, ExportFn fn) { exportRegistry().push_back({name, fn}); }
};

}  // namespace ackaddon
