/**
 * What the pipelines need from the alignment engine (src/align): all-pairs alignment, each
 * image's pose for a given class, poses applied to a whole stack at once, and class averages of
 * already aligned images.
 *
 * Poses follow the engine's convention, which is RELION's (src/pipeline/relion.ts): translate by
 * the shift, rotate by ψ, flip y if mirrored (`applyRelionPose` in relion.ts).
 */
import { type AlignResult, align } from '../align/align.js';
import { classAverages } from '../align/average.js';
import type { AlignOptions } from '../align/options.js';
import type { Images } from '../align/provider.js';
import type { JobOptions } from '../job.js';
import type { ParticlePoses } from './types.js';

export type { AlignOptions, AlignResult };

/** Aligns every image to every reference (n×k poses and scores). */
export function alignAll(
  images: Images,
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

/**
 * Class averages of images that are already aligned (n·box²), summed natively (src/align);
 * an empty class keeps its row of `previous` (or zeros).
 */
export async function averageAligned(
  aligned: Float32Array,
  box: number,
  assignment: Int32Array,
  k: number,
  job: JobOptions,
  previous?: Float32Array,
): Promise<Float32Array> {
  const n = assignment.length;
  const none = {
    psi: new Float32Array(n),
    shiftX: new Float32Array(n),
    shiftY: new Float32Array(n),
    mirror: new Uint8Array(n),
  };
  const avg = await classAverages(aligned, box, assignment, k, none, {
    threads: job.threads,
    signal: job.signal,
  });
  return keepEmpty(avg.averages, avg.sizes, box * box, previous);
}

/** `averages` with the rows of empty classes taken from `previous` (when given). */
export function keepEmpty(
  averages: Float32Array,
  sizes: Int32Array,
  px: number,
  previous?: Float32Array,
): Float32Array {
  if (!previous) return averages;
  const out = averages.slice();
  sizes.forEach((s, j) => {
    if (s === 0) out.set(previous.subarray(j * px, (j + 1) * px), j * px);
  });
  return out;
}
