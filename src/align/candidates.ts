/**
 * Sparse multi-reference alignment: each image is aligned only to its own short list of
 * candidate references, and a cheap first stage chooses those lists. The scale engine
 * (src/pipeline/scale.ts) is built on these two calls; no n×k table is ever made.
 *
 * - {@link shortlist}: a coarse alignment (by default no shifts and a low band limit, so a few
 *   harmonics of every ring) of every image to all k references, in blocks; per image only the
 *   m best classes are kept.
 * - {@link alignCandidates}: the full alignment (same dissimilarity and pose convention as
 *   {@link align}) of image i to the references `candidates[i·m + c]` only (−1: an empty slot).
 */
import { checkInt } from '../errors.js';
import { runNativeJob } from '../job.js';
import { native } from '../native.js';
import { type AlignStats, alignBlock, emptyAlignOutputs, tableRows } from './align.js';
import {
  type AlignOptions,
  type AlignSettings,
  type LocalShifts,
  localOffsets,
  resolveAlignCall,
  resolveAlignOptions,
  windowOf,
} from './options.js';
import {
  type ImageProvider,
  type Images,
  blockProgress,
  imageBlocks,
  imageCount,
  readAhead,
} from './provider.js';
import { preprocessImages } from '../pipeline/preprocess.js';

/** A sparse alignment table: per image, `m` columns of (class, score, pose). */
export interface CandidateTable {
  /** Images (rows). */
  n: number;
  /** Columns per image. */
  m: number;
  /** n·m classes (−1: an empty column). */
  classes: Int32Array;
  /** n·m dissimilarities (+∞ in an empty column). */
  score: Float32Array;
  /** n·m rotations in degrees, [0, 360). */
  psi: Float32Array;
  /** n·m shifts in x (pixels). */
  shiftX: Float32Array;
  /** n·m shifts in y (pixels). */
  shiftY: Float32Array;
  /** n·m mirror flags. */
  mirror: Uint8Array;
}

declare module '../native.js' {
  interface NativeAddon {
    alignCandidates(options: {
      /** The images, or (with `spectra` and `spectraNorms`) nothing. */
      images?: Float32Array;
      /** The images' kept spectra from `imageSpectra` for the same settings, instead of images. */
      spectra?: Float32Array;
      spectraNorms?: Float64Array;
      n: number;
      references: Float32Array;
      k: number;
      candidates: Int32Array;
      m: number;
      settings: AlignSettings;
      outputs: Omit<CandidateTable, 'n' | 'm' | 'classes'>;
      threads: number;
      control: Float64Array;
      offsets?: Int32Array;
      offsetsPerImage?: number;
    }): Promise<AlignStats>;
    /** Floats per image of `imageSpectra`; 0 when the settings do not shift the references. Synchronous. */
    imageSpectrumFloats(options: { settings: AlignSettings }): number;
    /** Fills `spectra` (n·imageSpectrumFloats) and `norms` (n) with the images' side of a search. */
    imageSpectra(options: {
      images: Float32Array;
      n: number;
      settings: AlignSettings;
      spectra: Float32Array;
      norms: Float64Array;
      threads: number;
      control: Float64Array;
    }): Promise<void>;
  }
}

/**
 * The images' side of a search with the shifts on the references' side (`shiftReferences`): each
 * image resampled once, at its centre, on the polar rings, whatever the references. Made once by
 * {@link imageSpectra} (in memory) or by src/pipeline/scratch.ts `scratchSpectra` (in a scratch
 * file, for sets too large to hold) and given to {@link alignCandidates}, it spares the resampling
 * (a third of a sparse pass) in every later pass: the same results, bit for bit.
 */
export interface ImageSpectra {
  /** Images. */
  n: number;
  /** Floats per image. */
  floats: number;
  /** n norms. */
  norms: Float64Array;
  /** The settings they were made for (a search with others must not use them). */
  settings: AlignSettings;
  /**
   * The spectra of images start..start+count−1 (count·floats values): a view of memory, or, read
   * from a file, into `out` (at least count·floats values) when given.
   */
  read(start: number, count: number, out?: Float32Array): Promise<Float32Array>;
}

/**
 * Bytes that {@link imageSpectra} would hold for n images with `options`, or undefined when the
 * options do not search the shifts on the references' side (then there is nothing to keep).
 */
