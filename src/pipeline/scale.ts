/**
 * The scale engine: ACK-means over multi-reference alignment with a small, reported number of
 * particle-visits per particle, and memory that does not grow with n beyond a per-particle
 * candidate table (a few hundred bytes per particle).
 *
 *   init    k distinct random images are the references (as the exhaustive driver does)
 *   batches iterations 1..B run on random subsets of growing size (100·k, 200·k, … while under
 *           n/2; chunks of consecutive images, so a file is read in runs): shortlist → full
 *           alignment to the candidates → ACK pass on the batch (⌊n_b/k⌋, exact on that set) →
 *           references rebuilt from the batch's members. Coarse-to-fine: batches align with a
 *           lower band limit than the working one.
 *   passes  then full passes over every image at the working band limit until σ ≤ σ0 over the
 *           whole set, the iteration cap, or, if given, the particle-visit budget `maxVisits` or
 *           the `settle` rule. After the
 *           first full pass, with `localShiftRadius` the full alignment searches only a window
 *           around each image's previous shift (as RELION searches offsets around the previous
 *           translation): 2.3× faster candidate passes at the default 5×5 grid, but measured less
 *           accurate (BENCHMARKS.md), so off by default.
 *
 * Every pass is sparse: a coarse alignment (candidates.ts `coarseOptions`: half the box, half the
 * band, the shift range at half resolution) ranks all k references per image and keeps the top
 * m; the full alignment runs against those m and the image's own class; the ACK pass works on
 * that sparse table (native/core/ack_pass.cpp: the dense pass is the same code with every class
 * a column). A full pass right after a coarse ranking that changed the class of more than
 * {@link KEEP_SIGMA} of the images re-scores that ranking's shortlists (each image's m best
 * classes by its full alignment) instead of ranking again, while the references moved by at most
 * {@link KEEP_DRIFT} ({@link ScaleRecord.shortlisted}; at 10⁶ × 200 that is the second full
 * pass). Once a full pass changed the class of at most {@link KEEP_SIGMA} of the images, the
 * coarse ranking runs only when the references moved by more than {@link KEEP_DRIFT} since the
 * last one, or after `shortlistRefresh` full passes; the passes between align each
 * image to the {@link KEPT_CANDIDATES} classes that scored best for it in the last ranked pass,
 * plus its own class (in the late passes the final class was the best-scoring one for 92 % of
 * the images and among the best 4 for over 99.9 %). Every ranking after kept passes measures
 * what they held back (`keptMissed`); while that stays at most {@link KEEP_MISSED_FRACTION}·σ0
 * per kept pass, the interval and the drift allowance double ({@link keptDoublings}). While σ > σ0
 * such a re-ranking skips the coarse stage: each image is aligned to its kept classes and the
 * {@link NEIGHBOUR_CLASSES} classes nearest to its own ({@link nearestClasses}: the class averages
 * aligned to each other), since an image that leaves its class goes to a similar one. Only a pass
 * that ranked all k by the coarse stage ends the run on σ ≤ σ0.
 * As in the exhaustive driver (src/cluster/own-class.ts),
 * each image is measured against its own class's average without it, and a class left with
 * fewer than 2 members is refilled from the largest. The characteristic dissimilarity d_c is
 * exact: its 10 images are aligned to all k references.
 *
 * The class averages are built from exact sums (src/pipeline/class-sums.ts), so an executor may
 * sum ranges of the images elsewhere and the results stay bit-identical. From one full pass to
 * the next an image keeps the pose it is summed with while its class and mirror stay and its new
 * pose moves no pixel of the particle by more than {@link SUM_POSE_TOLERANCE} px; the sums are
 * then updated by the images that changed only (exact, so the same bits as summing afresh).
 *
 * Checkpoints: after every iteration the state (assignment, references, iteration, trace) goes to
 * `onIteration`; every random choice derives from (seed, iteration), so a resumed run ends exactly
 * like an uninterrupted one. Results do not depend on the thread count.
 */
import {
  type CandidateTable,
  type ImageSpectra,
  alignCandidates,
  asProvider,
  coarseOptions,
  imageSpectra,
  imageSpectraBytes,
  shortlist,
  topClasses,
} from '../align/candidates.js';
import { align } from '../align/align.js';
import type { ImageParameters } from '../align/average.js';
import type { AlignOptions, LocalShifts } from '../align/options.js';
import { type ImageProvider, type Images, blockSize, imageBlocks, imageCount } from '../align/provider.js';
import { characteristicDissimilarity } from '../cluster/ack.js';
import { countEmpty, sizeTerm } from '../cluster/objective.js';
import { leaveOneOutFactor, minimumClassSize } from '../cluster/own-class.js';
import { iterationRng } from '../cluster/seeds.js';
import type { ClusteringResult, ClusteringState, IterationRecord } from '../cluster/types.js';
import { AckmeansError, checkInt, checkNumber, throwIfAborted } from '../errors.js';
import { type JobOptions, runNativeJob } from '../job.js';
import { native } from '../native.js';
import type { Rng } from '../random.js';
import { type ScratchSpectra, freeBytes, scratchSpectra } from './scratch.js';
import {
  type ClassSums,
  classAveragesFromSums,
  classSums,
  maxAbsValue,
  sumQuantum,
  updateClassSums,
} from './class-sums.js';

/** Default shortlist length m (candidates per image besides its own class). */
export const DEFAULT_SHORTLIST = 12;
/** The coarse stage's band limit relative to the working one. */
export const COARSE_BAND_FRACTION = 0.5;
/** The band limit of the mini-batch stage relative to the working one (coarse-to-fine). */
export const BATCH_BAND_FRACTION = 0.7;
/** Images per chunk of a mini-batch (batches are read in runs of consecutive images). */
export const BATCH_CHUNK = 64;
/** Default of `shortlistRefresh`: the coarse stage ranks all k classes at least every 8th full pass. */
export const DEFAULT_SHORTLIST_REFRESH = 8;
/** Classes kept per image between two rankings (its best by the full alignment; own class extra). */
export const KEPT_CANDIDATES = 4;
/**
 * A re-ranking (a ranked pass after kept ones, while σ > σ0) aligns each image to its kept classes
 * and this many classes nearest to its own (by the alignment of the class averages to each other)
 * instead of ranking all k by the coarse stage: an image that leaves its class goes to a similar
 * one. Only a coarse ranking ends the run (see {@link ScaleRecord.neighbours}).
 */
