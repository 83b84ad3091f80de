/**
 * Preprocessing after screening and the CTF phase flip: Fourier crop to the working box,
 * contrast inversion on request, normalisation (mean 0, sd 1 of the background outside the
 * particle) and a soft circular mask. Native and batched (see native/core/preprocess.cpp).
 */
import { checkCallback, checkFloat32Array, checkInt, checkNumber, checkSignal } from '../errors.js';
import { type JobOptions, type Progress, resolveThreads, runNativeJob } from '../job.js';
import { native } from '../native.js';

/** The largest input box kept as it is; bigger boxes are Fourier-cropped to {@link DEFAULT_CROPPED_BOX}. */
export const MAX_UNCROPPED_BOX = 96;
/** The working box of inputs bigger than {@link MAX_UNCROPPED_BOX} (ISAC and SIMPLE work at 64–96 px). */
export const DEFAULT_CROPPED_BOX = 64;
/** The default particle diameter is this fraction of the box (in Å: fraction·box·pixelSize). */
export const DEFAULT_DIAMETER_FRACTION = 0.8;

/** Default working box for an input box: the box itself up to 96 px, otherwise 64 px. */
export function defaultWorkingBox(box: number): number {
  return box <= MAX_UNCROPPED_BOX ? box : DEFAULT_CROPPED_BOX;
}

/** Options of {@link preprocessImages}. */
export interface PreprocessOptions extends JobOptions {
  /** Input box (pixels). */
  box: number;
  /** Working box (pixels, ≤ box; default: {@link defaultWorkingBox}). */
  outBox?: number;
  /** Particle radius in working-box pixels: the background is outside it, the mask starts at it. */
  radius: number;
  /** Width of the mask's raised-cosine edge in working-box pixels (default 3; 0 = hard edge). */
  edge?: number;
  /** Multiply the images by −1 (dark-on-light to light-on-dark) (default false). */
  invert?: boolean;
  /**
   * Normalise each image to mean 0 and sd 1 on its background (default true); false keeps the
   * values as cropped (a linear map, e.g. to crop class averages and images alike).
   */
  normalise?: boolean;
  /** Apply the soft mask (default true). */
  mask?: boolean;
  /**
   * Per-image translations applied first, in input pixels, (x, y) pairs (n·2 values):
   * out(p) = in(p − s), a Fourier phase shift (circular). Used to apply input origins.
   */
  shifts?: Float32Array;
  /**
   * Write the result into this buffer (at least n·outBox² values; the result is its first
   * n·outBox² values) instead of a new array: a caller cropping block after block reuses one
   * buffer, and no fresh pages are faulted in.
   */
  out?: Float32Array;
}

/**
 * Shifts (optionally) and Fourier-crops `images` (n·box² values) to the working box, inverts on request, normalises
 * (unless `normalise` is false) each image to mean 0 and sd 1 on its background (pixels farther than `radius` from the centre
 * (m/2, m/2); the whole image when fewer than m pixels are background) and applies the soft mask.
 * The crop keeps frequencies below the working box's Nyquist and keeps pixel values.
 *
 * @returns n·outBox² values (a view of `out` when given). The result does not depend on the
 *   thread count.
 */
export async function preprocessImages(
  images: Float32Array,
  options: PreprocessOptions,
): Promise<Float32Array> {
  checkFloat32Array('images', images);
  const box = checkInt('box', options.box, 2, 8192);
  const outBox = checkInt('outBox', options.outBox ?? defaultWorkingBox(box), 2, box);
  const radius = checkNumber('radius', options.radius, 0);
  const edge = checkNumber('edge', options.edge ?? 3, 0);
  const invert = options.invert ?? false;
  const mask = options.mask ?? true;
  const normalise = options.normalise ?? true;
  if (typeof invert !== 'boolean') throw new TypeError('invert must be a boolean');
  if (typeof normalise !== 'boolean') throw new TypeError('normalise must be a boolean');
  if (typeof mask !== 'boolean') throw new TypeError('mask must be a boolean');
  const threads = resolveThreads(options.threads);
  const signal = checkSignal(options.signal);
  const onProgress = checkCallback<(p: Progress) => void>('onProgress', options.onProgress);
  const pixels = box * box;
  if (images.length === 0 || images.length % pixels !== 0)
    throw new RangeError(`images.length (${images.length}) must be a positive multiple of box² (${pixels})`);
  const n = images.length / pixels;
  const shifts = options.shifts === undefined ? null : checkFloat32Array('shifts', options.shifts);
  if (shifts && shifts.length !== 2 * n) throw new RangeError(`shifts must hold 2·n = ${2 * n} values`);
  const out = options.out === undefined ? undefined : checkFloat32Array('out', options.out);
  if (out && out.length < n * outBox * outBox)
    throw new RangeError(`out must hold at least n·outBox² = ${n * outBox * outBox} values`);
  const result = await runNativeJob(
    (control) =>
      native().preprocessImages({
        images,
        n,
        box,
        outBox,
        radius,
        edge,
        invert,
        normalise,
        mask,
        ...(shifts ? { shifts } : {}),
        ...(out ? { out } : {}),
        threads,
        control,
      }),
    { signal, onProgress },
  );
  return out ? result.subarray(0, n * outBox * outBox) : result;
}
