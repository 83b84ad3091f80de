/** Options of the alignment engine, their defaults and their checks. */
import { checkCallback, checkFloat32Array, checkInt, checkNumber, checkSignal } from '../errors.js';
import { type JobOptions, type Progress, resolveThreads } from '../job.js';
import type { NativeAlignSettings } from '../native.js';
import { type Images, imageCount } from './provider.js';

/** Options of {@link align} (and of the MRA dissimilarity source), named as classify() uses them. */
export interface AlignOptions extends JobOptions {
  /** Image side in pixels (images are box×box, centre at pixel (box/2, box/2), 0-based). */
  box: number;
  /** Innermost polar ring radius in pixels (default 1). */
  firstRing?: number;
  /**
   * Outermost ring radius in pixels (default: `particleRadius` when given, else box/2 − 2;
   * at most box/2 − 1).
   */
  lastRing?: number;
  /** Particle radius in pixels: the default `lastRing` (capped at box/2 − 2). */
  particleRadius?: number;
  /**
   * Largest shift searched, in pixels, in x and in y (default 1). The grid is
   * k·shiftStep for every integer k with |k·shiftStep| ≤ shiftRange (a square of (2K+1)² shifts).
   */
  shiftRange?: number;
  /** Step of the shift grid in pixels (default 1; fractional steps are bilinear). */
  shiftStep?: number;
  /** Also try the mirrored image (default true). */
  mirror?: boolean;
  /**
   * Highest spatial frequency used, in cycles/pixel (default 0.5 = Nyquist, all harmonics):
   * ring r keeps the angular harmonics m ≤ 2πr·bandLimit. Lower values make alignment faster
   * (shorter GEMMs and inverse FFTs) and ignore noise above that frequency. The correlation is
   * sampled every 360°/L with L the smallest even 2^a3^b5^c ≥ 2·(2π·lastRing·bandLimit)+2, and
   * refined between samples: a parabola through 3 samples chooses the shift and mirror, then a
   * quartic through 5 samples (Newton's method) refines the winner's angle and value.
   */
  bandLimit?: number;
  /**
   * Search the shift grid on the references' side (default false): each reference is resampled
   * at every grid offset d and each image once, at its centre, so the images' polar resampling
   * (most of a sparse pass) is done once instead of once per shift. The pose is still the
   * image's, in the one convention of src/align/apply.ts: the offset turned by the found angle,
   * t = R(−ψ)·F^mirror·d, so shifts leave the grid (at the grid's spacing, rotated); the score
   * is ‖x‖²_w + ‖μ_d‖²_w − 2·max correlation. A local shift search (per-image windows) always
   * shifts the images.
   */
  shiftReferences?: boolean;
}

/** The resolved settings passed to the native engine (declared with it, in src/native.ts). */
export type AlignSettings = NativeAlignSettings;

/** Checked settings, thread count, signal and progress callback of an alignment call. */
export interface ResolvedAlignOptions {
  settings: AlignSettings;
  threads: number;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

/** Checks `options` and fills in the defaults; throws TypeError/RangeError naming the option. */
export function resolveAlignOptions(options: AlignOptions): ResolvedAlignOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const box = checkInt('box', options.box, 8, 4096);
  const maxRing = Math.floor(box / 2) - 1;
  const firstRing =
    options.firstRing === undefined ? 1 : checkInt('firstRing', options.firstRing, 1, maxRing);
  const radius =
    options.particleRadius === undefined
      ? undefined
      : checkNumber('particleRadius', options.particleRadius, 1);
  const defaultLast = Math.max(
    firstRing,
    Math.min(maxRing - 1, radius === undefined ? Infinity : Math.round(radius)),
  );
  const lastRing =
    options.lastRing === undefined ? defaultLast : checkInt('lastRing', options.lastRing, firstRing, maxRing);
  const shiftRange =
    options.shiftRange === undefined ? 1 : checkNumber('shiftRange', options.shiftRange, 0, box / 2);
  const shiftStep =
    options.shiftStep === undefined ? 1 : checkNumber('shiftStep', options.shiftStep, 1e-3, box / 2);
  if (options.mirror !== undefined && typeof options.mirror !== 'boolean')
    throw new TypeError('mirror must be a boolean');
  const mirror = options.mirror ?? true;
  const bandLimit =
    options.bandLimit === undefined ? 0.5 : checkNumber('bandLimit', options.bandLimit, 1e-3, 0.5);
  if (options.shiftReferences !== undefined && typeof options.shiftReferences !== 'boolean')
    throw new TypeError('shiftReferences must be a boolean');
  const shiftReferences = options.shiftReferences ?? false;
  return {
    settings: { box, firstRing, lastRing, shiftRange, shiftStep, mirror, bandLimit, shiftReferences },
    threads: resolveThreads(options.threads),
    signal: checkSignal(options.signal),
    onProgress: checkCallback<(p: Progress) => void>('onProgress', options.onProgress),
  };
}