export const NEIGHBOUR_CLASSES = 8;
/** Kept classes are used only once a full pass changed the class of at most this fraction. */
export const KEEP_SIGMA = 0.15;
/**
 * Kept classes are used only while the references moved by at most this much in all (the sum of
 * {@link ScaleRecord.referenceChange}) since the pass that ranked them.
 */
export const KEEP_DRIFT = 0.1;
/**
 * The refresh interval and the drift allowance double (up to {@link KEEP_MAX_DOUBLINGS} times)
 * for each of the latest re-rankings, in a row, that found the kept classes had held back at most
 * this fraction of σ0 of the images per kept pass.
 */
export const KEEP_MISSED_FRACTION = 0.1;
/** At most this many doublings of the refresh interval and the drift allowance (×8). */
export const KEEP_MAX_DOUBLINGS = 3;
/**
 * Between full passes an image's contribution to its class sum keeps its pose while the image
 * stays in its class with the same mirror and the new pose moves no pixel within the particle
 * radius by more than this many pixels ({@link summedPoses}).
 */
export const SUM_POSE_TOLERANCE = 0.1;
/**
 * The class sums are updated by the images whose summed pose changed while those are at most
 * this share of the set (each costs two sums, and every image is read); above it, summed afresh.
 */
export const SUM_UPDATE_MAX = 0.25;
/**
 * The images' spectra at the working settings ({@link ImageSpectra}: each image's side of the
 * full alignment, the same in every full pass) are kept in memory while they take at most this
 * many bytes (256 MiB: about 90,000 images at 64² and the default band limit); larger sets keep
 * them in a scratch file (`ScaleOptions.scratch`), or else resample every image in every pass.
 */
export const KEPT_SPECTRA_BYTES = 256 * 2 ** 20;
/** Free space left in the scratch folder after the kept spectra's file (else they are not kept). */
export const SPECTRA_SCRATCH_MARGIN = 2 ** 30;

/**
 * Where the full passes of {@link runScale} keep the images' spectra (see
 * {@link KEPT_SPECTRA_BYTES}, or `inMemorySpectraLimit`): 'memory', 'scratch' (a file in `scratch`, which has room for it
 * plus {@link SPECTRA_SCRATCH_MARGIN}), or 'none' (resampled every pass: too large without a
 * scratch folder with room, a local shift window, or an executor).
 */
export async function spectraPlacement(
  n: number,
  options: Pick<ScaleOptions, 'align' | 'executor' | 'localShiftRadius' | 'scratch' | 'inMemorySpectraLimit'>,
): Promise<{ place: 'memory' | 'scratch' | 'none'; bytes: number }> {
  const bytes = imageSpectraBytes(n, { ...options.align, bandLimit: options.align.bandLimit ?? 0.5 });
  if (options.executor || options.localShiftRadius !== undefined || bytes === undefined)
    return { place: 'none', bytes: 0 };
  const limit = checkNumber('inMemorySpectraLimit', options.inMemorySpectraLimit ?? KEPT_SPECTRA_BYTES, 0);
  if (bytes <= limit) return { place: 'memory', bytes };
  if (options.scratch !== undefined && (await freeBytes(options.scratch)) >= bytes + SPECTRA_SCRATCH_MARGIN)
    return { place: 'scratch', bytes };
  return { place: 'none', bytes: 0 };
}
/** Images aligned to all k references for d_c (ACK-means' rule). */
const DC_IMAGES = 10;

/** One iteration of the scale engine: the driver's record plus the stage and the visits. */
export interface ScaleRecord extends IterationRecord {
  /** 'batch': a mini-batch; 'full': a pass over every image. */
  stage: 'batch' | 'full';
  /** Images in this iteration's set. */
  setSize: number;
  /** Particle-visits per particle so far (images aligned, summed over iterations, over n). */
  visits: number;
  /** Fraction of the set whose class after the pass lies outside its shortlist (own class kept). */
  outsideShortlist: number;
  /** How much the references moved in this iteration: ‖μ_new − μ_old‖ / ‖μ_new‖ over all classes. */
  referenceChange?: number;
  /** Set on the last record when the run stopped because another full pass would pass `maxVisits`. */
  budgetReached?: boolean;
  /** Set on the last record when the run stopped by the `settle` rule. */
  settled?: boolean;
  /**
   * True when this full pass aligned each image only to the classes kept from the last ranking
   * (see `shortlistRefresh`); `outsideShortlist` is then the share outside those kept classes.
   */
  kept?: boolean;
  /**
   * True when this full pass re-ranked each image among its kept classes and the
   * {@link NEIGHBOUR_CLASSES} classes nearest to its own instead of all k (no coarse stage).
   */
  neighbours?: boolean;
  /**
   * True when this full pass re-scored the shortlists of the coarse ranking just before it
   * ({@link ScaleState.shortlisted}) instead of ranking again (no coarse stage).
   */
  shortlisted?: boolean;
  /**
   * On a ranked pass right after kept ones: the share of images whose class is now neither one
   * of the classes kept for them nor their class before (what the kept passes could not reach).
   */
  keptMissed?: number;
  /**
   * On a full pass after a full pass: the share of images whose summed pose changed (the class
   * sums were updated by those; see {@link SUM_POSE_TOLERANCE}).
   */
  sumsUpdated?: number;
}

/** The resumable state of the scale engine (a clustering state with the engine's extras). */
export interface ScaleState extends ClusteringState {
  /** Marks a scale-engine state (a checkpoint of the exhaustive driver has none). */
  engine: 'scale';
  trace: ScaleRecord[];
  /** Each image's shift in its class after the last pass it was in (pixels; 0 before any). */
  shiftX?: Float32Array;
  shiftY?: Float32Array;
  /**
   * Each image's {@link KEPT_CANDIDATES} best classes by the full alignment of the last full pass
   * that ranked all k (−1: an empty slot), and that pass's iteration.
   */
  kept?: Int32Array;
  keptIteration?: number;
  /**
   * After a full pass that ranked all k by the coarse stage: each image's m best classes by its
   * full alignment in that pass (n·m, −1: an empty slot), for a next pass that re-scores them
   * ({@link ScaleRecord.shortlisted}); dropped after any other pass.
   */
  shortlisted?: Int32Array;
  /**
   * After a full pass: the pose each image is summed into its class's average with
   * ({@link summedPoses}); the class averages are the exact class sums of the images at these
   * poses.
   */
  sumPoses?: ImageParameters;
}

