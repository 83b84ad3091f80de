// Tests of native/core without Node (npm run test:native builds this with AddressSanitizer and
// UndefinedBehaviorSanitizer): each kernel against a slow, obviously correct reference.
#include <unistd.h>
#include <cerrno>
#include <cmath>
#include <complex>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "../core/ack_pass.h"
#include "../core/align.h"
#include "../core/average.h"
#include "../core/control.h"
#include "../core/ctf.h"
#include "../core/fft_plans.h"
#include "../core/float16.h"
#include "../core/gather.h"
#include "../core/preprocess.h"
#include "../core/simd.h"
#include "../core/transform.h"

namespace {

int failures = 0;
int checks = 0;

#define CHECK(cond, ...)                                                            \
  do {                                                                              \
    ++checks;                                                                       \
    if (!(cond)) {                                                                  \
      ++failures;                                                                   \
      std::fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                            \
      std::fprintf(stderr, "\n");                                                   \
    }                                                                               \
  } while (0)

std::vector<float> random_floats(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = u(gen);
  return v;
}

// FFT: the cached r2c plan against a naive DFT, and the c2r plan inverting it (× rows·cols).
void test_fft() {
  const int rows = 12, cols = 10, hc = cols / 2 + 1;
  std::vector<float> img = random_floats(size_t(rows) * cols, 1);
  auto real = ack::fftw_buffer<float>(size_t(rows) * cols);
  auto spec = ack::fftw_buffer<fftwf_complex>(size_t(rows) * hc);
  std::copy(img.begin(), img.end(), real.get());
  fftwf_plan forward = ack::plan_r2c_2d(rows, cols);
  CHECK(forward == ack::plan_r2c_2d(rows, cols), "the cache returns one plan per shape");
  fftwf_execute_dft_r2c(forward, real.get(), spec.get());
  double worst = 0;
  for (int ky = 0; ky < rows; ++ky)
    for (int kx = 0; kx < hc; ++kx) {
      std::complex<double> sum = 0;
      for (int y = 0; y < rows; ++y)
        for (int x = 0; x < cols; ++x)
          sum += double(img[size_t(y) * cols + x]) *
                 std::polar(1.0, -2 * M_PI * (double(ky) * y / rows + double(kx) * x / cols));
      const fftwf_complex& s = spec[size_t(ky) * hc + kx];
      worst = std::max(worst, std::abs(sum - std::complex<double>(s[0], s[1])));
    }
  CHECK(worst < 1e-4, "r2c differs from the DFT by %g", worst);
  fftwf_execute_dft_c2r(ack::plan_c2r_2d(rows, cols), spec.get(), real.get());
  worst = 0;
  for (size_t i = 0; i < img.size(); ++i) worst = std::max(worst, double(std::fabs(real[i] / (rows * cols) - img[i])));
  CHECK(worst < 1e-5, "c2r(r2c(x)) / (rows·cols) differs from x by %g", worst);
}

// The pose applier against its formula written out, and apply_poses for 1 and 2 threads.
void test_apply_poses() {
  const int box = 17;
  const size_t D = size_t(box) * box;
  std::vector<float> img = random_floats(D, 2), out(D);
  ack::apply_alignment(img.data(), box, 0, 0, 0, false, out.data());
  CHECK(out == img, "the identity pose changes the image");
  ack::apply_alignment(img.data(), box, 90, 0, 0, false, out.data());
  const int c = box / 2;
  bool quarter = true;
  for (int y = 0; y < box; ++y)
    for (int x = 0; x < box; ++x) {
      // aligned(p) = x(c + R(−90°)(p − c)): R(−90°)(u, v) = (v, −u)
      const int sx = c + (y - c), sy = c - (x - c);
      const float want = (sx < 0 || sy < 0 || sx >= box || sy >= box) ? 0.f : img[size_t(sy) * box + sx];
      quarter = quarter && std::fabs(out[size_t(y) * box + x] - want) < 1e-6f;
    }
  CHECK(quarter, "a quarter turn does not move pixels onto pixels");
  const int n = 9;
  std::vector<float> stack = random_floats(D * n, 3), psi(n), sx(n), sy(n), a(D * n), b(D * n);
  std::vector<uint8_t> mirror(n);
  for (int i = 0; i < n; ++i) {
    psi[i] = 37.5f * i - 100;
    sx[i] = 0.3f * i - 1;
    sy[i] = 1.7f - 0.4f * i;
    mirror[i] = uint8_t(i % 2);
  }
  ack::Control control;
  ack::apply_poses(stack.data(), n, box, psi.data(), sx.data(), sy.data(), mirror.data(), a.data(), 1, control);
  ack::apply_poses(stack.data(), n, box, psi.data(), sx.data(), sy.data(), mirror.data(), b.data(), 2, control);
  CHECK(a == b, "apply_poses depends on the thread count");
  double worst = 0;
  for (int i = 0; i < n; ++i) {
    const double t = psi[i] * M_PI / 180;
    const float* im = stack.data() + size_t(i) * D;
    auto at = [&](long x, long y) { return (x < 0 || y < 0 || x >= box || y >= box) ? 0.0 : double(im[y * box + x]); };
    for (int y = 0; y < box; ++y)
      for (int x = 0; x < box; ++x) {
        const double u = x - c, v = mirror[i] ? c - y : y - c;
        const double px = c + std::cos(t) * u + std::sin(t) * v - sx[i];
        const double py = c - std::sin(t) * u + std::cos(t) * v - sy[i];
        const double x0 = std::floor(px), y0 = std::floor(py), fx = px - x0, fy = py - y0;
        const double want = (1 - fx) * (1 - fy) * at(long(x0), long(y0)) + fx * (1 - fy) * at(long(x0) + 1, long(y0)) +
                            (1 - fx) * fy * at(long(x0), long(y0) + 1) + fx * fy * at(long(x0) + 1, long(y0) + 1);
        worst = std::max(worst, std::fabs(want - a[size_t(i) * D + size_t(y) * box + x]));
      }
  }
  CHECK(worst < 1e-5, "apply_poses differs from the formula by %g", worst);
}

// The ACK pass against the rule executed literally: leave, join argmin d + λ2·size, ties keep.
void test_ack_pass() {
  const int64_t n = 300, k = 7;
  std::vector<float> table = random_floats(size_t(n * k), 4);
  for (float& v : table) v = std::fabs(v) * 10;
  std::vector<int32_t> assignment(n), sizes(k, 0), order(n);
  std::mt19937 gen(5);
  for (int64_t i = 0; i < n; ++i) {
    assignment[i] = int32_t(gen() % k);
    ++sizes[assignment[i]];
    order[i] = int32_t((i * 37) % n);
  }
  std::vector<int32_t> refAssignment = assignment, refSizes = sizes;
  const double lambda2 = 0.05;
  int64_t refMoves = 0;
  for (int64_t o = 0; o < n; ++o) {
    const int64_t i = order[o];
    const int32_t cur = refAssignment[i];
    --refSizes[cur];
    int32_t best = cur;
    double bestCost = double(table[i * k + cur]) + lambda2 * refSizes[cur];
    for (int32_t h = 0; h < k; ++h) {
      const double cost = double(table[i * k + h]) + lambda2 * refSizes[h];
      if (cost < bestCost) {
        bestCost = cost;
        best = h;
      }
    }
    ++refSizes[best];
    if (best != cur) ++refMoves;
    refAssignment[i] = best;
  }
  ack::Control control;
  const int64_t moves =
      ack::ack_pass(table.data(), n, k, assignment.data(), sizes.data(), lambda2, order.data(), n, control);
  CHECK(moves == refMoves, "ack_pass made %lld moves, the rule %lld", (long long)moves, (long long)refMoves);
  CHECK(assignment == refAssignment, "ack_pass assignment differs from the rule");
  CHECK(sizes == refSizes, "ack_pass sizes differ from the rule");
}

// Exact class sums: each image in the half it is given; taking the images out again (sign −1)
// leaves exactly zero sums and counts; the same sums for 1 and 2 threads.
void test_class_sums() {
  const int box = 12, k = 3, n = 20;
  const size_t D = size_t(box) * box;
  std::mt19937 gen(5);
  std::uniform_real_distribution<float> u(-3.f, 3.f);
  std::vector<float> images(n * D), psi(n), sx(n), sy(n);
  for (auto& v : images) v = u(gen);
  std::vector<int32_t> assignment(n);
  std::vector<uint8_t> mirror(n), half(n);
  for (int i = 0; i < n; ++i) {
    assignment[i] = i % 7 == 3 ? -1 : i % k;
    psi[i] = 17.f * i;
    sx[i] = u(gen) / 3;
    sy[i] = u(gen) / 3;
    mirror[i] = i % 2;
    half[i] = (i / 2) % 2;
  }
  const double quantum = std::ldexp(1.0, -40);
  auto sums = [&](int threads, int sign, std::vector<double>& even, std::vector<double>& odd,
                  std::vector<int32_t>& members, std::vector<int32_t>& evenMembers) {
    ack::Control control;
    ack::accumulate_classes(images.data(), n, box, assignment.data(), psi.data(), sx.data(), sy.data(), mirror.data(),
                            k, even.data(), odd.data(), members.data(), evenMembers.data(), threads, control, quantum,
                            half.data(), sign);
  };
  std::vector<double> e1(k * D), o1(k * D), e2(k * D), o2(k * D);
  std::vector<int32_t> m1(k), m2(k), em1(k), em2(k);
  sums(1, 1, e1, o1, m1, em1);
  sums(2, 1, e2, o2, m2, em2);
  CHECK(e1 == e2 && o1 == o2 && m1 == m2 && em1 == em2, "class sums depend on the thread count");
  int expectEven[k] = {0, 0, 0}, expectAll[k] = {0, 0, 0};
  for (int i = 0; i < n; ++i)
    if (assignment[i] >= 0) {
      ++expectAll[assignment[i]];
      if (half[i] == 0) ++expectEven[assignment[i]];
    }
  for (int j = 0; j < k; ++j)
    CHECK(m1[j] == expectAll[j] && em1[j] == expectEven[j], "class %d counts %d/%d, expected %d/%d", j, m1[j], em1[j],
          expectAll[j], expectEven[j]);
  sums(2, -1, e1, o1, m1, em1);
  bool zero = true;
  for (size_t p = 0; p < k * D; ++p) zero = zero && e1[p] == 0 && o1[p] == 0;
  for (int j = 0; j < k; ++j) zero = zero && m1[j] == 0 && em1[j] == 0;
  CHECK(zero, "taking the images out again does not leave zero sums");
}

// float16: every half round-trips; known values; ties to even; overflow to infinity.
void test_float16() {
  int bad = 0;
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = ack::half_to_float(uint16_t(h));
    const bool nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff);
    if (nan ? !std::isnan(f) : ack::float_to_half(f) != h) ++bad;
  }
  CHECK(bad == 0, "%d half values do not round-trip", bad);
  CHECK(ack::float_to_half(1.f) == 0x3c00, "1");
  CHECK(ack::float_to_half(-2.f) == 0xc000, "-2");
  CHECK(ack::float_to_half(65504.f) == 0x7bff, "the largest half");
  CHECK(ack::float_to_half(65520.f) == 0x7c00, "overflow to infinity");
  CHECK(ack::float_to_half(1.f + 1.f / 2048) == 0x3c00, "a tie rounds to even (down)");
  CHECK(ack::float_to_half(1.f + 3.f / 2048) == 0x3c02, "a tie rounds to even (up)");
  CHECK(ack::half_to_float(0x0001) == std::ldexp(1.f, -24), "the smallest subnormal");
  std::vector<float> v = random_floats(1000, 6), back(1000);
  std::vector<uint16_t> bits(1000);
  ack::encode_float16(v.data(), bits.data(), v.size());
  ack::decode_float16(bits.data(), back.data(), v.size());
  double worst = 0;
  for (size_t i = 0; i < v.size(); ++i) worst = std::max(worst, double(std::fabs(back[i] - v[i]) / std::fabs(v[i])));
  CHECK(worst <= std::ldexp(1.0, -11), "relative rounding error %g above 2^-11", worst);
  // decoding every half (odd count: a partial vector) gives half_to_float's bits, SIMD on and off
  std::vector<uint16_t> all(65535);
  for (uint32_t h = 0; h < all.size(); ++h) all[h] = uint16_t(h + 1);
  for (const bool simd : {true, false}) {
    std::vector<float> out(all.size());
    ack::set_simd(simd);
    ack::decode_float16(all.data(), out.data(), all.size());
    ack::set_simd(true);
    int differ = 0;
    for (size_t i = 0; i < all.size(); ++i) {
      const float want = ack::half_to_float(all[i]);
      differ += std::memcmp(&out[i], &want, sizeof want) != 0;
    }
    CHECK(differ == 0, "%d decoded halves differ from half_to_float (SIMD %d)", differ, int(simd));
  }
  // encoding and rounding in place: float_to_half's bits, SIMD on and off, for floats across the
  // whole range (every 4093rd bit pattern: all exponents, NaNs with payloads, both signs) and the
  // edges (ties at normal and subnormal halves, the overflow threshold, float subnormals)
  std::vector<float> floats;
  for (uint64_t x = 0; x <= 0xffffffffu; x += 4093) {
    float f;
    const uint32_t b = uint32_t(x);
    std::memcpy(&f, &b, sizeof f);
    floats.push_back(f);
  }
  for (const float f : {65504.f, 65519.f, 65520.f, 65536.f, 1.f + 1.f / 2048, 1.f + 3.f / 2048, std::ldexp(3.f, -25),
                        std::ldexp(1.f, -25), std::ldexp(1.f, -26), std::ldexp(1.f, -140), -0.f, INFINITY, -INFINITY,
                        std::nanf(""), -std::nanf("")})
    floats.push_back(f);
  floats.push_back(0.5f);  // an odd count: a partial vector
  for (const bool simd : {true, false}) {
    std::vector<uint16_t> enc(floats.size());
    std::vector<float> rounded(floats);
    ack::set_simd(simd);
    ack::encode_float16(floats.data(), enc.data(), floats.size());
    ack::round_float16(rounded.data(), rounded.size());
    ack::set_simd(true);
    int badEnc = 0, badRound = 0;
    for (size_t i = 0; i < floats.size(); ++i) {
      const uint16_t want = ack::float_to_half(floats[i]);
      const float back = ack::half_to_float(want);
      badEnc += enc[i] != want;
      badRound += std::memcmp(&rounded[i], &back, sizeof back) != 0;
    }
    CHECK(badEnc == 0, "%d of %zu encoded floats differ from float_to_half (SIMD %d)", badEnc, floats.size(),
          int(simd));
    CHECK(badRound == 0, "%d of %zu rounded floats differ (SIMD %d)", badRound, floats.size(), int(simd));
  }
}