export function imageSpectraBytes(n: number, options: AlignOptions): number | undefined {
  const floats = native().imageSpectrumFloats({ settings: resolveAlignOptions(options).settings });
  return floats > 0 ? n * (4 * floats + 8) : undefined;
}

/** Where {@link imageSpectraBlocks} puts each block's spectra. */
export interface SpectraSink {
  /** The array to fill with the spectra of images start..start+count−1 (count·floats values). */
  into(start: number, count: number, floats: number): Float32Array;
  /** Called with that array once it is filled, in order (awaited). */
  done?(start: number, spectra: Float32Array): Promise<void>;
}

/**
 * Makes each image's side of a search with `options` (which must search the shifts on the
 * references' side), block by block, into the arrays `sink` gives.
 * @returns floats per image, the n norms and the resolved settings.
 * @throws RangeError when the options do not shift the references.
 */
export async function imageSpectraBlocks(
  images: Images,
  options: AlignOptions,
  sink: SpectraSink,
): Promise<Omit<ImageSpectra, 'read'>> {
  const { settings, threads, signal } = resolveAlignOptions(options);
  const box = settings.box;
  const n = imageCount('images', images, box);
  const floats = native().imageSpectrumFloats({ settings });
  if (floats === 0)
    throw new RangeError("image spectra need the shifts searched on the references' side (shiftReferences)");
  const norms = new Float64Array(n);
  for await (const block of imageBlocks(asProvider(images, box), box, CANDIDATE_BLOCK)) {
    const spectra = sink.into(block.start, block.count, floats);
    await runNativeJob(
      (control) =>
        native().imageSpectra({
          images: block.images,
          n: block.count,
          settings,
          spectra,
          norms: norms.subarray(block.start, block.start + block.count),
          threads,
          control,
        }),
      { signal },
    );
    await sink.done?.(block.start, spectra);
  }
  return { n, floats, norms, settings };
}

/**
 * Each image's side of a search with `options`, held in memory: see {@link ImageSpectra}. Reads
 * the images in blocks.
 * @throws RangeError when the options do not shift the references.
 */
export async function imageSpectra(images: Images, options: AlignOptions): Promise<ImageSpectra> {
  const n = imageCount('images', images, options.box);
  let all = new Float32Array(0);
  const made = await imageSpectraBlocks(images, options, {
    into: (start, count, floats) => {
      if (all.length === 0) all = new Float32Array(n * floats);
      return all.subarray(start * floats, (start + count) * floats);
    },
  });
  return {
    ...made,
    read: async (start, count) => all.subarray(start * made.floats, (start + count) * made.floats),
  };
}

/** Whether `a` and `b` are the same alignment settings. */
function sameSettings(a: AlignSettings, b: AlignSettings): boolean {
  return (Object.keys(a) as Array<keyof AlignSettings>).every((key) => a[key] === b[key]);
}

/** Images per block of the sparse passes (a few MB of pixels and of coarse scores). */
export const CANDIDATE_BLOCK = 2048;

/** `images` as a provider (an array is read through subarrays, without copies). */
export function asProvider(images: Images, box: number): ImageProvider {
  if (!(images instanceof Float32Array)) return images;
  const dim = box * box;
  return {
    n: images.length / dim,
    read: async (start, count) => images.subarray(start * dim, (start + count) * dim),
  };
}

/** An empty candidate table of n rows and m columns. */
export function emptyCandidateTable(n: number, m: number): CandidateTable {
  return {
    n,
    m,
    classes: new Int32Array(n * m).fill(-1),
    score: new Float32Array(n * m).fill(Infinity),
    psi: new Float32Array(n * m),
    shiftX: new Float32Array(n * m),
    shiftY: new Float32Array(n * m),
    mirror: new Uint8Array(n * m),
  };
}

/**
 * Aligns image i only to the references `candidates[i·m + c]`.
 * @param images n images (array or provider; read in blocks of {@link CANDIDATE_BLOCK}).
 * @param references k images of box² values.
 * @param candidates n·m classes in [−1, k) (−1: empty slot, score +∞).
 * @param local a local shift search per image (default: every grid shift).
 * @param spectra the images' spectra from {@link imageSpectra} with the same settings: the images
 *   are then not read, and the table is the same bit for bit.
 * @returns the table (classes are a copy of `candidates`); entry (i, c) equals {@link align}'s
 *   entry (i, candidates[i·m + c]) up to rounding; identical for any thread count.
 */