/**
 * Where the candidate passes run: in this process (the default, {@link candidatePass}), or
 * elsewhere with bit-identical results (src/executor/slurm-pass.ts: Slurm job arrays).
 */
export interface PassExecutor {
  readonly name: 'local' | 'slurm';
  /** Computes exactly what {@link candidatePass} computes for the same arguments. */
  candidatePass: typeof candidatePass;
  /**
   * Computes exactly what {@link classSums} computes for the same arguments (default: it, in
   * this process). Called after the ACK pass with the images of the last candidate pass.
   */
  classSums?: typeof classSums;
  /**
   * Cancels whatever it still has queued or running (e.g. work submitted ahead) and removes
   * what it left on disk; with `keepFiles` (after a failure) its logs and files stay.
   */
  close(options?: { keepFiles?: boolean }): Promise<void>;
}

/** Options of {@link runScale}. */
export interface ScaleOptions {
  k: number;
  /** ACK-means constraint weight β (default 0.5). */
  beta?: number;
  /** Stop when at most this fraction of all images changes class in a full pass (default 0.01). */
  sigma0?: number;
  /** Cap on the full passes (default 50); the mini-batches come on top. */
  maxIter?: number;
  /**
   * Budget of particle-visits per particle (images aligned, summed over iterations, over n; a
   * mini-batch counts by its share of the set): no full pass starts that would take the run past
   * it, except the first, so every image gets a class (default: no budget).
   */
  maxVisits?: number;
  /**
   * A softer stop: no full pass starts that would take the run past `visits` particle-visits per
   * particle once at most the fraction `sigma` of the images changed class in the last full pass
   * that ranked every class (the pipeline's `settleSigma` with {@link visitAllowance}; off by default). Default: none.
   */
  settle?: { visits: number; sigma: number };
  seed?: number;
  threads?: number;
  signal?: AbortSignal;
  /** The working alignment settings (box, rings, shifts, mirror, band limit). */
  align: Omit<AlignOptions, 'threads' | 'signal' | 'onProgress'>;
  /** Candidates per image (default {@link DEFAULT_SHORTLIST}); m ≥ k aligns to every class. */
  shortlist?: number;
  /**
   * Rank all k classes (the coarse stage) at least every this many full passes; the passes
   * between align each image only to the {@link KEPT_CANDIDATES} classes that scored best in the
   * last ranked pass, plus its own class. Kept classes are used only once a full pass changed
   * the class of at most {@link KEEP_SIGMA} of the images and while the references moved by at
   * most {@link KEEP_DRIFT} since the ranking (default {@link DEFAULT_SHORTLIST_REFRESH}; 1: rank
   * every pass). Both limits double after each re-ranking, in a row, that found the kept classes
   * had held back few images ({@link keptDoublings}).
   */
  shortlistRefresh?: number;
  /**
   * Local shift search in the full passes after the first: the window's half-width in pixels
   * (default: none, every pass searches the whole grid; e.g. one shift step for a 3×3 window).
   */
  localShiftRadius?: number;
  /** Sizes of the mini-batches (default {@link batchSchedule}(n, k)); [] for full passes only. */
  batches?: number[];
  /** Resume from a saved state. */
  state?: ScaleState;
  /** Runs the candidate passes (default: in this process). */
  executor?: PassExecutor;
  /**
   * Folder for a scratch file of the images' kept spectra when they take more than
   * {@link KEPT_SPECTRA_BYTES} (the working stack's scratch folder; src/pipeline/scratch.ts
   * `scratchSpectra`). Without it, or without room for them there, such sets resample every image
   * in every full pass. The same results either way.
   */
  scratch?: string;
  /**
   * Largest kept spectra held in memory, in bytes (default {@link KEPT_SPECTRA_BYTES}); 0 keeps
   * them in `scratch` whenever it is given.
   */
  inMemorySpectraLimit?: number;
  /** Progress within the current iteration (0..1). */
  onProgress?: (fraction: number) => void;
  /** Called after every iteration with its record and the state (awaited: write checkpoints here). */
  onIteration?: (record: ScaleRecord, state: ScaleState) => void | Promise<void>;
}

/**
 * The mini-batch sizes for n images and k classes: 100·k, 200·k, 400·k, … while under n/2
 * (none when 100·k ≥ n/2: small sets go straight to full passes).
 */
export function batchSchedule(n: number, k: number): number[] {
  const out: number[] = [];
  for (let b = 100 * k; b < n / 2; b *= 2) out.push(b);
  return out;
}

/** A batch of about `size` images: random chunks of {@link BATCH_CHUNK} consecutive images, sorted. */
export function pickBatch(rng: Rng, n: number, size: number): Int32Array {
  const chunks = Math.ceil(n / BATCH_CHUNK);
  const take = Math.min(chunks, Math.ceil(size / BATCH_CHUNK));
  const picked = rng.sample(chunks, take).sort();
  const out: number[] = [];
  for (const c of picked)
    for (let i = c * BATCH_CHUNK; i < Math.min(n, (c + 1) * BATCH_CHUNK); i++) out.push(i);
  return Int32Array.from(out);
}

/**
 * The images `items` (sorted) of `images` as a provider (consecutive runs read at once, straight
 * into the caller's buffer when `images` can: see ImageProvider.readInto).
 */
export function subsetProvider(images: Images, box: number, items: Int32Array): ImageProvider {
  const src = asProvider(images, box);
  const dim = box * box;
  const readInto = async (start: number, count: number, out: Float32Array): Promise<Float32Array> => {
    if (out.length < count * dim) throw new RangeError(`out must hold at least ${count * dim} values`);
    let a = start;
    while (a < start + count) {
      let b = a + 1;
      while (b < start + count && items[b] === items[b - 1] + 1) b++;
      const dest = out.subarray((a - start) * dim, (b - start) * dim);
      if (src.readInto) await src.readInto(items[a], b - a, dest);
      else dest.set(await src.read(items[a], b - a));
      a = b;
    }
    return out.subarray(0, count * dim);
  };
  return {
    n: items.length,
    read: (start, count) => readInto(start, count, new Float32Array(count * dim)),
    readInto,
  };
}

