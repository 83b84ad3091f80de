/**
 * What the pipelines need from the alignment engine (src/align): all-pairs alignment, each
 * image's pose for a given class, and class averages of images with their poses.
 *
 * Poses follow the engine's convention, which is RELION's (src/pipeline/relion.ts): translate by
 * the shift, rotate by ψ, flip y if mirrored; one native applier (src/align/apply.ts) applies them.
 */
import { type AlignResult, align } from '../align/align.js';
import type { PoseArrays } from '../align/apply.js';
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
 * Class averages of `images` (n·box², not yet aligned), each image resampled once with its pose
 * (the one native applier, src/align/apply.ts); an empty class keeps its row of `previous` (or
 * zeros).
 */
export async function averageWithPoses(
  images: Float32Array,
  box: number,
  assignment: Int32Array,
  k: number,
  poses: PoseArrays,
  job: JobOptions,
  previous?: Float32Array,
): Promise<Float32Array> {
  const avg = await classAverages(images, box, assignment, k, poses, {
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