// Preprocessing: screening codes, and a constant-plus-pattern image cropped keeps its mean.
void test_preprocess() {
  const int N = 24, m = 16, n = 4;
  std::vector<float> in = random_floats(size_t(N) * N * n, 7), out(size_t(m) * m * n);
  std::fill(in.begin() + N * N, in.begin() + 2 * N * N, 3.f);  // constant
  in[2 * N * N + 5] = NAN;
  in[3 * N * N + 9] = 2e6f;
  std::vector<uint8_t> screen(n);
  ack::PreprocessParams p;
  p.box = N;
  p.outBox = m;
  p.radius = 5;
  p.edge = 2;
  p.screen = screen.data();
  p.roundFloat16 = true;
  ack::Control control;
  ack::preprocess_images(in.data(), n, p, out.data(), 2, control);
  CHECK(screen[0] == uint8_t(ack::Screen::Good), "image 0 is good");
  CHECK(screen[1] == uint8_t(ack::Screen::Constant), "image 1 is constant");
  CHECK(screen[2] == uint8_t(ack::Screen::NonFinite), "image 2 has a NaN");
  CHECK(screen[3] == uint8_t(ack::Screen::OutOfRange), "image 3 is out of range");
  bool zeros = true, finite = true;
  for (size_t i = size_t(m) * m; i < out.size(); ++i) zeros = zeros && out[i] == 0.f;
  for (size_t i = 0; i < size_t(m) * m; ++i) finite = finite && std::isfinite(out[i]);
  CHECK(zeros, "rejected images are all zeros");
  CHECK(finite, "the good image is finite");
  std::vector<float> again(out.size());
  ack::preprocess_images(in.data(), n, p, again.data(), 1, control);
  CHECK(again == out, "preprocessing depends on the thread count");
}

