/**
 * The slow, obviously-correct alignment used to check the engine (tests only).
 *
 * It follows the definitions literally: sample each ring of the (shifted, mirrored) image at
 * θ_t = 2πt/M_r by bilinear interpolation; the ring is the trigonometric polynomial through
 * those samples with harmonics m ≤ m_r (the engine's band limit); rotate it explicitly by α
 * (evaluate the polynomial at θ_t + α, direct sums, no FFT), multiply with the band-limited
 * reference ring sample by sample, weight each sample by its area 2πr/M_r, and search α
 * exhaustively (1° steps, then 0.01° around the best) for every shift and mirror. With
 * `shiftReferences` the reference is sampled around each grid offset d instead and the image at
 * its centre, and the pose shift is d turned by the found angle: R(−ψ)·F^mirror·d.
 */
import type { AlignSettings } from '../../src/align/options.js';
export type ReferenceOptions = Omit<AlignSettings, 'shiftReferences'> & { shiftReferences?: boolean };

export interface ReferenceResult {
  score: number;
  /** ‖x‖²_w + ‖y‖²_w of the best match: the size of the numbers the score is a difference of. */
  norms: number;
  psi: number;
  shiftX: number;
  shiftY: number;
  mirror: boolean;
}

/** Bilinear value at (x, y) (x = column), zero outside the image. */
export function bilinear(img: Float32Array, box: number, x: number, y: number): number {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  const at = (i: number, j: number): number =>
    i < 0 || j < 0 || i >= box || j >= box ? 0 : img[j * box + i];
  return (
    (1 - fx) * (1 - fy) * at(x0, y0) +
    fx * (1 - fy) * at(x0 + 1, y0) +
    (1 - fx) * fy * at(x0, y0 + 1) +
    fx * fy * at(x0 + 1, y0 + 1)
  );
}

/** The pose applier's documented formula, literally (README, src/align/apply.ts): aligned(p) = x(c + R(−ψ)·F^m·(p − c) − t). */
export function slowApply(
  image: Float32Array,
  box: number,
  p: { psi: number; shiftX: number; shiftY: number; mirror: boolean },
): Float32Array {
  const c = Math.floor(box / 2);
  const a = (p.psi * Math.PI) / 180;
  const out = new Float32Array(box * box);
  for (let y = 0; y < box; y++)
    for (let x = 0; x < box; x++) {
      const u = x - c;
      const v = p.mirror ? c - y : y - c;
      out[y * box + x] = bilinear(
        image,
        box,
        c + Math.cos(a) * u + Math.sin(a) * v - p.shiftX,
        c - Math.sin(a) * u + Math.cos(a) * v - p.shiftY,
      );
    }
  return out;
}

/** Samples on ring r: the smallest power of two ≥ 2πr (at least 8). */
export function ringSamples(r: number): number {
  let m = 8;
  while (m < 2 * Math.PI * r) m *= 2;
  return m;
}

/** A ring as a trigonometric polynomial: coefficients a_m, b_m of cos(mθ), sin(mθ), m = 0..keep. */
interface Ring {
  r: number;
  M: number;
  a: number[];
  b: number[];
}

/** Rings of `img` sampled around (c + sx, c + sy), mirrored (y → −y) if asked, band-limited. */
function rings(img: Float32Array, o: ReferenceOptions, sx: number, sy: number, mirror: boolean): Ring[] {
  const c = Math.floor(o.box / 2);
  const out: Ring[] = [];
  for (let r = o.firstRing; r <= o.lastRing; r++) {
    const M = ringSamples(r);
    const keep = Math.min(M / 2 - 1, Math.floor(2 * Math.PI * r * o.bandLimit + 1e-9));
    const v: number[] = [];
    for (let t = 0; t < M; t++) {
      const th = (2 * Math.PI * t) / M;
      v.push(bilinear(img, o.box, c + sx + r * Math.cos(th), c + sy + (mirror ? -1 : 1) * r * Math.sin(th)));
    }
    const a: number[] = [];
    const b: number[] = [];
    for (let m = 0; m <= keep; m++) {
      let ca = 0;
      let sb = 0;
      for (let t = 0; t < M; t++) {
        ca += v[t] * Math.cos((2 * Math.PI * m * t) / M);
        sb += v[t] * Math.sin((2 * Math.PI * m * t) / M);
      }
      const f = m === 0 ? 1 / M : 2 / M;
      a.push(f * ca);
      b.push(f * sb);
    }
    out.push({ r, M, a, b });
  }
  return out;
}

