// alignImages({images, n, references, k, settings, outputs, threads, control[, offsets, offsetsPerImage]})
//   -> Promise<timings>
//   settings: {box, firstRing, lastRing, shiftRange, shiftStep, mirror, bandLimit, shiftReferences?}
//   outputs:  {score, psi, shiftX, shiftY: Float32Array(n*k), mirror: Uint8Array(n*k)}, filled in place
// alignCandidates({images, n, references, k, candidates, m, settings, outputs, threads, control})
//   -> Promise<timings>: the same for the pairs (i, candidates[i*m + c]); outputs hold n*m values
// offsets (Int32Array of n*offsetsPerImage shift-grid indices, optional): a local shift search per
//   image (see core/align.h)
// spectra, spectraNorms (alignCandidates only, optional: Float32Array n*floats, Float64Array n):
//   the images' spectra from imageSpectra for the same settings, instead of images
// imageSpectrumFloats({settings}) -> floats per image of imageSpectra (0: the settings do not shift
//   the references, so there is nothing to keep)
// imageSpectra({images, n, settings, spectra, norms, threads, control}) -> Promise<undefined>:
//   fills spectra (Float32Array n*floats) and norms (Float64Array n)
#include "../core/align.h"
#include "registry.h"
#include "worker.h"

namespace ackaddon {
namespace {

Napi::Float32Array fieldFloat32(Napi::Object o, const char* name, size_t length) {
  Napi::Value v = o.Get(name);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw typeError(o.Env(), std::string("outputs.") + name, "a Float32Array");
  auto a = v.As<Napi::Float32Array>();
  if (a.ElementLength() != length)
    throw Napi::RangeError::New(o.Env(), std::string("outputs.") + name + " must hold one value per pair");
  return a;
}

double fieldNumber(Napi::Object o, const char* name) {
  Napi::Value v = o.Get(name);
  if (!v.IsNumber()) throw typeError(o.Env(), std::string("settings.") + name, "a number");
  return v.As<Napi::Number>().DoubleValue();
}

// The settings object of an alignment call.
ack::AlignSettings parseSettings(Napi::Env env, Napi::Object so) {
  ack::AlignSettings s;
  s.box = int(fieldNumber(so, "box"));
  s.firstRing = int(fieldNumber(so, "firstRing"));
  s.lastRing = int(fieldNumber(so, "lastRing"));
  s.shiftRange = fieldNumber(so, "shiftRange");
  s.shiftStep = fieldNumber(so, "shiftStep");
  s.bandLimit = fieldNumber(so, "bandLimit");
  Napi::Value mv = so.Get("mirror");
  if (!mv.IsBoolean()) throw typeError(env, "settings.mirror", "a boolean");
  s.mirror = mv.As<Napi::Boolean>().Value();
  Napi::Value rv = so.Get("shiftReferences");
  if (!rv.IsUndefined()) {
    if (!rv.IsBoolean()) throw typeError(env, "settings.shiftReferences", "a boolean");
    s.shiftReferences = rv.As<Napi::Boolean>().Value();
  }
  if (s.box < 4 || s.firstRing < 1 || s.lastRing < s.firstRing || !(s.shiftStep > 0) || s.shiftRange < 0 ||
      !(s.bandLimit > 0))
    throw Napi::RangeError::New(env, "invalid alignment settings (box, rings, shift step or range, band limit)");
  return s;
}

// Floats per image of image_spectra, or a RangeError naming what is wrong.
int64_t spectrumFloats(Napi::Env env, const ack::AlignSettings& s) {
  try {
    return ack::image_spectrum_floats(s);
  } catch (const std::invalid_argument& e) {
    throw Napi::RangeError::New(env, e.what());
  }
}

class AlignWorker : public PromiseWorker {
 public:
  AlignWorker(Napi::Env env, const ack::AlignSettings& s) : PromiseWorker(env, "ackmeans.alignImages"), s_(s) {}
  const float* images = nullptr;
  const float* refs = nullptr;
  int64_t n = 0, k = 0;
  float *score = nullptr, *psi = nullptr, *sx = nullptr, *sy = nullptr;
  uint8_t* mirror = nullptr;
  int threads = 1;
  const int32_t* candidates = nullptr;  // non-null: align_candidates with m per image
  int m = 0;
  const int32_t* offsets = nullptr;  // non-null: offsetsPerImage grid offsets per image
  int offsetsPerImage = 0;
  const float* spectra = nullptr;  // non-null: the images' kept spectra (images unused)
  const double* spectraNorms = nullptr;
  void attach(double* block) { control_.attach(block); }

