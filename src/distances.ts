/**
 * The dissimilarity table for aligned data: squared Euclidean distances between n vectors
 * (aligned images, or factor coordinates) and k references, by OpenBLAS sgemm in native code.
 */
import { checkCallback, checkFloat32Array, checkInt, checkSignal } from './errors.js';
import { type JobOptions, type Progress, resolveThreads, runNativeJob } from './job.js';
import { native } from './native.js';

/** Options of {@link distanceTable}. */
export interface DistanceTableOptions extends JobOptions {
  /** Length of each vector (pixels of an image, or number of factors). */
  dim: number;
}

/**
 * Squared Euclidean distances `out[i*k + j] = ‖x_i − m_j‖²`, computed as
 * ‖x‖² + ‖m‖² − 2·X·Mᵀ (sgemm, in row tiles of 128 so memory stays at the output's size),
 * clamped at 0.
 *
 * @param images n·dim values, row-major (n is `images.length / dim`).
 * @param references k·dim values, row-major.
 * @returns a Float32Array of n·k distances, row-major. Same result for any thread count.
 * @throws TypeError for arguments of the wrong type, RangeError for impossible sizes,
 *   AbortError when `signal` fires.
 */
export async function distanceTable(
  images: Float32Array,
  references: Float32Array,
  options: DistanceTableOptions,
): Promise<Float32Array> {
  checkFloat32Array('images', images);
  checkFloat32Array('references', references);
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const dim = checkInt('dim', options.dim, 1);
  const threads = resolveThreads(options.threads);
  const signal = checkSignal(options.signal);
  const onProgress = checkCallback<(p: Progress) => void>('onProgress', options.onProgress);
  if (images.length === 0 || images.length % dim !== 0)
    throw new RangeError(`images.length (${images.length}) must be a positive multiple of dim (${dim})`);
  if (references.length === 0 || references.length % dim !== 0)
    throw new RangeError(
      `references.length (${references.length}) must be a positive multiple of dim (${dim})`,
    );
  const n = images.length / dim;
  const k = references.length / dim;
  if (n * k > 2 ** 31 - 1)
    throw new RangeError(`n·k (${n}·${k}) is too large for one table (max 2^31−1 entries)`);
  return runNativeJob(
    (control) => native().distanceTable({ images, n, references, k, dim, threads, control }),
    {
      signal,
      onProgress,
    },
  );
}
