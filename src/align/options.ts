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
  return {
    settings: { box, firstRing, lastRing, shiftRange, shiftStep, mirror, bandLimit },
    threads: resolveThreads(options.threads),
    signal: checkSignal(options.signal),
    onProgress: checkCallback<(p: Progress) => void>('onProgress', options.onProgress),
  };
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
