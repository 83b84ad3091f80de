/**
 * Low-SNR starts for MRA clustering (issue 17). A raw noisy image is a poor first reference: at
 * SNR 1/30 its alignment to anything is mostly noise, and the classes that grow from k such
 * seeds keep the mixtures they start with. Before the main phase, optionally:
 *
 *   init     'subsets': the first references are the plain averages of k random subsets of the
 *            images instead of k single images;
 *   starts   S short starts (phases `start1` … `startS`, each `startIterations` iterations with
 *            its own seed) aligned with a coarse band limit (`startResolution`), where one image's
 *            signal is strong enough to steer it; the start with the lowest objective J1 (sum of
 *            each image's dissimilarity to its class) gives the main phase its references;
 *   frc      the main phase's band limit follows the start classes' even/odd FRC (the median
 *            class resolution), instead of the fixed `alignResolution`.
 *
 * Every step derives from the run's seed and the saved phase states, so a run resumed from any
 * checkpoint ends exactly like an uninterrupted one.
 */
import { alignCandidates } from '../align/candidates.js';
import { classAverages } from '../align/average.js';
import { type AlignmentSource, createAlignmentSource } from '../align/source.js';
import { iterationRng } from '../cluster/seeds.js';
import type { ClusteringResult } from '../cluster/types.js';
import type { JobOptions } from '../job.js';
import type { PipelineContext } from './pipeline.js';

/**
 * The MRA dissimilarity source of the pipeline at band limit `bandLimit` (cycles/pixel), its
 * references low-passed by their FRC when `filterReferences` is set.
 */
export function mraSource(ctx: PipelineContext, bandLimit: number): AlignmentSource {
  const source = createAlignmentSource(ctx.stack.images, {
    ...ctx.alignOptions,
    bandLimit,
    onProgress: (p) => ctx.onWithinIteration?.(p.fraction),
  });
  return ctx.params.filterReferences ? frcFilteredSource(source, ctx.stack.box) : source;
}

/** Lowest band limit (cycles/pixel) any phase aligns with. */
const MIN_BAND = 0.05;

/** Seed of start `s` (1-based) of a run seeded with `seed`: start 1 uses the run's own seed. */
export function startSeed(seed: number, s: number): number {
  return s === 1 ? seed : iterationRng(seed, 1_000_000 + s).nextUint32();
}

/**
 * A random split of n items into k subsets of sizes ⌊n/k⌋ or ⌈n/k⌉ (a seeded permutation dealt
 * round-robin): the assignment behind `init: 'subsets'`.
 */
export function randomSubsets(n: number, k: number, seed: number): Int32Array {
  const order = iterationRng(seed, 0).fork().permutation(n);
  const out = new Int32Array(n);
  for (let r = 0; r < n; r++) out[order[r]] = r % k;
  return out;
}

/** The plain (unaligned) averages of k random subsets of the working images. */
export async function subsetReferences(ctx: PipelineContext, seed: number): Promise<Float32Array> {
  const { stack, params, job } = ctx;
  const n = stack.kept.length;
  const zero = { psi: new Float32Array(n), shiftX: new Float32Array(n), shiftY: new Float32Array(n), mirror: new Uint8Array(n) }; // prettier-ignore
  const avg = await classAverages(
    stack.images,
    stack.box,
    randomSubsets(n, params.k, seed),
    params.k,
    zero,
    job,
  );
  return avg.averages;
}

/** What the start gives the main phase. */
export interface MraStart {
  /** The main phase's first references (undefined: k random images, the driver's own start). */
  references?: Float32Array;
  /** The main phase's band limit (cycles/pixel). */
  bandLimit: number;
}

/** The band limit (cycles/pixel) of a resolution in Å on the working grid, within [0.05, 0.5]. */
export function bandOf(resolution: number, pixelSize: number): number {
  return Math.min(0.5, Math.max(MIN_BAND, pixelSize / resolution));
}

/**
 * The median even/odd FRC resolution (working pixels per cycle) of the classes of `result`:
 * every image aligned to its own class's average, the averages remade with those poses.
 */