// The phase flip's sign (Ctf::negative, by the parity of ⌊γ/π⌋) against the CTF's value.
void test_ctf_sign() {
  std::mt19937 gen(11);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  int disagree = 0, compared = 0;
  for (int c = 0; c < 20; ++c) {
    ack::CtfParams p{};
    p.defocusU = 5000 + 30000 * u(gen);
    p.defocusV = p.defocusU - 2000 * u(gen);
    p.defocusAngle = 180 * u(gen);
    p.voltage = c % 2 ? 300 : 200;
    p.cs = 2.7;
    p.amplitudeContrast = 0.1;
    p.phaseShift = c % 3 ? 0 : 90 * u(gen);
    const ack::Ctf ctf(p);
    for (int e = 0; e < 2000; ++e) {
      const double fx = (u(gen) - 0.5) * 0.5, fy = (u(gen) - 0.5) * 0.5;
      const double v = ctf(fx, fy);
      if (std::fabs(v) < 1e-9) continue;  // at a zero either sign is right
      ++compared;
      if (ctf.negative(fx, fy) != (v < 0)) ++disagree;
    }
  }
  CHECK(disagree == 0, "%d of %d CTF signs disagree", disagree, compared);
}

// Multi-reference alignment: an image that is a reference turned by 90° (an exact pixel
// permutation) or flipped scores ~0 against it, with the mirror flag of the flip (the mirror's
// correlation is the imaginary part of the shared inverse FFT); SIMD on and off give identical
// bits (transposition and arg-max copies, at sizes that leave partial 4×4 blocks); and the sparse
// search gives the dense search's entries. Run under the sanitizers, this covers the pointer
// arithmetic of the gather.
// With `shiftReferences` the references are resampled at the shifts and the images once; the
// answers are the same here (the images are the references turned or flipped, unshifted).
void test_align_with(bool shiftReferences) {
  const int box = 24, k = 7, n = 6;
  const size_t dim = size_t(box) * box;
  std::vector<float> refs(k * dim);
  for (int j = 0; j < k; ++j) {  // smooth random blobs inside the mask
    std::mt19937 gen(100 + j);
    std::uniform_real_distribution<float> u(0.f, 1.f);
    for (int b = 0; b < 5; ++b) {
      const float cx = 7 + 10 * u(gen), cy = 7 + 10 * u(gen), a = 0.5f + u(gen);
      for (int y = 0; y < box; ++y)
        for (int x = 0; x < box; ++x)
          refs[j * dim + y * box + x] += a * std::exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy)) / 6.f);
    }
  }
  std::vector<float> images(n * dim);
  for (int i = 0; i < n; ++i) {
    const float* r = refs.data() + (i % k) * dim;
    float* im = images.data() + i * dim;
    for (int y = 0; y < box; ++y)
      for (int x = 0; x < box; ++x) {
        if (i % 2 == 0)  // turned by 90° about the centre (box/2, box/2): (x, y) ← (y, box − x)
          im[y * box + x] = (box - x) < box ? r[(box - x) % box * box + y] : 0.f;
        else  // flipped about the row through the centre: (x, y) ← (x, box − y)
          im[y * box + x] = (box - y) < box ? r[((box - y) % box) * box + x] : 0.f;
      }
  }
  ack::AlignSettings st;
  st.box = box;
  st.firstRing = 1;
  st.lastRing = 9;
  st.shiftRange = 1;
  st.mirror = true;
  st.shiftReferences = shiftReferences;
  const size_t cells = size_t(n) * k;
  struct Out {
    std::vector<float> score, psi, sx, sy;
    std::vector<uint8_t> mirror;
  };
  auto run = [&](bool simd) {
    Out o{std::vector<float>(cells), std::vector<float>(cells), std::vector<float>(cells), std::vector<float>(cells),
          std::vector<uint8_t>(cells)};
    ack::set_simd(simd);
    ack::Control control;
    ack::align_images(st, images.data(), n, refs.data(), k, o.score.data(), o.psi.data(), o.sx.data(), o.sy.data(),
                      o.mirror.data(), 2, control, nullptr);
    ack::set_simd(true);
    return o;
  };
  const Out fast = run(true), plain = run(false);
  CHECK(fast.score == plain.score && fast.psi == plain.psi && fast.mirror == plain.mirror && fast.sx == plain.sx,
        "SIMD on and off differ");
  for (int i = 0; i < n; ++i) {
    const int own = i % k;
    float other = INFINITY;
    for (int j = 0; j < k; ++j)
      if (j != own) other = std::min(other, fast.score[i * k + j]);
    const size_t e = size_t(i) * k + own;
    CHECK(fast.score[e] < 1e-3f * other, "image %d scores %g against its reference, %g against others", i,
          fast.score[e], other);
    CHECK(fast.mirror[e] == (i % 2), "image %d: mirror %d", i, fast.mirror[e]);
    CHECK(fast.sx[e] == 0 && fast.sy[e] == 0, "image %d: shift (%g, %g)", i, fast.sx[e], fast.sy[e]);
  }
  // the sparse search: candidates 6, −1 (empty), 0, 3 of every image
  const int m = 4;
  std::vector<int32_t> cand(n * m);
  for (int i = 0; i < n; ++i) {
    cand[i * m] = 6;
    cand[i * m + 1] = -1;
    cand[i * m + 2] = 0;
    cand[i * m + 3] = 3;
  }
  auto sparse = [&](bool simd) {
    Out o{std::vector<float>(n * m), std::vector<float>(n * m), std::vector<float>(n * m), std::vector<float>(n * m),
          std::vector<uint8_t>(n * m)};
    ack::set_simd(simd);
    ack::Control control;
    ack::align_candidates(st, images.data(), n, refs.data(), k, cand.data(), m, o.score.data(), o.psi.data(),
                          o.sx.data(), o.sy.data(), o.mirror.data(), 2, control, nullptr);
    ack::set_simd(true);
    return o;
  };
  const Out sparseFast = sparse(true), sparsePlain = sparse(false);
  // with the shifts on the references' side, the images' kept spectra give the same bits
  if (shiftReferences) {
    const int floats = ack::image_spectrum_floats(st);
    std::vector<float> spectra(size_t(n) * floats);
    std::vector<double> norms(n);
    ack::Control control;
    ack::image_spectra(st, images.data(), n, spectra.data(), norms.data(), 2, control);
    Out o{std::vector<float>(n * m), std::vector<float>(n * m), std::vector<float>(n * m), std::vector<float>(n * m),
          std::vector<uint8_t>(n * m)};
    ack::align_candidates(st, nullptr, n, refs.data(), k, cand.data(), m, o.score.data(), o.psi.data(), o.sx.data(),
                          o.sy.data(), o.mirror.data(), 2, control, nullptr, nullptr, 0, spectra.data(), norms.data());
    CHECK(o.score == sparseFast.score && o.psi == sparseFast.psi && o.sx == sparseFast.sx && o.sy == sparseFast.sy &&
              o.mirror == sparseFast.mirror,
          "sparse search from kept spectra differs from resampling the images");
  } else {
    bool refused = false;
    try {
      ack::image_spectrum_floats(st);
    } catch (const std::invalid_argument&) {
      refused = true;
    }
    CHECK(refused, "image spectra made without the shifts on the references' side");
  }
  CHECK(sparseFast.score == sparsePlain.score && sparseFast.psi == sparsePlain.psi && sparseFast.sx == sparsePlain.sx &&
            sparseFast.sy == sparsePlain.sy,
        "sparse search: SIMD on and off differ");
  const std::vector<float>& score = sparseFast.score;
  const std::vector<uint8_t>& mirror = sparseFast.mirror;
  for (int i = 0; i < n; ++i)
    for (int c = 0; c < m; ++c) {
      const int j = cand[i * m + c];
      if (j < 0) {
        CHECK(std::isinf(score[i * m + c]), "empty slot (%d, %d) scores %g", i, c, score[i * m + c]);
        continue;
      }
      const float want = fast.score[i * k + j], got = score[i * m + c];
      CHECK(std::fabs(got - want) <= 1e-4f * std::max(1.f, std::fabs(want)) &&
                mirror[i * m + c] == fast.mirror[i * k + j],
            "candidate (%d, %d): %g against the dense %g", i, j, got, want);
    }
}

