// The per-class results both finalisers return (classFinalize, wienerFinalize): the averages and
// the two half-set averages (k·box² values each), the FRC (k·(box/2+1) shells) and each class's
// resolution, as typed arrays adopted without a copy.
#pragma once

#include <napi.h>

#include "worker.h"

namespace ackaddon {

struct ClassOutputs {
  OwnedArray<float> averages, even, odd, frc, resolution;

  void allocate(size_t k, int box) {
    const size_t D = size_t(box) * box;
    averages.allocate(k * D);
    even.allocate(k * D);
    odd.allocate(k * D);
    frc.allocate(k * size_t(box / 2 + 1));
    resolution.allocate(k);
  }

  // Sets averages, even, odd, frc and resolution on `o` (the buffers pass to V8).
  void adoptInto(Napi::Env env, Napi::Object o) {
    o.Set("averages", adopt<Napi::Float32Array>(env, averages));
    o.Set("even", adopt<Napi::Float32Array>(env, even));
    o.Set("odd", adopt<Napi::Float32Array>(env, odd));
    o.Set("frc", adopt<Napi::Float32Array>(env, frc));
    o.Set("resolution", adopt<Napi::Float32Array>(env, resolution));
  }
};

}  // namespace ackaddon
