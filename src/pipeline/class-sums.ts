/**
 * Exact class sums: the scale engine's class averages as sums that do not depend on how the
 * images are grouped, so ranges of images summed on different machines (the Slurm executor's
 * array tasks) and added give the same bits as one sum in one process.
 *
 * Each image, aligned with its own pose (the {@link classAverages} convention), is rounded to a
 * multiple of a power of two q (the "quantum") before it is added, in double precision. All the
 * values and every partial sum are then multiples of q; while their magnitude stays ≤ 2^53·q
 * every addition is exact, and exact addition is associative. q is chosen from the number of
 * images n and the largest |pixel| B of the stack ({@link sumQuantum}): n·B ≤ 2^e, q = 2^(e−51),
 * so every value is ≤ 2^51·q (the native rounding needs that) and any sum of up to n images is
 * ≤ 2^(e+1) = 2^52·q. (Bilinear interpolation never exceeds the largest pixel.) The rounding
 * error per value is ≤ q/2 ≤ n·B·2^−51 (4.4·10⁻¹⁰·B at n = 10⁶), far below the float32
 * precision of the aligned values.
 *
 * Even/odd halves: member t of class j (in image order, over all images) goes to the even sum
 * when t is even. A range [a, b) starts from its classes' member counts over [0, a) (`prior`),
 * so its halves are those of the whole.
 */
import {
  type ClassAverages,
  type ImageParameters,
  accumulateClassSums,
  checkAssignment,
} from '../align/average.js';
import { checkPoseArrays } from '../align/apply.js';
import { type Images, imageBlocks, imageCount } from '../align/provider.js';
import { checkInt, checkNumber } from '../errors.js';
import { type JobOptions, resolveThreads, runNativeJob } from '../job.js';
import { native } from '../native.js';

/** Per-class sums of aligned images (k·box² each) and the members they hold. */
export interface ClassSums {
  evenSum: Float64Array;
  oddSum: Float64Array;
  /** Members per class summed here. */
  members: Int32Array;
}

/** Options of {@link classSums}. */
export interface ClassSumOptions extends JobOptions {
  /** The rounding step, a power of two ({@link sumQuantum}). */
  quantum: number;
  /**
   * Members of each class before these images (their even/odd halves continue from there;
   * default none).
   */
  prior?: Int32Array;
}

/** The largest |value| in `images` (streamed block by block). */
export async function maxAbsValue(images: Images, box: number): Promise<number> {
  let max = 0;
  for await (const block of imageBlocks(images, box)) {
    const a = block.images;
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (v > max) max = v;
      else if (-v > max) max = -v;
    }
  }
  return max;
}

/**
 * The quantum of exact sums of up to `n` images whose values are at most `maxAbs` in
 * magnitude: 2^(e−51) with 2^e ≥ n·maxAbs (1 for an all-zero stack).
 */
export function sumQuantum(n: number, maxAbs: number): number {
  checkInt('n', n, 1);
  checkNumber('maxAbs', maxAbs, 0);
  if (!(maxAbs > 0) || !Number.isFinite(maxAbs)) return 1;
  const e = Math.ceil(Math.log2(n * maxAbs));
  // log2 may round: make sure 2^e ≥ n·maxAbs
  const exp = n * maxAbs > 2 ** e ? e + 1 : e;
  return 2 ** Math.max(-1000, exp - 51);
}

/**
 * Exact per-class sums of `images`, each aligned with its own pose (see the module comment):
 * the same bits however the images are split into ranges and the ranges' sums added.
 * @param assignment n classes in [0, k), or −1 for an image in no class.
 */
export async function classSums(
  images: Images,
  box: number,
  assignment: Int32Array,
  k: number,
  poses: ImageParameters,
  options: ClassSumOptions,
): Promise<ClassSums> {
  checkInt('box', box, 2, 65536);
  checkInt('k', k, 1);
  const n = imageCount('images', images, box);
  checkAssignment(assignment, n, k);
  checkPoseArrays('poses', poses, n);
  const prior = options.prior ?? new Int32Array(k);
  if (!(prior instanceof Int32Array) || prior.length !== k)
    throw new TypeError(`prior must be an Int32Array of k (${k}) counts`);
  const threads = resolveThreads(options.threads);
  const sums: ClassSums = {
    evenSum: new Float64Array(k * box * box),
    oddSum: new Float64Array(k * box * box),
    members: prior.slice(),
  };
  await accumulateClassSums(images, box, assignment, k, poses, sums, {
    threads,
    signal: options.signal,
    onProgress: options.onProgress,
    quantum: options.quantum,
  });
  for (let j = 0; j < k; j++) sums.members[j] -= prior[j];
  return sums;
}

/** Adds `part` into `total` (exact for sums of the same quantum). */
export function addClassSums(total: ClassSums, part: ClassSums): void {
  for (const f of ['evenSum', 'oddSum', 'members'] as const) {
    const t = total[f];
    const p = part[f];
    for (let i = 0; i < t.length; i++) t[i] += p[i];
  }
}

/** Averages, halves, FRC and resolution from whole sums (as {@link classAverages} returns them). */
export async function classAveragesFromSums(
  sums: ClassSums,
  k: number,
  box: number,
  options: JobOptions = {},
): Promise<ClassAverages> {
  const threads = resolveThreads(options.threads);
  const result = await runNativeJob(
    (control) => native().classFinalize({ ...sums, k, box, threads, control }),
    { signal: options.signal },
  );
  return { ...result, sizes: sums.members, shells: Math.floor(box / 2) + 1 };
}

/** Per class, its members among the first `end` images of `assignment`. */
export function memberCounts(assignment: Int32Array, k: number, end = assignment.length): Int32Array {
  const counts = new Int32Array(k);
  for (let i = 0; i < end; i++) if (assignment[i] >= 0) counts[assignment[i]]++;
  return counts;
}