declare module '../native.js' {
  interface NativeAddon {
    ackPassSparse(options: {
      scores: Float32Array;
      classes: Int32Array;
      width: number;
      n: number;
      k: number;
      assignment: Int32Array;
      sizes: Int32Array;
      lambda2: number;
      order: Int32Array;
      control: Float64Array;
    }): Promise<number>;
  }
}

/**
 * One ACK-means pass on a sparse candidate table (native/core/ack_pass.cpp, the same loop as the
 * dense pass): each image in `order` leaves its class and joins argmin over its columns of
 * d(i,h) + λ2·s[h] (ties keep its class, else the lowest class). Returns the moves.
 */
export function ackPassSparse(
  table: CandidateTable,
  k: number,
  assignment: Int32Array,
  sizes: Int32Array,
  lambda2: number,
  order: Int32Array,
  signal?: AbortSignal,
): Promise<number> {
  if (assignment.length !== table.n) throw new RangeError('assignment must hold one class per table row');
  return runNativeJob(
    (control) =>
      native().ackPassSparse({
        scores: table.score,
        classes: table.classes,
        width: table.m,
        n: table.n,
        k,
        assignment,
        sizes,
        lambda2,
        order,
        control,
      }),
    { signal },
  );
}

/**
 * The own-class correction of own-class.ts for the sparse passes: for each image of this
 * iteration's set that was a member of the set the references were averaged from (the previous
 * iteration's batch or the whole set), the factor (s/(s−1))² for its class of s members there
 * (+∞ for a single member when that set had ≥ 2k images); 1 for every other image.
 */
function ownClassFactors(
  state: ScaleState,
  iteration: number,
  batches: number[],
  n: number,
  k: number,
  items: Int32Array | null,
  before: Int32Array,
): Float64Array {
  const nb = before.length;
  const out = new Float64Array(nb).fill(1);
  const prev = state.trace.at(-1);
  if (!prev) return out; // the initial references are single images, not averages
  let member: Uint8Array | null = null; // null: every image was in the previous set
  if (prev.stage === 'batch') {
    member = new Uint8Array(n);
    for (const i of pickBatch(iterationRng(state.seed, iteration - 1).fork(), n, batches[iteration - 2]))
      member[i] = 1;
  }
  const singletons = prev.setSize >= 2 * k;
  for (let r = 0; r < nb; r++) {
    const g = items ? items[r] : r;
    const a = before[r];
    if (a < 0 || (member && !member[g])) continue;
    const s = prev.sizes[a];
    if (s < 1 || (s === 1 && !singletons)) continue;
    out[r] = leaveOneOutFactor(s);
  }
  return out;
}

/**
 * refillSmallClasses (own-class.ts) on a sparse table: a class left with fewer than `min`
 * members takes members of the largest class, those most drawn to it first (smallest
 * d(i, j) − d(i, c)), among the members that have it as a candidate (only they have a pose for
 * it). Returns the number of classes refilled.
 */
export function refillSmallClassesSparse(
  table: CandidateTable,
  k: number,
  assignment: Int32Array,
  sizes: Int32Array,
  min: number,
): number {
  let refilled = 0;
  for (let j = 0; j < k; j++) {
    if (sizes[j] >= min) continue;
    refilled++;
    while (sizes[j] < min) {
      let c = -1;
      for (let h = 0; h < k; h++) if (h !== j && (c < 0 || sizes[h] > sizes[c])) c = h;
      if (c < 0 || sizes[c] <= min) break;
      const take = Math.min(sizes[c] - min, Math.max(1, Math.floor((sizes[c] - sizes[j]) / 2)));
      const drawn: Array<[number, number]> = [];
      for (let i = 0; i < table.n; i++) {
        if (assignment[i] !== c) continue;
        const to = columnOf(table, i, j);
        const from = columnOf(table, i, c);
        if (to >= 0 && from >= 0 && Number.isFinite(table.score[to]))
          drawn.push([table.score[to] - table.score[from], i]);
      }
      if (drawn.length === 0) break;
      drawn.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
      const moved = Math.min(take, drawn.length);
      for (let q = 0; q < moved; q++) assignment[drawn[q][1]] = j;
      sizes[c] -= moved;
      sizes[j] += moved;
      if (moved < take) break;
    }
  }
  return refilled;
}

/** The column of class `cls` in row i of `table`, or −1. */
function columnOf(table: CandidateTable, i: number, cls: number): number {
  for (let c = 0; c < table.m; c++) if (table.classes[i * table.m + c] === cls) return i * table.m + c;
  return -1;
}

/**
 * The sparse table of one pass over `images`: the shortlist of m classes (all k when m ≥ k) plus
 * each image's own class `own[i]` (when ≥ 0 and not already listed), fully aligned. With `given`
 * (n·m classes, −1 for an empty slot) that is the shortlist and there is no coarse stage. The shortlist
 * comes from the coarse stage of {@link coarseOptions} (half the box when the band allows, the
 * shift range at half resolution, band `coarseBand`): ranking at no shift, or at each image's
 * shift in its own class, missed most of what the full alignment finds (BENCHMARKS.md, round 5).
 * With `local`, the full alignment searches each image's local shift window.
 */
export async function candidatePass(
  images: Images,
  references: Float32Array,
  own: Int32Array,
  m: number,
  fine: AlignOptions,
  coarseBand: number,
  progress?: (fraction: number) => void,
  local?: LocalShifts,
  given?: Int32Array,
  spectra?: ImageSpectra,
): Promise<CandidateTable> {
  const box = fine.box;
  const n = imageCount('images', images, box);
  const k = references.length / (box * box);
  if (given && given.length !== n * m) throw new RangeError(`given must hold n·m (${n}·${m}) classes`);
  const coarse = !given && m < k;
  const width = given ? m + 1 : Math.min(m, k) + 1;
  const cand = new Int32Array(n * width).fill(-1);
  if (!given && m >= k) {
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) cand[i * width + j] = j;
  } else {
    const top =
      given ??
      (await shortlist(
        images,
        references,
        m,
        { ...coarseOptions(fine, coarseBand), onProgress: progress && ((p) => progress(0.3 * p.fraction)) },
        box,
      ));
    for (let i = 0; i < n; i++) {
      cand.set(top.subarray(i * m, (i + 1) * m), i * width);
      const o = own[i];
      if (o >= 0 && !top.subarray(i * m, (i + 1) * m).includes(o)) cand[i * width + m] = o;
    }
  }
  return alignCandidates(
    images,
    references,
    cand,
    width,
    {
      ...fine,
      onProgress: progress && ((p) => progress(coarse ? 0.3 + 0.7 * p.fraction : p.fraction)),
    },
    local,
    spectra,
  );
}