 protected:
  void Run() override {
    if (candidates)
      ack::align_candidates(s_, images, n, refs, k, candidates, m, score, psi, sx, sy, mirror, threads, control_, &t_,
                            offsets, offsetsPerImage, spectra, spectraNorms);
    else
      ack::align_images(s_, images, n, refs, k, score, psi, sx, sy, mirror, threads, control_, &t_, offsets,
                        offsetsPerImage);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("resample", t_.resample);
    o.Set("gemm", t_.gemm);
    o.Set("gather", t_.gather);
    o.Set("ifft", t_.ifft);
    o.Set("peak", t_.peak);
    o.Set("gemmFlops", t_.gemmFlops);
    o.Set("ifftLength", t_.ifftLength);
    o.Set("correlations", t_.correlations);
    o.Set("transforms", t_.transforms);
    return o;
  }

 private:
  ack::AlignSettings s_;
  ack::AlignTimings t_;
};

// alignImages (sparse = false) and alignCandidates (sparse = true).
Napi::Value StartAlign(const Napi::CallbackInfo& info, bool sparse) {
  Napi::Env env = info.Env();
  Options o(info);
  const bool kept = sparse && o.has("spectra");
  Napi::Float32Array X, spectra;
  Napi::Float64Array spectraNorms;
  if (kept) {
    spectra = o.f32("spectra");
    spectraNorms = o.f64("spectraNorms");
  } else {
    X = o.f32("images");
  }
  int64_t n = o.integer("n");
  auto M = o.f32("references");
  int64_t k = o.integer("k");
  Napi::Int32Array cand;
  int64_t m = 0;
  if (sparse) {
    cand = o.i32("candidates");
    m = o.integer("m");
  }
  Napi::Int32Array offsets;
  int64_t perImage = 0;
  if (o.has("offsets")) {
    offsets = o.i32("offsets");
    perImage = o.integer("offsetsPerImage");
  }
  Napi::Object so = o.object("settings");
  Napi::Object out = o.object("outputs");
  int threads = int(o.integer("threads"));
  double* control = o.control();
  const ack::AlignSettings s = parseSettings(env, so);
  if (n < 1 || k < 1 || threads < 1 || (sparse && (m < 1 || m > 4096)))
    throw Napi::RangeError::New(env, "alignImages: invalid sizes or settings");
  const size_t boxSq = size_t(s.box) * s.box;
  if (kept) {
    if (!offsets.IsEmpty()) throw Napi::RangeError::New(env, "options.spectra cannot be used with offsets");
    requireLength(env, spectra, n * spectrumFloats(env, s), "spectra", "n*imageSpectrumFloats(settings)");
    requireLength(env, spectraNorms, n, "spectraNorms", "n");
  } else {
    requireLength(env, X, int64_t(n * boxSq), "images", "n*box*box");
  }
  requireLength(env, M, int64_t(k * boxSq), "references", "k*box*box");
  if (sparse) requireLength(env, cand, n * m, "candidates", "n*m");
  if (!offsets.IsEmpty()) {
    if (perImage < 1 || perImage > ack::shift_grid_size(s))
      throw Napi::RangeError::New(env, "options.offsetsPerImage must be in [1, shift grid size]");
    requireLength(env, offsets, n * perImage, "offsets", "n*offsetsPerImage");
  }
  const size_t nk = size_t(n) * size_t(sparse ? m : k);
  auto score = fieldFloat32(out, "score", nk);
  auto psi = fieldFloat32(out, "psi", nk);
  auto sx = fieldFloat32(out, "shiftX", nk);
  auto sy = fieldFloat32(out, "shiftY", nk);
  Napi::Value mir = out.Get("mirror");
  if (!mir.IsTypedArray() || mir.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array ||
      mir.As<Napi::Uint8Array>().ElementLength() != nk)
    throw typeError(env, "outputs.mirror", "a Uint8Array of one value per pair");

  auto* w = new AlignWorker(env, s);
  w->images = kept ? nullptr : X.Data();
  if (kept) {
    w->spectra = spectra.Data();
    w->spectraNorms = spectraNorms.Data();
  }
  w->refs = M.Data();
  w->n = n;
  w->k = k;
  w->score = score.Data();
  w->psi = psi.Data();
  w->sx = sx.Data();
  w->sy = sy.Data();
  w->mirror = mir.As<Napi::Uint8Array>().Data();
  w->threads = threads;
  if (sparse) {
    w->candidates = cand.Data();
    w->m = int(m);
  }
  if (!offsets.IsEmpty()) {
    w->offsets = offsets.Data();
    w->offsetsPerImage = int(perImage);
  }
  w->KeepAll(o);  // images, references, control
  for (Napi::Value v : {Napi::Value(score), Napi::Value(psi), Napi::Value(sx), Napi::Value(sy), mir}) w->Keep(v);
  w->attach(control);
  return w->Start();
}

class SpectraWorker : public PromiseWorker {
 public:
  SpectraWorker(Napi::Env env, const ack::AlignSettings& s) : PromiseWorker(env, "ackmeans.imageSpectra"), s_(s) {}
  const float* images = nullptr;
  int64_t n = 0;
  float* spectra = nullptr;
  double* norms = nullptr;
  int threads = 1;
  void attach(double* block) { control_.attach(block); }

