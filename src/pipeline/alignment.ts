/**
 * What the pipelines need from the alignment engine: all-pairs alignment (native, src/align),
 * each image's pose for its class, applying poses, class averages with even/odd halves, and a
 * resolution estimate from the even/odd Fourier ring correlation.
 *
 * Poses follow the engine's convention, which is RELION's (src/pipeline/relion.ts): translate by
 * the shift, rotate by ψ, flip y if mirrored (`applyRelionPose` in relion.ts).
 */
import { type AlignResult, align } from '../align/align.js';
import type { AlignOptions } from '../align/options.js';
import { throwIfAborted } from '../errors.js';
import type { JobOptions } from '../job.js';
import type { ParticlePoses } from './types.js';

export type { AlignOptions, AlignResult };

/** Aligns every image to every reference (n×k poses and scores). */
export function alignAll(
  images: Float32Array,
  references: Float32Array,
  options: AlignOptions,
): Promise<AlignResult> {
  return align(images, references, options);
}

/** Each image's pose for class `assignment[i]` from an n×k alignment. */
export function posesFor(result: AlignResult, k: number, assignment: Int32Array): ParticlePoses {
  const n = assignment.length;
  const pick = <T extends Float32Array | Uint8Array>(src: T, out: T): T => {
    for (let i = 0; i < n; i++) out[i] = src[i * k + assignment[i]];
    return out;
  };
  return {
    psi: pick(result.psi, new Float32Array(n)),
    shiftX: pick(result.shiftX, new Float32Array(n)),
    shiftY: pick(result.shiftY, new Float32Array(n)),
    mirror: pick(result.mirror, new Uint8Array(n)),
    score: pick(result.score, new Float32Array(n)),
  };
}

/** Each image's best reference (smallest score; ties to the lower index). */
export function bestReference(result: AlignResult, n: number, k: number): Int32Array {
  const best = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let b = 0;
    for (let j = 1; j < k; j++) if (result.score[i * k + j] < result.score[i * k + b]) b = j;
    best[i] = b;
  }
  return best;
}

/**
 * The images with their poses applied, n·box² values: the same bilinear map as
 * {@link applyRelionPose} (pixels from outside the image are 0), in one tight loop.
 */
export function applyPoses(images: Float32Array, box: number, poses: ParticlePoses): Float32Array {
  const px = box * box;
  const n = images.length / px;
  const out = new Float32Array(images.length);
  const c = Math.floor(box / 2);
  for (let i = 0; i < n; i++) {
    const a = (poses.psi[i] * Math.PI) / 180;
    const cos = Math.cos(a);
    const sin = Math.sin(a);
    const fy = poses.mirror[i] === 1 ? -1 : 1;
    const ox = poses.shiftX[i];
    const oy = poses.shiftY[i];
    const src = i * px;
    for (let y = 0; y < box; y++) {
      const qy = fy * (y - c);
      for (let x = 0; x < box; x++) {
        const qx = x - c;
        const sx = cos * qx + sin * qy - ox + c;
        const sy = -sin * qx + cos * qy - oy + c;
        const x0 = Math.floor(sx);
        const y0 = Math.floor(sy);
        if (x0 < -1 || y0 < -1 || x0 >= box || y0 >= box) continue;
        const tx = sx - x0;
        const ty = sy - y0;
        const row0 = y0 >= 0;
        const row1 = y0 + 1 < box;
        const col0 = x0 >= 0;
        const col1 = x0 + 1 < box;
        const p = src + y0 * box + x0;
        const v00 = row0 && col0 ? images[p] : 0;
        const v01 = row0 && col1 ? images[p + 1] : 0;
        const v10 = row1 && col0 ? images[p + box] : 0;
        const v11 = row1 && col1 ? images[p + box + 1] : 0;
        out[src + y * box + x] = (1 - ty) * ((1 - tx) * v00 + tx * v01) + ty * ((1 - tx) * v10 + tx * v11);
      }
    }
  }
  return out;
}

/** Class averages and their even/odd halves (members alternate by input order within a class). */
export interface ClassAverages {
  averages: Float32Array;
  even: Float32Array;
  odd: Float32Array;
  sizes: number[];
}

/**
 * Averages of already aligned images (n·box²) per class; an empty class keeps its row of
 * `previous` (or zeros).
 */
export function averageAligned(
  aligned: Float32Array,
  box: number,
  assignment: Int32Array,
  k: number,
  previous?: Float32Array,
): ClassAverages {
  const px = box * box;
  const sums = [new Float64Array(k * px), new Float64Array(k * px)];
  const counts = [new Float64Array(k), new Float64Array(k)];
  const seen = new Int32Array(k);
  for (let i = 0; i < assignment.length; i++) {
    const j = assignment[i];
    const half = seen[j]++ & 1;
    counts[half][j]++;
    const s = sums[half];
    for (let p = 0; p < px; p++) s[j * px + p] += aligned[i * px + p];
  }
  const averages = new Float32Array(k * px);
  const even = new Float32Array(k * px);
  const odd = new Float32Array(k * px);
  for (let j = 0; j < k; j++) {
    const [c0, c1] = [counts[0][j], counts[1][j]];
    for (let p = 0; p < px; p++) {
      const t = j * px + p;
      if (c0 + c1 === 0) averages[t] = previous ? previous[t] : 0;
      else averages[t] = (sums[0][t] + sums[1][t]) / (c0 + c1);
      even[t] = c0 ? sums[0][t] / c0 : 0;
      odd[t] = c1 ? sums[1][t] / c1 : 0;
    }
  }
  return { averages, even, odd, sizes: Array.from(seen) };
}