export async function alignCandidates(
  images: Images,
  references: Float32Array,
  candidates: Int32Array,
  m: number,
  options: AlignOptions,
  local?: LocalShifts,
  spectra?: ImageSpectra,
): Promise<CandidateTable> {
  const { settings, threads, signal, onProgress, box, n, k } = resolveAlignCall(images, references, options);
  const window = local ? localOffsets(settings, local, n) : null;
  checkInt('m', m, 1, 4096);
  if (!(candidates instanceof Int32Array) || candidates.length !== n * m)
    throw new TypeError(`candidates must be an Int32Array of n·m (${n}·${m}) values`);
  if (spectra && (spectra.n !== n || !sameSettings(spectra.settings, settings) || window))
    throw new RangeError(
      'spectra must be of these n images, made with these settings, and without a local search',
    );
  const table = emptyCandidateTable(n, m);
  table.classes.set(candidates);
  // with kept spectra the images are not read: blocks of the same sizes, the spectra read ahead
  // one block into two buffers taken in turn (when they come from a file)
  const blocks = spectra
    ? spectraBlocks(spectra, n)
    : imageBlocks(asProvider(images, box), box, CANDIDATE_BLOCK);
  for await (const block of blocks) {
    const a = block.start * m;
    const b = (block.start + block.count) * m;
    const outputs = {
      score: table.score.subarray(a, b),
      psi: table.psi.subarray(a, b),
      shiftX: table.shiftX.subarray(a, b),
      shiftY: table.shiftY.subarray(a, b),
      mirror: table.mirror.subarray(a, b),
    };
    await runNativeJob(
      (control) =>
        native().alignCandidates({
          ...('spectra' in block
            ? { spectra: block.spectra, spectraNorms: block.norms }
            : { images: block.images }),
          n: block.count,
          references,
          k,
          candidates: candidates.subarray(a, b),
          m,
          settings,
          outputs,
          threads,
          control,
          ...windowOf(window, block.start, block.count),
        }),
      { signal, onProgress: blockProgress(onProgress, block.start, n) },
    );
  }
  return table;
}

/** The kept spectra in blocks of {@link CANDIDATE_BLOCK} images, the next read while one is used. */
async function* spectraBlocks(
  spectra: ImageSpectra,
  n: number,
): AsyncGenerator<{ start: number; count: number; spectra: Float32Array; norms: Float64Array }> {
  const slots = [0, 1].map(() => new Float32Array(Math.min(n, CANDIDATE_BLOCK) * spectra.floats));
  for await (const b of readAhead(n, CANDIDATE_BLOCK, (start, count) =>
    spectra.read(start, count, slots[(start / CANDIDATE_BLOCK) % 2]),
  ))
    yield {
      start: b.start,
      count: b.count,
      spectra: b.data,
      norms: spectra.norms.subarray(b.start, b.start + b.count),
    };
}

/**
 * The m classes of smallest score in each row of an n×k score table, in increasing order of
 * score (ties: lower class first; NaN scores are skipped): n·m classes, −1 where a row has fewer.
 * With `classes` (n·k, −1 for an empty column) the table is sparse: column j of row i holds
 * class `classes[i·k + j]` (a {@link CandidateTable}'s `classes`); else column j is class j.
 */
export function topClasses(
  scores: Float32Array,
  n: number,
  k: number,
  m: number,
  classes?: Int32Array,
): Int32Array {
  const keep = Math.min(m, k);
  const out = new Int32Array(n * m).fill(-1);
  const idx = new Int32Array(keep);
  const val = new Float64Array(keep);
  // (s, c) goes ahead of slot p
  const ahead = (s: number, c: number, p: number): boolean => s < val[p] || (s === val[p] && c < idx[p]);
  for (let i = 0; i < n; i++) {
    let filled = 0;
    const row = i * k;
    for (let j = 0; j < k; j++) {
      const s = scores[row + j];
      const c = classes ? classes[row + j] : j;
      if (c < 0 || Number.isNaN(s) || (filled === keep && !ahead(s, c, keep - 1))) continue;
      // insertion into the sorted prefix
      let p = filled < keep ? filled++ : keep - 1;
      while (p > 0 && ahead(s, c, p - 1)) {
        val[p] = val[p - 1];
        idx[p] = idx[p - 1];
        p--;
      }
      val[p] = s;
      idx[p] = c;
    }
    out.set(idx.subarray(0, filled), i * m);
  }
  return out;
}