void test_align() {
  test_align_with(false);
  test_align_with(true);
}

}  // namespace

// gather_float16: chosen images of a float16 file (runs, single images, the last image) decoded as
// decode_float16 decodes the whole file, for 1 and 3 threads; a file that ends early and a bad
// descriptor are reported.
void test_gather_float16() {
  const size_t values = 37, images = 300, header = 12;
  std::vector<float> all = random_floats(values * images, 9);
  std::vector<uint16_t> bits(all.size());
  ack::encode_float16(all.data(), bits.data(), bits.size());
  ack::decode_float16(bits.data(), all.data(), bits.size());
  char path[] = "/tmp/ackmeans-gather-XXXXXX";
  const int fd = mkstemp(path);
  CHECK(fd >= 0, "mkstemp");
  if (fd < 0) return;
  unlink(path);
  std::vector<char> head(header, 'h');
  bool wrote = write(fd, head.data(), header) == ssize_t(header);
  wrote = wrote && write(fd, bits.data(), bits.size() * 2) == ssize_t(bits.size() * 2);
  CHECK(wrote, "writing the test file");
  const std::vector<int32_t> items = {0, 1, 2, 3, 9, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 120, 200, 201, 299};
  for (const int threads : {1, 3}) {
    std::vector<float> out(items.size() * values, -7.f);
    const int status =
        ack::gather_float16(fd, header, values, items.data(), int64_t(items.size()), out.data(), threads);
    CHECK(status == 0, "status %d with %d threads", status, threads);
    int differ = 0;
    for (size_t r = 0; r < items.size(); ++r)
      differ += std::memcmp(&out[r * values], &all[size_t(items[r]) * values], values * sizeof(float)) != 0;
    CHECK(differ == 0, "%d of %zu images differ with %d threads", differ, items.size(), threads);
  }
  std::vector<float> out(values);
  const int32_t beyond = int32_t(images);
  CHECK(ack::gather_float16(fd, header, values, &beyond, 1, out.data(), 1) == -1, "reading past the end");
  close(fd);
  CHECK(ack::gather_float16(fd, header, values, items.data(), 1, out.data(), 1) == EBADF, "a closed descriptor");
}

// max_abs: the baseline's definition (NaNs skipped), SIMD on and off, over lengths with tails.
void test_max_abs() {
  for (const size_t n : {size_t(0), size_t(5), size_t(16), size_t(1001)}) {
    std::vector<float> v = random_floats(n, 11 + unsigned(n));
    if (n > 3) {
      v[n / 2] = -7.5f;
      v[1] = std::nanf("");
    }
    float want = 0;
    for (const float x : v)
      if (std::fabs(x) > want) want = std::fabs(x);
    for (const bool simd : {true, false}) {
      ack::set_simd(simd);
      const float got = ack::max_abs(v.data(), v.size());
      ack::set_simd(true);
      CHECK(got == want, "n %zu SIMD %d: %g, not %g", n, int(simd), double(got), double(want));
    }
  }
}

int main() {
  test_ctf_sign();
  test_fft();
  test_apply_poses();
  test_ack_pass();
  test_class_sums();
  test_float16();
  test_gather_float16();
  test_max_abs();
  test_preprocess();
  test_align();
  std::printf("native core tests: %d checks, %d failed\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