 protected:
  void Run() override { ack::image_spectra(s_, images, n, spectra, norms, threads, control_); }
  Napi::Value Result(Napi::Env env) override { return env.Undefined(); }

 private:
  ack::AlignSettings s_;
};

Napi::Value ImageSpectra(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Options o(info);
  auto X = o.f32("images");
  const int64_t n = o.integer("n");
  const ack::AlignSettings s = parseSettings(env, o.object("settings"));
  auto spectra = o.f32("spectra");
  auto norms = o.f64("norms");
  const int threads = int(o.integer("threads"));
  double* control = o.control();
  if (n < 1 || threads < 1) throw Napi::RangeError::New(env, "imageSpectra: invalid sizes");
  requireLength(env, X, int64_t(n * s.box * s.box), "images", "n*box*box");
  requireLength(env, spectra, n * spectrumFloats(env, s), "spectra", "n*imageSpectrumFloats(settings)");
  requireLength(env, norms, n, "norms", "n");
  auto* w = new SpectraWorker(env, s);
  w->images = X.Data();
  w->n = n;
  w->spectra = spectra.Data();
  w->norms = norms.Data();
  w->threads = threads;
  w->KeepAll(o);
  w->attach(control);
  return w->Start();
}

// 0 when the settings do not search the shifts on the references' side (nothing to keep).
Napi::Value ImageSpectrumFloats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Options o(info);
  const ack::AlignSettings s = parseSettings(env, o.object("settings"));
  try {
    return Napi::Number::New(env, double(ack::image_spectrum_floats(s)));
  } catch (const std::invalid_argument&) {
    return Napi::Number::New(env, 0);
  }
}

Napi::Value AlignImages(const Napi::CallbackInfo& info) { return StartAlign(info, false); }
Napi::Value AlignCandidates(const Napi::CallbackInfo& info) { return StartAlign(info, true); }

Registrar reg("alignImages", AlignImages);
Registrar regCandidates("alignCandidates", AlignCandidates);
Registrar regSpectra("imageSpectra", ImageSpectra);
Registrar regSpectrumFloats("imageSpectrumFloats", ImageSpectrumFloats);

}  // namespace
}  // namespace ackaddon