/**
 * The coarse first stage's settings for the working alignment `options` and a band limit
 * `bandLimit` (cycles per working pixel): the working search at half resolution. When the box is
 * at least 32 and the band fits below half the working Nyquist (≤ 0.25), the images are
 * Fourier-cropped to half the box (an even number of pixels) and every setting is in that box's
 * pixels: the band, the rings, and the shift grid (the working range, a step of one coarse
 * pixel or the range if smaller; ±2 px step 1 becomes 3×3 shifts 2 working px apart).
 * Otherwise the working box, shifts and rings at `bandLimit`. The shift search matters: ranking
 * at no shift, or at each image's shift in its own class, missed the best class of many images
 * (class averages are centred differently), and the scale engine lost accuracy (BENCHMARKS.md,
 * round 5).
 */
export function coarseOptions(options: AlignOptions, bandLimit: number): AlignOptions {
  const band = Math.min(options.bandLimit ?? 0.5, bandLimit);
  const box = options.box;
  const crop = box >= 32 && band <= 0.25 ? 2 * Math.ceil(box / 4) : box;
  const s = crop / box;
  const range = (options.shiftRange ?? 1) * s;
  return {
    ...options,
    box: crop,
    bandLimit: Math.min(0.5, band / s),
    shiftRange: range,
    shiftStep: range > 0 ? Math.min(range, Math.max(1, (options.shiftStep ?? 1) * s)) : 1,
    ...(options.firstRing === undefined ? {} : { firstRing: Math.max(1, Math.round(options.firstRing * s)) }),
    ...(options.lastRing === undefined ? {} : { lastRing: Math.max(1, Math.floor(options.lastRing * s)) }),
    ...(options.particleRadius === undefined ? {} : { particleRadius: options.particleRadius * s }),
  };
}

/**
 * `images` (n·box² values) Fourier-cropped to `crop` pixels, values kept (a linear map); into
 * `out` when given (see preprocessImages).
 */
export function cropImages(
  images: Float32Array,
  box: number,
  crop: number,
  threads?: number,
  out?: Float32Array,
): Promise<Float32Array> {
  if (crop === box) return Promise.resolve(images);
  return preprocessImages(images, {
    box,
    outBox: crop,
    radius: 0,
    normalise: false,
    mask: false,
    threads,
    ...(out ? { out } : {}),
  });
}

/**
 * The shortlist of each image: its m best classes by a coarse alignment to all k references
 * (`coarse`: the coarse alignment's options, e.g. from {@link coarseOptions}). Images and
 * references of `workingBox` pixels are Fourier-cropped to `coarse.box` first when it is smaller
 * ({@link cropImages}). Reads the images in blocks; keeps only n·m classes.
 */
export async function shortlist(
  images: Images,
  references: Float32Array,
  m: number,
  coarse: AlignOptions,
  workingBox = coarse.box,
): Promise<Int32Array> {
  const box = checkInt('workingBox', workingBox, 8, 4096);
  const n = imageCount('images', images, box);
  checkInt('m', m, 1, 4096);
  const { settings, threads, signal, onProgress } = resolveAlignOptions(coarse);
  const refs = await cropImages(references, box, coarse.box, threads);
  const k = imageCount('references', refs, coarse.box);
  const out = new Int32Array(n * m);
  // one crop buffer and one table for every block (fresh pages cost more than the crop here)
  const rows = Math.min(n, CANDIDATE_BLOCK);
  const cropped = coarse.box === box ? undefined : new Float32Array(rows * coarse.box * coarse.box);
  const table = emptyAlignOutputs(rows * k);
  for await (const block of imageBlocks(asProvider(images, box), box, CANDIDATE_BLOCK)) {
    const x = await cropImages(block.images, box, coarse.box, threads, cropped);
    const part = tableRows(table, 0, block.count * k);
    await alignBlock(x, refs, settings, part, {
      threads,
      signal,
      onProgress: blockProgress(onProgress, block.start, n),
    });
    out.set(topClasses(part.score, block.count, k, m), block.start * m);
  }
  return out;
}
