// applyAlignment(image, box, psi, shiftX, shiftY, mirror) -> Float32Array(box*box)   (synchronous: one image)
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

Registrar reg("applyAlignment", ApplyAlignment);

}  // namespace
}  // namespace ackaddon
