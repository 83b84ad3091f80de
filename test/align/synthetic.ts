/** Synthetic asymmetric particles made analytically, and exact transforms of them (tests only). */
import { rng } from '../helpers/random.js';

/** A blob image: Gaussians at (x, y) offsets from the centre, with amplitude and width. */
export interface Blob {
  x: number;
  y: number;
  amplitude: number;
  sigma: number;
}

/** Alignment parameters (the conventions of align()). */
export interface Params {
  psi: number;
  shiftX: number;
  shiftY: number;
  mirror: boolean;
}

/** `count` random blobs within `radius` of the centre, widths minSigma..minSigma+2 px (asymmetric with probability ~1). */
export function randomBlobs(count: number, radius: number, seed: number, minSigma = 1.5): Blob[] {
  const r = rng(seed);
  return Array.from({ length: count }, () => {
    const rho = radius * Math.sqrt(r());
    const th = 2 * Math.PI * r();
    return { x: rho * Math.cos(th), y: rho * Math.sin(th), amplitude: 0.5 + r(), sigma: minSigma + 2 * r() };
  });
}

function evaluate(blobs: Blob[], u: number, v: number): number {
  let s = 0;
  for (const b of blobs) s += b.amplitude * Math.exp(-((u - b.x) ** 2 + (v - b.y) ** 2) / (2 * b.sigma ** 2));
  return s;
}

/**
 * The raw image whose aligned version (with `params`) is the blob image: x(q) = μ(c + F^m·R(ψ)·(q + t − c)),
 * the exact inverse of aligned(p) = x(c + R(−ψ)·F^m·(p − c) − t). Identity params give the blob image.
 */
export function renderTransformed(blobs: Blob[], box: number, params?: Params): Float32Array {
  const c = Math.floor(box / 2);
  const p = params ?? { psi: 0, shiftX: 0, shiftY: 0, mirror: false };
  const cos = Math.cos((p.psi * Math.PI) / 180);
  const sin = Math.sin((p.psi * Math.PI) / 180);
  const out = new Float32Array(box * box);
  for (let y = 0; y < box; y++)
    for (let x = 0; x < box; x++) {
      const dx = x + p.shiftX - c;
      const dy = y + p.shiftY - c;
      const u = cos * dx - sin * dy;
      const v = sin * dx + cos * dy;
      out[y * box + x] = evaluate(blobs, u, p.mirror ? -v : v);
    }
  return out;
}

/** Adds Gaussian noise of variance var(image)/snr (Box–Muller on a seeded generator). */
export function addNoise(image: Float32Array, snr: number, seed: number): Float32Array {
  let mean = 0;
  for (const v of image) mean += v;
  mean /= image.length;
  let variance = 0;
  for (const v of image) variance += (v - mean) ** 2;
  const sd = Math.sqrt(variance / image.length / snr);
  const r = rng(seed);
  return image.map((v) => v + sd * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()));
}

/** Concatenates images into one Float32Array. */
export function stack(images: Float32Array[]): Float32Array {
  const out = new Float32Array(images.reduce((s, a) => s + a.length, 0));
  let o = 0;
  for (const a of images) {
    out.set(a, o);
    o += a.length;
  }
  return out;
}

/** Smallest difference between two angles in degrees, in [0, 180]. */
export function angleDiff(a: number, b: number): number {
  const d = Math.abs((((a - b) % 360) + 360) % 360);
  return Math.min(d, 360 - d);
}