/**
 * The `count` classes nearest to each class (k·count, −1 where fewer): the smallest alignment
 * distances of its average, as an image, to the other averages (ties: the lower class).
 */
export async function nearestClasses(
  references: Float32Array,
  count: number,
  options: AlignOptions,
): Promise<Int32Array> {
  const k = references.length / (options.box * options.box);
  const table = await align(references, references, options);
  for (let j = 0; j < k; j++) table.score[j * k + j] = NaN; // not its own neighbour
  return topClasses(table.score, k, k, count);
}

/**
 * Each image's candidates for a re-ranking (n·width, −1 for an empty slot): its `keep` kept
 * classes, then the classes nearest to its own class `own[i]` not already listed.
 */
export function neighbourCandidates(
  kept: Int32Array,
  keep: number,
  own: Int32Array,
  near: Int32Array,
  count: number,
  width: number,
): Int32Array {
  const n = own.length;
  const out = new Int32Array(n * width).fill(-1);
  for (let i = 0; i < n; i++) {
    const row = out.subarray(i * width, (i + 1) * width);
    let f = 0;
    const add = (c: number): void => {
      if (c >= 0 && f < width && !row.subarray(0, f).includes(c)) row[f++] = c;
    };
    for (let c = 0; c < keep; c++) add(kept[i * keep + c]);
    if (own[i] >= 0) for (let c = 0; c < count; c++) add(near[own[i] * count + c]);
  }
  return out;
}

/**
 * How many times the kept classes' limits (the refresh interval and {@link KEEP_DRIFT}) are
 * doubled after the passes in `trace`: the number of the latest ranked passes after kept ones, in
 * a row, whose `keptMissed` was at most {@link KEEP_MISSED_FRACTION}·σ0 per kept pass before it
 * (at most {@link KEEP_MAX_DOUBLINGS}). Derived from the trace alone, so a resumed run makes the
 * same choices.
 */
export function keptDoublings(trace: readonly ScaleRecord[], sigma0: number): number {
  let doublings = 0;
  for (let t = trace.length - 1; t >= 0 && doublings < KEEP_MAX_DOUBLINGS; t--) {
    const missed = trace[t].keptMissed;
    if (missed === undefined) {
      if (trace[t].kept) continue;
      break;
    }
    let keptPasses = 0;
    while (t - keptPasses - 1 >= 0 && trace[t - keptPasses - 1].kept) keptPasses++;
    if (missed > KEEP_MISSED_FRACTION * sigma0 * Math.max(1, keptPasses)) break;
    doublings++;
    t -= keptPasses;
  }
  return doublings;
}

/**
 * The poses the images are summed with after a full pass: each image keeps `summed[i]` (its pose
 * in the sums before the pass) while it stays in its class (`before[i]` = `assignment[i]`) with
 * the same mirror and `poses[i]` moves no pixel within `radius` of the centre by more than
 * {@link SUM_POSE_TOLERANCE} (bounded by (radius + |shift|)·|Δψ| + |Δshift|); otherwise it takes
 * `poses[i]`. Returns the poses and the images that took a new one (sorted).
 */
export function summedPoses(
  summed: ImageParameters,
  poses: ImageParameters,
  before: Int32Array,
  assignment: Int32Array,
  radius: number,
): { poses: ImageParameters; changed: Int32Array } {
  const n = assignment.length;
  const out = copyPoses(summed);
  const changed: number[] = [];
  for (let i = 0; i < n; i++) {
    let move = Infinity;
    if (assignment[i] === before[i] && summed.mirror[i] === poses.mirror[i]) {
      const turn = Math.abs(((((poses.psi[i] - summed.psi[i]) % 360) + 540) % 360) - 180);
      const reach = radius + Math.hypot(summed.shiftX[i], summed.shiftY[i]);
      move =
        (reach * turn * Math.PI) / 180 +
        Math.hypot(poses.shiftX[i] - summed.shiftX[i], poses.shiftY[i] - summed.shiftY[i]);
    }
    if (move <= SUM_POSE_TOLERANCE) continue;
    changed.push(i);
    out.psi[i] = poses.psi[i];
    out.shiftX[i] = poses.shiftX[i];
    out.shiftY[i] = poses.shiftY[i];
    out.mirror[i] = poses.mirror[i];
  }
  return { poses: out, changed: Int32Array.from(changed) };
}

/** A copy of `p`. */
function copyPoses(p: ImageParameters): ImageParameters {
  return { psi: p.psi.slice(), shiftX: p.shiftX.slice(), shiftY: p.shiftY.slice(), mirror: p.mirror.slice() };
}

/** The poses of images `items`. */
function posesAt(p: ImageParameters, items: Int32Array): ImageParameters {
  return {
    psi: Float32Array.from(items, (i) => p.psi[i]),
    shiftX: Float32Array.from(items, (i) => p.shiftX[i]),
    shiftY: Float32Array.from(items, (i) => p.shiftY[i]),
    mirror: Uint8Array.from(items, (i) => p.mirror[i]),
  };
}

/**
 * Updates `sums` (of `images` in classes `before` at poses `oldPoses`) to classes `after` at
 * poses `newPoses`, through the images `changed` (sorted) only: each is taken out with its old
 * class and pose and added with its new ones, exactly (the same bits however they are split). A
 * provider that can `gather` reads only those images; otherwise the images are read block by
 * block in order (a read per changed image through Node would cost more than the sums).
 */
