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
 * Even/odd halves: image i of the whole set goes to its class's even half when i is even (a
 * fixed split of the particles, as RELION's rlnRandomSubset, not of each class's members), so an
 * image's half does not depend on the other images: a range [a, b) is summed with `first` a, and
 * sums can be updated by the images that changed ({@link updateClassSums}).
 */
import {
  type ClassAverages,
  type ClassSumArrays,
  type ImageParameters,
  accumulateClassSums,
  checkAssignment,
} from '../align/average.js';
import { checkPoseArrays } from '../align/apply.js';
import { type Images, imageBlocks, imageCount } from '../align/provider.js';
import { checkInt, checkNumber } from '../errors.js';
import { type JobOptions, resolveThreads, runNativeJob } from '../job.js';
import { native } from '../native.js';

/** Per-class sums of aligned images (k·box² each) and the members they hold (in all, and in the even half). */
export type ClassSums = ClassSumArrays;

/** Options of {@link classSums} and {@link updateClassSums}. */
export interface ClassSumOptions extends JobOptions {
  /** The rounding step, a power of two ({@link sumQuantum}). */
  quantum: number;
  /** The index of the first image in the whole set (its half follows it; default 0). */
  first?: number;
  /** Each image's index in the whole set, for a set gathered from it (instead of `first`). */
  indices?: Int32Array;
}

/**
 * The largest |value| in `images` (NaNs ignored): a provider's `maxAbs` when it knows it, else
 * streamed block by block (natively).
 */
export async function maxAbsValue(images: Images, box: number): Promise<number> {
  if (!(images instanceof Float32Array) && images.maxAbs !== undefined) return images.maxAbs;
  let max = 0;
  for await (const block of imageBlocks(images, box))
    max = Math.max(max, await native().maxAbs({ values: block.images }));
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
  checkInt('k', k, 1);
  checkInt('box', box, 2, 65536);
  const sums = emptyClassSums(k, box);
  await updateClassSums(sums, images, box, assignment, k, poses, options);
  return sums;
}

/** Zero sums of k classes of box² pixels. */
export function emptyClassSums(k: number, box: number): ClassSums {
  return {
    evenSum: new Float64Array(k * box * box),
    oddSum: new Float64Array(k * box * box),
    members: new Int32Array(k),
    evenMembers: new Int32Array(k),
  };
}

/**
 * Adds `images` (each aligned with its own pose, in its class) into `sums`, or with `sign` −1
 * takes them out again: exactly, so sums updated by the images whose class or pose changed hold
 * the same bits as sums made afresh (the scale engine updates its sums this way).
 * @param assignment n classes in [0, k), or −1 for an image in no class.
 */
export async function updateClassSums(
  sums: ClassSums,
  images: Images,
  box: number,
  assignment: Int32Array,
  k: number,
  poses: ImageParameters,
  options: ClassSumOptions & { sign?: 1 | -1 },
): Promise<void> {
  checkInt('box', box, 2, 65536);
  checkInt('k', k, 1);
  const n = imageCount('images', images, box);
  checkAssignment(assignment, n, k);
  checkPoseArrays('poses', poses, n);
  checkNumber('quantum', options.quantum, Number.MIN_VALUE);
  const first = checkInt('first', options.first ?? 0, 0);
  const { indices } = options;
  if (indices !== undefined && (!(indices instanceof Int32Array) || indices.length !== n))
    throw new TypeError(`indices must be an Int32Array of n (${n}) image indices`);
  for (const f of ['evenSum', 'oddSum'] as const)
    if (sums[f].length !== k * box * box) throw new RangeError(`sums.${f} must hold k·box² values`);
  if (sums.members.length !== k || sums.evenMembers.length !== k)
    throw new RangeError('sums.members and sums.evenMembers must hold k counts');
  const half = new Uint8Array(n);
  for (let i = 0; i < n; i++) half[i] = (indices ? indices[i] : first + i) & 1;
  await accumulateClassSums(images, box, assignment, k, poses, sums, {
    threads: resolveThreads(options.threads),
    signal: options.signal,
    onProgress: options.onProgress,
    quantum: options.quantum,
    half,
    sign: options.sign ?? 1,
  });
}

/** Adds `part` into `total` (exact for sums of the same quantum). */
export function addClassSums(total: ClassSums, part: ClassSums): void {
  for (const f of ['evenSum', 'oddSum', 'members', 'evenMembers'] as const) {
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