/**
 * A local shift search (as RELION searches offsets around the previous translation): image i is
 * aligned only at the shift-grid offsets within `radius` pixels, in x and in y, of its shift
 * (`centreX[i]`, `centreY[i]`) from an earlier alignment (a pose shift, as {@link align} returns
 * it), the window moved inward where it would leave the grid. Rotation and mirror are searched in
 * full as always.
 */
export interface LocalShifts {
  /** Per image, the x shift to search around (pixels). */
  centreX: Float32Array;
  /** Per image, the y shift to search around (pixels). */
  centreY: Float32Array;
  /** Half-width of the window in pixels (rounded down to whole grid steps; Infinity: the whole grid). */
  radius: number;
}

/** The grid offsets of each image's window, for the native engine. */
export interface LocalOffsets {
  /** n·perImage indices into the shift grid (x fastest, as the grid is laid out). */
  offsets: Int32Array;
  perImage: number;
}

/**
 * The shift-grid indices of each image's local window (see {@link LocalShifts}), or null when
 * the window covers the whole grid (then a local search is the full search).
 * @throws RangeError for centre arrays of the wrong length or non-finite values.
 */
export function localOffsets(settings: AlignSettings, local: LocalShifts, n: number): LocalOffsets | null {
  const step = settings.shiftStep;
  const K = settings.shiftRange > 0 ? Math.floor(settings.shiftRange / step + 1e-9) : 0;
  if (typeof local.radius !== 'number' || !(local.radius >= 0))
    throw new RangeError(`local.radius must be a number ≥ 0, got ${local.radius}`);
  if (local.radius >= settings.shiftRange) return null;
  const Kl = Math.floor(local.radius / step + 1e-9);
  if (Kl >= K) return null;
  if (local.centreX.length !== n || local.centreY.length !== n)
    throw new RangeError(`local.centreX and local.centreY must hold one shift per image (${n})`);
  const width = 2 * K + 1;
  const side = 2 * Kl + 1;
  const perImage = side * side;
  const offsets = new Int32Array(n * perImage);
  const centre = (s: number): number => {
    if (!Number.isFinite(s)) throw new RangeError('local shift centres must be finite');
    // a pose shift s samples the image at offset −s
    return Math.min(K - Kl, Math.max(Kl - K, Math.round(-s / step)));
  };
  for (let i = 0; i < n; i++) {
    const cx = centre(local.centreX[i]);
    const cy = centre(local.centreY[i]);
    let e = i * perImage;
    for (let dy = -Kl; dy <= Kl; dy++)
      for (let dx = -Kl; dx <= Kl; dx++) offsets[e++] = (cy + dy + K) * width + (cx + dx + K);
  }
  return { offsets, perImage };
}

/** The native call's offset fields for images start … start+count−1 of `window` (none without one). */
export function windowOf(
  window: LocalOffsets | null,
  start: number,
  count: number,
): { offsets?: Int32Array; offsetsPerImage?: number } {
  if (!window) return {};
  const per = window.perImage;
  return { offsets: window.offsets.subarray(start * per, (start + count) * per), offsetsPerImage: per };
}

/** {@link ResolvedAlignOptions} of a call aligning n images to k references of box² values. */
export interface ResolvedAlignCall extends ResolvedAlignOptions {
  box: number;
  /** Number of images. */
  n: number;
  /** Number of references. */
  k: number;
}

/**
 * Checks the options, images and references of an alignment call (align, alignCandidates,
 * shortlist); throws TypeError/RangeError naming the option or argument.
 */
export function resolveAlignCall(
  images: Images,
  references: Float32Array,
  options: AlignOptions,
): ResolvedAlignCall {
  const resolved = resolveAlignOptions(options);
  const box = resolved.settings.box;
  const n = imageCount('images', images, box);
  checkFloat32Array('references', references);
  return { ...resolved, box, n, k: imageCount('references', references, box) };
}