/** The ring's polynomial rotated by α (radians), evaluated at every θ_t = 2πt/M. */
function rotatedSamples(ring: Ring, alpha: number): Float64Array {
  const out = new Float64Array(ring.M);
  for (let m = 0; m < ring.a.length; m++) {
    // a·cos(m(θ+α)) + b·sin(m(θ+α)) = a'·cos(mθ) + b'·sin(mθ)
    const cm = Math.cos(m * alpha);
    const sm = Math.sin(m * alpha);
    const a = ring.a[m] * cm + ring.b[m] * sm;
    const b = ring.b[m] * cm - ring.a[m] * sm;
    for (let t = 0; t < ring.M; t++) {
      const th = (2 * Math.PI * m * t) / ring.M;
      out[t] += a * Math.cos(th) + b * Math.sin(th);
    }
  }
  return out;
}

/** Σ_r (2πr/M_r) Σ_t x_r(θ_t + α)·y_r(θ_t): the weighted correlation with x rotated by α (radians). */
function correlation(x: Ring[], ySamples: Float64Array[], alpha: number): number {
  let sum = 0;
  x.forEach((ring, q) => {
    const xs = rotatedSamples(ring, alpha);
    let s = 0;
    for (let t = 0; t < ring.M; t++) s += xs[t] * ySamples[q][t];
    sum += ((2 * Math.PI * ring.r) / ring.M) * s;
  });
  return sum;
}

/** Maximum of f on [lo, hi] (unimodal there) by golden-section search to 1e-5. */
function goldenMax(f: (x: number) => number, lo: number, hi: number): [number, number] {
  const g = (Math.sqrt(5) - 1) / 2;
  let a = lo;
  let b = hi;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc = f(c);
  let fd = f(d);
  while (b - a > 1e-5) {
    if (fc > fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = f(d);
    }
  }
  const x = (a + b) / 2;
  return [x, f(x)];
}

/**
 * The best alignment of image x to reference y by exhaustive search (1° steps, then golden
 * section) over every shift of the grid, or only over `window`: grid offsets [ix, iy] (the
 * image is sampled around (ix, iy)·shiftStep; the pose shift is its negative).
 */
export function referenceAlign(
  x: Float32Array,
  y: Float32Array,
  o: ReferenceOptions,
  window?: Array<[number, number]>,
): ReferenceResult {
  const K = o.shiftRange > 0 ? Math.floor(o.shiftRange / o.shiftStep + 1e-9) : 0;
  const grid: Array<[number, number]> = [];
  for (let iy = -K; iy <= K; iy++) for (let ix = -K; ix <= K; ix++) grid.push([ix, iy]);
  const onRefs = (o.shiftReferences ?? false) && !window && grid.length > 1;
  let best: ReferenceResult = { score: Infinity, norms: 0, psi: 0, shiftX: 0, shiftY: 0, mirror: false };
  for (const mirror of o.mirror ? [false, true] : [false])
    for (const [ix, iy] of window ?? grid) {
      const sx = ix * o.shiftStep;
      const sy = iy * o.shiftStep;
      const yRings = onRefs ? rings(y, o, sx, sy, false) : rings(y, o, 0, 0, false);
      const ySamples = yRings.map((ring) => rotatedSamples(ring, 0));
      const yNorm = correlation(yRings, ySamples, 0);
      const xRings = onRefs ? rings(x, o, 0, 0, mirror) : rings(x, o, sx, sy, mirror);
      const xNorm = correlation(
        xRings,
        xRings.map((ring) => rotatedSamples(ring, 0)),
        0,
      );
      const corr = (deg: number): number => correlation(xRings, ySamples, (deg * Math.PI) / 180);
      let coarse = 0;
      let coarseValue = -Infinity;
      for (let a = 0; a < 360; a += 1) {
        const v = corr(a);
        if (v > coarseValue) [coarse, coarseValue] = [a, v];
      }
      const [alpha, value] = goldenMax(corr, coarse - 1, coarse + 1);
      const score = xNorm + yNorm - 2 * value;
      if (score < best.score) {
        const psi = (((mirror ? alpha : -alpha) % 360) + 360) % 360;
        const a = (psi * Math.PI) / 180;
        const ey = mirror ? -sy : sy;
        const [shiftX, shiftY] = onRefs
          ? [Math.cos(a) * sx + Math.sin(a) * ey, Math.cos(a) * ey - Math.sin(a) * sx]
          : [0 - sx, 0 - sy];
        best = { score, norms: xNorm + yNorm, psi, shiftX, shiftY, mirror };
      }
    }
  return best;
}

/**
 * The error of a float32 score against the reference, relative to the score plus 1e-3 of the
 * norms: a near-zero score is the difference of two numbers of the norms' size, so float32
 * rounding of those (~1e-7 relative) is as close as it can get. Tests require < 1e-3.
 */
export function scoreError(got: number, want: ReferenceResult): number {
  return Math.abs(got - want.score) / (want.score + 1e-3 * want.norms);
}