/** Class averages of unaligned images with each member's pose for its class. */
export function classAverages(
  images: Float32Array,
  box: number,
  assignment: Int32Array,
  k: number,
  poses: ParticlePoses,
  previous?: Float32Array,
): ClassAverages {
  return averageAligned(applyPoses(images, box, poses), box, assignment, k, previous);
}

/** The FRC threshold of the resolution estimate (gold standard, two independent halves). */
export const FRC_THRESHOLD = 0.143;

/** The 2D DFT of a real box×box image (separable, precomputed twiddles): [re, im]. */
function dft2(
  img: Float32Array,
  box: number,
  cos: Float64Array,
  sin: Float64Array,
): [Float64Array, Float64Array] {
  const tre = new Float64Array(box * box);
  const tim = new Float64Array(box * box);
  for (let y = 0; y < box; y++)
    for (let f = 0; f < box; f++) {
      let re = 0;
      let im = 0;
      for (let x = 0; x < box; x++) {
        const t = (f * x) % box;
        re += img[y * box + x] * cos[t];
        im -= img[y * box + x] * sin[t];
      }
      tre[y * box + f] = re;
      tim[y * box + f] = im;
    }
  const re = new Float64Array(box * box);
  const im = new Float64Array(box * box);
  for (let f = 0; f < box; f++)
    for (let g = 0; g < box; g++) {
      let a = 0;
      let b = 0;
      for (let y = 0; y < box; y++) {
        const t = (g * y) % box;
        a += tre[y * box + f] * cos[t] + tim[y * box + f] * sin[t];
        b += tim[y * box + f] * cos[t] - tre[y * box + f] * sin[t];
      }
      re[g * box + f] = a;
      im[g * box + f] = b;
    }
  return [re, im];
}

/**
 * Fourier ring correlation of two box×box images, one value per ring 0..⌊box/2⌋ (ring r holds
 * the frequencies with round(|f|) = r, in cycles per box).
 */
export function frc(a: Float32Array, b: Float32Array, box: number): Float64Array {
  const cos = new Float64Array(box);
  const sin = new Float64Array(box);
  for (let t = 0; t < box; t++) {
    cos[t] = Math.cos((2 * Math.PI * t) / box);
    sin[t] = Math.sin((2 * Math.PI * t) / box);
  }
  const [ar, ai] = dft2(a, box, cos, sin);
  const [br, bi] = dft2(b, box, cos, sin);
  const rings = Math.floor(box / 2) + 1;
  const num = new Float64Array(rings);
  const da = new Float64Array(rings);
  const db = new Float64Array(rings);
  for (let y = 0; y < box; y++)
    for (let x = 0; x < box; x++) {
      const fy = y <= box / 2 ? y : y - box;
      const fx = x <= box / 2 ? x : x - box;
      const r = Math.round(Math.hypot(fx, fy));
      if (r >= rings) continue;
      const t = y * box + x;
      num[r] += ar[t] * br[t] + ai[t] * bi[t];
      da[r] += ar[t] ** 2 + ai[t] ** 2;
      db[r] += br[t] ** 2 + bi[t] ** 2;
    }
  return num.map((v, r) => (da[r] > 0 && db[r] > 0 ? v / Math.sqrt(da[r] * db[r]) : 0));
}

/**
 * Resolution (Å) where the even/odd FRC first drops below {@link FRC_THRESHOLD} (ring r is
 * box·pixelSize/r Å); Infinity when already ring 1 is below it, 2·pixelSize when it never drops.
 */
export function frcResolution(curve: Float64Array, box: number, pixelSize: number): number {
  for (let r = 1; r < curve.length; r++)
    if (curve[r] < FRC_THRESHOLD) return r === 1 ? Infinity : (box * pixelSize) / (r - 1);
  return 2 * pixelSize;
}

/** The even/odd resolution of every class (Å), cancellable between classes. */
export function classResolutions(
  avg: ClassAverages,
  box: number,
  pixelSize: number,
  job: JobOptions,
): number[] {
  const px = box * box;
  return avg.sizes.map((size, j) => {
    throwIfAborted(job.signal);
    if (size < 2) return Infinity;
    const curve = frc(avg.even.subarray(j * px, (j + 1) * px), avg.odd.subarray(j * px, (j + 1) * px), box);
    return frcResolution(curve, box, pixelSize);
  });
}