async function medianResolution(
  ctx: PipelineContext,
  result: ClusteringResult,
  bandLimit: number,
): Promise<number> {
  const { stack, params, job } = ctx;
  const own = await alignCandidates(stack.images, result.references, result.assignment, 1, {
    ...ctx.alignOptions,
    bandLimit,
    ...job,
  });
  const avg = await classAverages(stack.images, stack.box, result.assignment, params.k, own, job);
  const r = Array.from(avg.resolution)
    .filter((x) => Number.isFinite(x))
    .sort((a, b) => a - b);
  return r.length === 0 ? Infinity : r[r.length >> 1];
}

/**
 * Runs the start phases of the MRA pipeline (none with the defaults' `startIterations` 0 and
 * `init` 'images') and returns the main phase's references and band limit.
 */
export async function mraStart(ctx: PipelineContext): Promise<MraStart> {
  const { params } = ctx;
  const c = ctx.clusterOptions;
  const seed = c.seed ?? 0;
  const workBand = ctx.alignOptions.bandLimit ?? 0.5;
  const init = (s: number) =>
    params.init === 'subsets' ? subsetReferences(ctx, startSeed(seed, s)) : undefined;
  if (params.startIterations === 0) {
    const references = await init(1);
    return references ? { references, bandLimit: workBand } : { bandLimit: workBand };
  }
  const startBand = bandOf(params.startResolution, params.workingPixelSize);
  const source = mraSource(ctx, startBand);
  let best: ClusteringResult | undefined;
  let bestJ = Infinity;
  for (let s = 1; s <= params.starts; s++) {
    const references = await init(s);
    const result = await ctx.phases.run(`start${s}`, source, {
      ...c,
      seed: startSeed(seed, s),
      maxIter: params.startIterations,
      ...(references ? { initial: { references } } : {}),
    });
    const j = result.trace.at(-1)?.j1 ?? Infinity;
    if (best === undefined || j < bestJ) {
      best = result;
      bestJ = j;
    }
  }
  const chosen = best as ClusteringResult;
  const bandLimit = params.followFrc
    ? Math.max(startBand, Math.min(0.5, 1 / (await medianResolution(ctx, chosen, startBand))))
    : workBand;
  return { references: chosen.references, bandLimit };
}

/** Gaussian σ (pixels) whose transfer function is ½ at 1/`resolution` cycles/pixel. */
export function gaussianSigma(resolution: number): number {
  return (Math.sqrt(Math.LN2 / 2) / Math.PI) * resolution;
}

/**
 * Blurs a box×box image in place with a separable Gaussian of standard deviation `sigma` pixels
 * (the kernel is cut at 3σ and normalised; edges are clamped).
 */
export function gaussianBlur(image: Float32Array, box: number, sigma: number): void {
  if (!(sigma > 0)) return;
  const radius = Math.ceil(3 * sigma);
  const kernel = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let t = -radius; t <= radius; t++)
    sum += kernel[t + radius] = Math.exp((-t * t) / (2 * sigma * sigma));
  for (let t = 0; t < kernel.length; t++) kernel[t] /= sum;
  const tmp = new Float64Array(box * box);
  const clamp = (v: number) => (v < 0 ? 0 : v >= box ? box - 1 : v);
  for (let y = 0; y < box; y++)
    for (let x = 0; x < box; x++) {
      let acc = 0;
      for (let t = -radius; t <= radius; t++) acc += kernel[t + radius] * image[y * box + clamp(x + t)];
      tmp[y * box + x] = acc;
    }
  for (let y = 0; y < box; y++)
    for (let x = 0; x < box; x++) {
      let acc = 0;
      for (let t = -radius; t <= radius; t++) acc += kernel[t + radius] * tmp[clamp(y + t) * box + x];
      image[y * box + x] = acc;
    }
}

/**
 * The alignment source with each new reference low-passed by its class's even/odd FRC: a
 * Gaussian whose transfer is ½ at the class's resolution (no filter for a class under 2
 * members), so the noise of a small or poorly aligned average steers the next alignment less.
 */
export function frcFilteredSource(source: AlignmentSource, box: number): AlignmentSource {
  return Object.assign(Object.create(source) as AlignmentSource, {
    async average(assignment: Int32Array, k: number, previous: Float32Array, job: JobOptions) {
      const refs = await source.average(assignment, k, previous, job);
      const resolution = source.lastAverages?.resolution;
      const dim = box * box;
      if (resolution)
        for (let j = 0; j < k; j++)
          if (Number.isFinite(resolution[j]))
            gaussianBlur(refs.subarray(j * dim, (j + 1) * dim), box, gaussianSigma(resolution[j]));
      return refs;
    },
  });
}