async function updateSumsBy(
  sums: ClassSums,
  images: Images,
  box: number,
  k: number,
  changed: Int32Array,
  before: Int32Array,
  oldPoses: ImageParameters,
  after: Int32Array,
  newPoses: ImageParameters,
  options: JobOptions & { quantum: number },
): Promise<void> {
  const dim = box * box;
  const update = async (items: Int32Array, picked: Float32Array): Promise<void> => {
    const opts = { ...options, indices: items };
    const classesOf = (cls: Int32Array): Int32Array => Int32Array.from(items, (i) => cls[i]);
    await updateClassSums(sums, picked, box, classesOf(before), k, posesAt(oldPoses, items), {
      ...opts,
      sign: -1,
    });
    await updateClassSums(sums, picked, box, classesOf(after), k, posesAt(newPoses, items), opts);
  };
  const gather = images instanceof Float32Array ? undefined : images.gather?.bind(images);
  if (gather) {
    const block = blockSize(box);
    const buffer = new Float32Array(Math.min(block, changed.length) * dim);
    for (let c = 0; c < changed.length; c += block) {
      throwIfAborted(options.signal);
      const items = changed.subarray(c, Math.min(changed.length, c + block));
      await update(items, await gather(items, buffer));
    }
    return;
  }
  let c = 0;
  for await (const block of imageBlocks(images, box)) {
    let e = c;
    while (e < changed.length && changed[e] < block.start + block.count) e++;
    if (e === c) continue;
    const items = changed.subarray(c, e);
    c = e;
    const picked = new Float32Array(items.length * dim);
    items.forEach((i, r) =>
      picked.set(block.images.subarray((i - block.start) * dim, (i - block.start + 1) * dim), r * dim),
    );
    await update(items, picked);
  }
}

function checkScaleState(state: ScaleState, n: number, o: Required<Pick<ScaleOptions, 'k' | 'seed'>>): void {
  if (state?.engine !== 'scale' || state.version !== 1)
    throw new AckmeansError('ERR_CHECKPOINT', 'the saved state is not a scale-engine state');
  if (state.n !== n || state.k !== o.k || state.seed !== o.seed || state.assignment.length !== n)
    throw new AckmeansError(
      'ERR_CHECKPOINT',
      `the saved state is for n=${state.n}, k=${state.k}, seed=${state.seed}, not n=${n}, k=${o.k}, seed=${o.seed}`,
    );
}

/**
 * Classifies `images` with ACK-means over multi-reference alignment, staged and sparse (see the
 * module documentation). Deterministic for any thread count and across resumes.
 * @returns a clustering result whose `state` is a {@link ScaleState}; the trace holds
 *   {@link ScaleRecord}s (stage, set size, particle-visits per particle).
 * @throws RangeError/TypeError for bad options, AbortError when `signal` fires.
 */
