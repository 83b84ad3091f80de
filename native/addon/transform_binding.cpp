// applyAlignment({image, box, psi, shiftX, shiftY, mirror}) -> Float32Array(box*box)   (synchronous: one image)
#include "../core/transform.h"
#include "registry.h"
#include "worker.h"

namespace ackaddon {
namespace {

Napi::Value ApplyAlignment(const Napi::CallbackInfo& info) {
  Options o(info);
  auto image = o.f32("image");
  const int64_t box = o.integer("box");
  const double psi = o.number("psi"), sx = o.number("shiftX"), sy = o.number("shiftY");
  const bool mirror = o.boolean("mirror");
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
