/**
 * Measuring a classification against known projection angles (SPEC §6, the paper's Fig. 1):
 * within-class angular distances over all member pairs of every class, class-size balance and,
 * when the true view of each image is known, the adjusted Rand index.
 */
import { checkInt } from '../errors.js';
import { Rng } from '../random.js';
import { foldMirror, vectorAngle, viewDirections } from './angles.js';
import { adjustedRandIndex } from './ari.js';
import { AngleAccumulator, type AngularStats } from './histogram.js';
import { classSizes, type SizeStats, sizeStats } from './sizes.js';

/** The input of {@link evaluateClasses}. */
export interface ClassesInput {
  /** True Euler angle rot of each image, degrees. */
  rot: Float64Array;
  /** True Euler angle tilt of each image, degrees. */
  tilt: Float64Array;
  /** The class of each image, 0-based, in [0, k). */
  classes: Int32Array;
  /** Number of classes (classes without members count as empty). */
  k: number;
  /** True view (projection direction group) of each image, for the adjusted Rand index. */
  viewIds?: Int32Array;
}

/** Options of {@link evaluateClasses}. */
export interface EvaluateOptions {
  /** Histogram bin width in degrees: 1 (default) or 2. */
  binWidth?: number;
  /**
   * Classes with more member pairs than this (default 2,000,000, about 2,000 members) are
   * measured on this many pairs drawn at random (with a seeded generator, so the result is
   * reproducible), each weighted so the class keeps its full share of the histogram.
   */
  maxPairsPerClass?: number;
  /** Seed of the pair sampling (default 1). */
  seed?: number;
}

/** How good a classification is, measured against the true angles. */
export interface Evaluation extends SizeStats {
  /** Number of images. */
  n: number;
  /** Number of classes. */
  k: number;
  /** Number of within-class pairs, Σ s_j(s_j − 1)/2. */
  pairs: number;
  /** Number of classes measured on sampled pairs (see `maxPairsPerClass`); 0 means every pair was used. */
  sampledClasses: number;
  /** Within-class angular distances arccos(v1·v2), a view and its mirror distinct: 0–180°. */
  direct: AngularStats;
  /** Within-class angular distances arccos(|v1·v2|), a view and its mirror as one: 0–90°. */
  mirror: AngularStats;
  /** Adjusted Rand index between the classes and the true view ids (only when `viewIds` was given). */
  ari?: number;
}

/**
 * Evaluates a classification against the true viewing directions of its images.
 * Cost O(Σ s_j²) (about 5·10⁵ pairs for 10⁴ images in 100 classes, a few milliseconds).
 * Pure and deterministic.
 *
 * @throws TypeError for arrays of the wrong type, RangeError for inconsistent lengths, class
 *   ids outside [0, k) or non-finite angles.
 */
export function evaluateClasses(input: ClassesInput, options: EvaluateOptions = {}): Evaluation {
  if (typeof input !== 'object' || input === null) throw new TypeError('input must be an object');
  const { rot, tilt, classes, viewIds } = input;
  if (!(rot instanceof Float64Array)) throw new TypeError('rot must be a Float64Array');
  if (!(tilt instanceof Float64Array)) throw new TypeError('tilt must be a Float64Array');
  if (!(classes instanceof Int32Array)) throw new TypeError('classes must be an Int32Array');
  if (viewIds !== undefined && !(viewIds instanceof Int32Array))
    throw new TypeError('viewIds must be an Int32Array');
  const n = classes.length;
  const k = checkInt('k', input.k, 1);
  const binWidth = options.binWidth ?? 1;
  if (binWidth !== 1 && binWidth !== 2) throw new RangeError(`binWidth must be 1 or 2, got ${binWidth}`);
  const maxPairs = checkInt('maxPairsPerClass', options.maxPairsPerClass ?? 2_000_000, 1);
  const rng = new Rng(options.seed ?? 1);
  for (const [name, a] of [
    ['rot', rot],
    ['tilt', tilt],
    ['viewIds', viewIds],
  ] as const)
    if (a !== undefined && a.length !== n)
      throw new RangeError(`${name} has ${a.length} values but classes has ${n}`);
  for (let i = 0; i < n; i++) {
    if (!(classes[i] >= 0 && classes[i] < k))
      throw new RangeError(`classes[${i}] = ${classes[i]} is outside [0, ${k})`);
    if (!Number.isFinite(rot[i]) || !Number.isFinite(tilt[i]))
      throw new RangeError(`the angles of image ${i} are not finite (rot ${rot[i]}, tilt ${tilt[i]})`);
  }

  const v = viewDirections(rot, tilt);
  const sizes = classSizes(classes, k);
  const members = membersByClass(classes, sizes);
  const direct = new AngleAccumulator(180);
  const mirror = new AngleAccumulator(90);
  let pairs = 0;
  let sampledClasses = 0;
  let packed = new Float64Array(0);
  for (let c = 0; c < k; c++) {
    const m = members[c];
    const s = m.length;
    const classPairs = (s * (s - 1)) / 2;
    pairs += classPairs;
    if (classPairs === 0) continue;
    // The class's directions side by side, so the pair loops read memory in order.
    if (packed.length < 3 * s) packed = new Float64Array(3 * s);
    for (let a = 0; a < s; a++) packed.set(v.subarray(3 * m[a], 3 * m[a] + 3), 3 * a);
    if (classPairs <= maxPairs) {
      for (let a = 1; a < s; a++) for (let b = 0; b < a; b++) addPair(packed, a, b, 1, direct, mirror);
    } else {
      sampledClasses++;
      const w = classPairs / maxPairs;
      for (let p = 0; p < maxPairs; p++) {
        const a = rng.int(s);
        addPair(packed, a, (a + 1 + rng.int(s - 1)) % s, w, direct, mirror);
      }
    }
  }
  const result: Evaluation = {
    n,
    k,
    pairs,
    sampledClasses,
    direct: direct.stats(binWidth),
    mirror: mirror.stats(binWidth),
    ...sizeStats(sizes),
  };
  if (viewIds !== undefined) result.ari = adjustedRandIndex(classes, viewIds);
  return result;
}

/** Adds the distance between directions a and b of `packed` to both accumulators. */
function addPair(
  packed: Float64Array,
  a: number,
  b: number,
  weight: number,
  direct: AngleAccumulator,
  mirror: AngleAccumulator,
): void {
  const i = 3 * a;
  const j = 3 * b;
  const d = vectorAngle(packed[i], packed[i + 1], packed[i + 2], packed[j], packed[j + 1], packed[j + 2]);
  direct.add(d, weight);
  mirror.add(foldMirror(d), weight);
}

/** The member indices of each class, in image order (counting sort). */
function membersByClass(classes: Int32Array, sizes: Int32Array): Int32Array[] {
  const out = Array.from(sizes, (s) => new Int32Array(s));
  const fill = new Int32Array(sizes.length);
  for (let i = 0; i < classes.length; i++) out[classes[i]][fill[classes[i]]++] = i;
  return out;
}