export async function runScale(images: Images, options: ScaleOptions): Promise<ClusteringResult> {
  const box = checkInt('box', options.align.box, 8, 4096);
  const n = imageCount('images', images, box);
  const dim = box * box;
  const k = checkInt('k', options.k, 1, n);
  const beta = checkNumber('beta', options.beta ?? 0.5, 0);
  const sigma0 = checkNumber('sigma0', options.sigma0 ?? 0.01, 0, 1);
  const maxIter = checkInt('maxIter', options.maxIter ?? 50, 1);
  const maxVisits =
    options.maxVisits === undefined ? Infinity : checkNumber('maxVisits', options.maxVisits, 1);
  const settle = options.settle && {
    visits: checkNumber('settle.visits', options.settle.visits, 0),
    sigma: checkNumber('settle.sigma', options.settle.sigma, 0, 1),
  };
  const seed = checkInt('seed', options.seed ?? 0, -Number.MAX_SAFE_INTEGER);
  const m = checkInt('shortlist', options.shortlist ?? DEFAULT_SHORTLIST, 1, 4096);
  const refresh = checkInt('shortlistRefresh', options.shortlistRefresh ?? DEFAULT_SHORTLIST_REFRESH, 1);
  const keep = Math.min(KEPT_CANDIDATES, m, k);
  // kept classes make a pass cheaper only when fewer than the ranked candidates
  const keeping = refresh > 1 && keep < Math.min(m, k);
  const batches = options.batches ?? batchSchedule(n, k);
  const job = { threads: options.threads, signal: options.signal };
  const workBand = options.align.bandLimit ?? 0.5;
  const coarseBand = Math.max(0.03, COARSE_BAND_FRACTION * workBand);
  const batchBand = Math.max(0.05, BATCH_BAND_FRACTION * workBand);
  const localRadius =
    options.localShiftRadius === undefined
      ? Infinity
      : checkNumber('localShiftRadius', options.localShiftRadius, 0);
  const provider = asProvider(images, box);
  // the class sums are exact (src/pipeline/class-sums.ts): the same bits however they are split
  const quantum = sumQuantum(n, await maxAbsValue(images, box));
  const sumsOf = options.executor?.classSums;
  const sumRadius = options.align.particleRadius ?? box / 2;
  // the exact sums of state.sumPoses after iteration `iteration`, when held here
  let held: { sums: ClassSums; iteration: number } | undefined;
  // the images' spectra for the full passes, made at the first one when the passes run here with
  // every shift searched: in memory, or in a scratch file (see KEPT_SPECTRA_BYTES)
  let spectra: ImageSpectra | undefined;
  let spectraFile: ScratchSpectra | undefined;
  const workOptions = { ...options.align, ...job, bandLimit: workBand };
  const { place: spectraPlace } = await spectraPlacement(n, options);

  let state: ScaleState;
  if (options.state) {
    checkScaleState(options.state, n, { k, seed });
    if (options.state.kept && options.state.kept.length !== n * keep)
      throw new AckmeansError('ERR_CHECKPOINT', `the saved state's kept classes are not ${keep} per image`);
    const saved = options.state.sumPoses;
    if (saved && !(['psi', 'shiftX', 'shiftY', 'mirror'] as const).every((f) => saved[f]?.length === n))
      throw new AckmeansError('ERR_CHECKPOINT', "the saved state's summed poses are not one per image");
    state = snapshot(options.state);
  } else {
    const picks = iterationRng(seed, 0).fork().sample(n, k);
    const references = new Float32Array(k * dim);
    for (let r = 0; r < k; r++) references.set(await provider.read(picks[r], 1), r * dim);
    state = {
      version: 1,
      engine: 'scale',
      method: 'ack',
      n,
      k,
      beta,
      sigma0,
      seed,
      iteration: 0,
      assignment: new Int32Array(n).fill(-1),
      references,
      trace: [],
      converged: false,
      shiftX: new Float32Array(n),
      shiftY: new Float32Array(n),
    };
  }
  const cap = batches.length + maxIter;
  try {
    while (!state.converged && state.iteration < cap) {
      throwIfAborted(options.signal);
      const last = state.trace.at(-1);
      if (state.iteration >= batches.length && last?.stage === 'full') {
        const after = last.visits + 1 - 1e-9; // the visits after one more full pass
        if (after > maxVisits) {
          last.budgetReached = true;
          break;
        }
        if (
          settle &&
          after > settle.visits &&
          last.sigma <= settle.sigma &&
          !last.kept &&
          !last.neighbours &&
          !last.shortlisted
        ) {
          last.settled = true;
          break;
        }
      }
      const t0 = performance.now();
      const iteration = state.iteration + 1;
      const rng = iterationRng(seed, iteration);
      const isBatch = iteration <= batches.length;
      const items = isBatch ? pickBatch(rng.fork(), n, batches[iteration - 1]) : null;
      const set = items ? subsetProvider(images, box, items) : images;
      const nb = items ? items.length : n;
      const before = items ? Int32Array.from(items, (i) => state.assignment[i]) : state.assignment.slice();
      const fine = {
        ...options.align,
        ...job,
        bandLimit: isBatch ? Math.min(workBand, batchBand) : workBand,
      };

      // a local shift search once every image has a shift from a full pass (a checkpoint of an
      // older version has none: its next pass searches the whole grid)
      const local: LocalShifts | undefined =
        !isBatch && state.trace.at(-1)?.stage === 'full' && state.shiftX && state.shiftY
          ? { centreX: state.shiftX, centreY: state.shiftY, radius: localRadius }
          : undefined;
      // between two rankings, the classes kept from the last one (plus the own class), while the
      // references have not moved far from those they were ranked against
      const widen = 2 ** keptDoublings(state.trace, sigma0);
      let drift = 0;
      for (let t = state.trace.length - 1; t >= 0; t--) {
        const r = state.trace[t];
        drift += r.referenceChange ?? Infinity;
        if (r.stage !== 'full' || !r.kept) break;
      }
      const kept =
        keeping &&
        !isBatch &&
        last?.stage === 'full' &&
        last.sigma <= KEEP_SIGMA &&
        last.sigma > sigma0 &&
        drift <= KEEP_DRIFT * widen &&
        state.kept !== undefined &&
        state.keptIteration !== undefined &&
        iteration - state.keptIteration < refresh * widen
          ? state.kept
          : undefined;
      // a re-ranking while σ > σ0: the kept classes and the classes nearest to the own class
      const neighbours =
        keeping && !isBatch && !kept && last?.kept && last.sigma > sigma0 && state.kept
          ? neighbourCandidates(
              state.kept,
              keep,
              before,
              await nearestClasses(state.references, NEIGHBOUR_CLASSES, fine),
              NEIGHBOUR_CLASSES,
              keep + NEIGHBOUR_CLASSES,
            )
          : undefined;
      // right after a coarse ranking that moved many images (σ > KEEP_SIGMA): its shortlists,
      // re-scored against the new references, while those moved little
      const shortlisted =
        keeping &&
        m < k &&
        !isBatch &&
        !kept &&
        !neighbours &&
        last?.stage === 'full' &&
        !last.kept &&
        !last.neighbours &&
        !last.shortlisted &&
        last.sigma > KEEP_SIGMA &&
        (last.referenceChange ?? Infinity) <= KEEP_DRIFT
          ? state.shortlisted
          : undefined;
      const pass = options.executor?.candidatePass ?? candidatePass;
      if (!isBatch && spectraPlace === 'memory') spectra ??= await imageSpectra(images, workOptions);
      if (!isBatch && spectraPlace === 'scratch' && !spectra)
        spectra = spectraFile = await scratchSpectra(images, workOptions, options.scratch as string);
      const table = await pass(
        set,
        state.references,
        before,
        kept ? keep : neighbours ? keep + NEIGHBOUR_CLASSES : m,
        fine,
        coarseBand,
        options.onProgress,
        local,
        kept ?? neighbours ?? shortlisted,
        isBatch ? undefined : spectra,
      );
      // a ranked pass after kept ones: how many images the kept classes would have missed
      const keptBefore = !isBatch && !kept && last?.kept ? state.kept : undefined;
      if (keeping && !isBatch && !kept) {
        state.kept = topClasses(table.score, table.n, table.m, keep, table.classes);
        state.keptIteration = iteration;
      }
      const ranked = !isBatch && !kept && !neighbours && !shortlisted;
      state.shortlisted =
        keeping && m < k && ranked ? topClasses(table.score, table.n, table.m, m, table.classes) : undefined;
      const ownFactor = ownClassFactors(state, iteration, batches, n, k, items, before);
      for (let i = 0; i < nb; i++) {
        const c = ownFactor[i] === 1 ? -1 : columnOf(table, i, before[i]);
        if (c >= 0) table.score[c] *= ownFactor[i];
      }
      // the classes of images never assigned yet: the nearest candidate (the driver's initial rule)
      const assignment = before.slice();
      for (let i = 0; i < nb; i++) {
        if (assignment[i] >= 0) continue;
        let best = -1;
        let bestD = Infinity;
        for (let c = i * table.m; c < (i + 1) * table.m; c++) {
          const h = table.classes[c];
          if (h >= 0 && (table.score[c] < bestD || (table.score[c] === bestD && h < best))) {
            bestD = table.score[c];
            best = h;
          }
        }
        assignment[i] = best;
      }
      const sizes = new Int32Array(k);
      for (let i = 0; i < nb; i++) sizes[assignment[i]]++;

      // d_c exactly as ACK-means defines it: DC_IMAGES random images of the set against all k
      const dcPicks = rng.fork().sample(nb, Math.min(DC_IMAGES, nb)).sort();
      const dcImages = new Float32Array(dcPicks.length * dim);
      const setProvider = asProvider(set, box);
      for (let r = 0; r < dcPicks.length; r++) dcImages.set(await setProvider.read(dcPicks[r], 1), r * dim);
      const dcTable = await align(dcImages, state.references, fine);
      dcPicks.forEach((i, r) => {
        if (ownFactor[i] !== 1) dcTable.score[r * k + before[i]] *= ownFactor[i];
      });
      const dc = characteristicDissimilarity(dcTable.score, dcPicks.length, k, rng.fork(), dcPicks.length);
      const lambda2 = (beta * dc) / Math.max(1, Math.floor(nb / k));
      const order = rng.fork().permutation(nb);
      await ackPassSparse(table, k, assignment, sizes, lambda2, order, options.signal);
      const emptyAfterPass = countEmpty(sizes);
      const reseeded = refillSmallClassesSparse(table, k, assignment, sizes, minimumClassSize(nb, k));

      // poses of each image for its own class; J1; images whose class is outside their shortlist
      const poses = {
        psi: new Float32Array(nb),
        shiftX: new Float32Array(nb),
        shiftY: new Float32Array(nb),
        mirror: new Uint8Array(nb),
      };
      let j1 = 0;
      let outside = 0;
      let changed = 0;
      for (let i = 0; i < nb; i++) {
        const c = columnOf(table, i, assignment[i]);
        if (c < 0)
          throw new Error(`internal: image ${i} is in class ${assignment[i]}, not one of its candidates`);
        if ((kept || neighbours || shortlisted || m < k) && c === (i + 1) * table.m - 1) outside++;
        poses.psi[i] = table.psi[c];
        poses.shiftX[i] = table.shiftX[c];
        poses.shiftY[i] = table.shiftY[c];
        poses.mirror[i] = table.mirror[c];
        j1 += table.score[c];
        if (assignment[i] !== before[i]) changed++;
      }
      let missed = 0;
      if (keptBefore)
        for (let i = 0; i < nb; i++) {
          const c = assignment[i];
          if (c !== before[i] && !keptBefore.subarray(i * keep, (i + 1) * keep).includes(c)) missed++;
        }
      // the class sums: after a full pass, of each image at its summed pose; updated here by the
      // images that changed when the sums of the last pass are at hand, else made afresh
      const summed =
        !isBatch && state.sumPoses && last?.stage === 'full'
          ? summedPoses(state.sumPoses, poses, before, assignment, sumRadius)
          : undefined;
      const sumPoses = summed?.poses ?? poses;
      let sums: ClassSums;
      if (
        summed &&
        state.sumPoses &&
        !sumsOf &&
        held?.iteration === state.iteration &&
        summed.changed.length <= SUM_UPDATE_MAX * nb
      ) {
        sums = held.sums;
        await updateSumsBy(sums, set, box, k, summed.changed, before, state.sumPoses, assignment, sumPoses, {
          ...job,
          quantum,
        });
      } else {
        // (a batch's halves go by the images' places in the batch, wherever it is summed)
        sums = await (sumsOf ?? classSums)(set, box, assignment, k, sumPoses, { ...job, quantum });
      }
      held = isBatch ? undefined : { sums, iteration };
      const avg = await classAveragesFromSums(sums, k, box, job);
      const references = avg.averages.slice();
      for (let j = 0; j < k; j++)
        if (avg.sizes[j] === 0) references.set(state.references.subarray(j * dim, (j + 1) * dim), j * dim);

      let moved = 0;
      let norm = 0;
      for (let p = 0; p < references.length; p++) {
        const d = references[p] - state.references[p];
        moved += d * d;
        norm += references[p] * references[p];
      }

      const fullSizes = new Int32Array(k);
      state.shiftX ??= new Float32Array(n);
      state.shiftY ??= new Float32Array(n);
      if (items) {
        for (let r = 0; r < nb; r++) {
          state.assignment[items[r]] = assignment[r];
          state.shiftX[items[r]] = poses.shiftX[r];
          state.shiftY[items[r]] = poses.shiftY[r];
        }
      } else {
        state.assignment = assignment;
        state.shiftX = poses.shiftX;
        state.shiftY = poses.shiftY;
        state.sumPoses = sumPoses;
      }
      for (let i = 0; i < n; i++) if (state.assignment[i] >= 0) fullSizes[state.assignment[i]]++;
      const sigma = changed / nb;
      // the shortlists are re-scored only after a ranking that moved many images
      if (sigma <= KEEP_SIGMA) state.shortlisted = undefined;
      const visitsBefore = state.trace.at(-1)?.visits ?? 0;
      const record: ScaleRecord = {
        iteration,
        sigma,
        changed,
        j1,
        j2: sizeTerm(sizes, lambda2 / 2),
        dc,
        lambda: lambda2 / 2,
        sizes: Array.from(isBatch ? sizes : fullSizes),
        empty: emptyAfterPass,
        reseeded,
        seconds: (performance.now() - t0) / 1000,
        capReached: false,
        stage: isBatch ? 'batch' : 'full',
        setSize: nb,
        visits: visitsBefore + nb / n,
        outsideShortlist: outside / nb,
        referenceChange: norm > 0 ? Math.sqrt(moved / norm) : 0,
        ...(kept ? { kept: true } : {}),
        ...(neighbours ? { neighbours: true } : {}),
        ...(shortlisted ? { shortlisted: true } : {}),
        ...(keptBefore ? { keptMissed: missed / nb } : {}),
        ...(summed ? { sumsUpdated: summed.changed.length / nb } : {}),
      };
      state.iteration = iteration;
      state.references = references;
      // only a pass that ranked every class can end the run: a kept, neighbour or shortlisted pass
      // with σ ≤ σ0 is followed by a coarse ranking (their classes may hold back images that would
      // move)
      state.converged = ranked && sigma <= sigma0;
      state.trace.push(record);
      if (!state.converged && state.iteration >= cap) record.capReached = true;
      if (options.onIteration) await options.onIteration(record, snapshot(state));
    }
  } finally {
    await spectraFile?.close(); // the scratch file's space is freed
  }
  const final = snapshot(state);
  const sizes = new Int32Array(k);
  for (let i = 0; i < n; i++) if (final.assignment[i] >= 0) sizes[final.assignment[i]]++;
  return {
    assignment: final.assignment,
    references: final.references,
    sizes,
    trace: final.trace,
    converged: final.converged,
    state: final,
  };
}

function snapshot(state: ScaleState): ScaleState {
  return {
    ...state,
    assignment: state.assignment.slice(),
    references: state.references.slice(),
    trace: state.trace.map((r) => ({ ...r, sizes: [...r.sizes] })),
    ...(state.shiftX && state.shiftY && { shiftX: state.shiftX.slice(), shiftY: state.shiftY.slice() }),
    ...(state.kept && { kept: state.kept.slice() }),
    ...(state.shortlisted && { shortlisted: state.shortlisted.slice() }),
    ...(state.sumPoses && { sumPoses: copyPoses(state.sumPoses) }),
  };
}
