/**
 * Class averages from each member's own alignment parameters for its class, with even/odd half
 * averages (members alternate between the halves in image order) and their Fourier ring
 * correlation, a per-class resolution estimate.
 */
import { checkCallback, checkFloat32Array, checkInt, checkSignal } from '../errors.js';
import { type JobOptions, type Progress, resolveThreads, runNativeJob } from '../job.js';
import { native } from '../native.js';
import { type Images, blockProgress, imageBlocks, imageCount } from './provider.js';

/** Per-image alignment parameters (each image's parameters for its own class), n values each. */
export interface ImageParameters {
  psi: Float32Array;
  shiftX: Float32Array;
  shiftY: Float32Array;
  mirror: Uint8Array;
}

/** Class averages and their resolution estimates. */
export interface ClassAverages {
  /** k·box² values: the mean of each class's aligned members (zeros for an empty class). */
  averages: Float32Array;
  /** k·box²: mean of members 0, 2, 4, … of each class (in image order). */
  even: Float32Array;
  /** k·box²: mean of members 1, 3, 5, …. */
  odd: Float32Array;
  /** Members per class. */
  sizes: Int32Array;
  /** Shells per class in `frc` (box/2 + 1; shell s is spatial frequency s/box cycles/pixel). */
  shells: number;
  /**
   * k × shells: Fourier ring correlation between the even and odd averages (shell s holds the
   * coefficients whose |frequency|·box rounds to s); NaN for a class with fewer than 2 members.
   */
  frc: Float32Array;
  /**
   * Per class, the resolution in pixels (multiply by the pixel size for Å) where the FRC first
   * falls below 0.143, interpolated between shells; 2 (Nyquist) if it never does; NaN for a
   * class with fewer than 2 members.
   */
  resolution: Float32Array;
}

/**
 * Averages of the k classes, each member aligned with its own parameters (see
 * {@link applyAlignment}), summed in double precision.
 *
 * @param images n images of box² values (array or provider, read in blocks).
 * @param assignment n class indices in [0, k), or −1 for an image in no class.
 * @param params each image's alignment parameters for its own class (n values each).
 * @returns averages, even/odd halves, sizes, FRC and resolution; identical for any thread count.
 */
export async function classAverages(
  images: Images,
  box: number,
  assignment: Int32Array,
  k: number,
  params: ImageParameters,
  options: JobOptions = {},
): Promise<ClassAverages> {
  checkInt('box', box, 2, 65536);
  checkInt('k', k, 1);
  const n = imageCount('images', images, box);
  if (!(assignment instanceof Int32Array) || assignment.length !== n)
    throw new TypeError(`assignment must be an Int32Array of n (${n}) values`);
  for (let i = 0; i < n; i++)
    if (assignment[i] < -1 || assignment[i] >= k)
      throw new RangeError(`assignment[${i}] = ${assignment[i]} is not a class in [0, ${k}) or -1`);
  for (const key of ['psi', 'shiftX', 'shiftY'] as const)
    if (checkFloat32Array(`params.${key}`, params?.[key]).length !== n)
      throw new RangeError(`params.${key} must hold n (${n}) values`);
  if (!(params.mirror instanceof Uint8Array) || params.mirror.length !== n)
    throw new TypeError(`params.mirror must be a Uint8Array of n (${n}) values`);
  const threads = resolveThreads(options.threads);
  const signal = checkSignal(options.signal);
  const onProgress = checkCallback<(p: Progress) => void>('onProgress', options.onProgress);
  const evenSum = new Float64Array(k * box * box);
  const oddSum = new Float64Array(k * box * box);
  const members = new Int32Array(k);
  for await (const block of imageBlocks(images, box)) {
    const part = <T extends Float32Array | Int32Array | Uint8Array>(a: T): T =>
      a.subarray(block.start, block.start + block.count) as T;
    await runNativeJob(
      (control) =>
        native().classAccumulate({
          images: block.images,
          count: block.count,
          box,
          assignment: part(assignment),
          psi: part(params.psi),
          shiftX: part(params.shiftX),
          shiftY: part(params.shiftY),
          mirror: part(params.mirror),
          k,
          evenSum,
          oddSum,
          members,
          threads,
          control,
        }),
      { signal, onProgress: blockProgress(onProgress, block.start, n) },
    );
  }
  const result = await runNativeJob(
    (control) => native().classFinalize({ evenSum, oddSum, members, k, box, threads, control }),
    { signal },
  );
  return { ...result, sizes: members, shells: Math.floor(box / 2) + 1 };
}
