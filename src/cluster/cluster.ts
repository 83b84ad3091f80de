/**
 * `cluster(data, options)`: the public entry point for plain vectors.
 */
import { checkFloat32Array, checkInt, firstNonFinite } from '../errors.js';
import { runClustering } from './driver.js';
import type { ClusteringOptions, ClusteringResult } from './types.js';
import { VectorSource } from './vector-source.js';

/** Options of {@link cluster}. */
export interface ClusterOptions extends ClusteringOptions {
  /** Number of items (optional; must equal data.length / dim when given). */
  n?: number;
  /** Values per item (pixels of an aligned image, or factor coordinates). */
  dim: number;
}

/**
 * Classifies n vectors (aligned images or factor coordinates) into k classes by squared
 * Euclidean distance, with ACK-means (default) or a baseline method.
 *
 * @param data n·dim values, row-major.
 * @returns `{ assignment, references, sizes, trace, converged, state }`; `assignment[i]` is the
 *   0-based class of item i.
 * @throws TypeError / RangeError naming the parameter for bad options, a wrong data length or
 *   non-finite data; AbortError when `signal` fires.
 * @example
 *   const { assignment, sizes } = await cluster(coords, { dim: 9, k: 100, method: 'ack', seed: 1 });
 */
export async function cluster(data: Float32Array, options: ClusterOptions): Promise<ClusteringResult> {
  checkFloat32Array('data', data);
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const dim = checkInt('dim', options.dim, 1);
  if (data.length === 0 || data.length % dim !== 0)
    throw new RangeError(`data.length (${data.length}) must be a positive multiple of dim (${dim})`);
  if (options.n !== undefined) {
    const n = checkInt('n', options.n, 1);
    if (n * dim !== data.length)
      throw new RangeError(`data.length (${data.length}) must be n·dim (${n}·${dim} = ${n * dim})`);
  }
  const bad = firstNonFinite(data);
  if (bad >= 0)
    throw new RangeError(
      `data[${bad}] is ${data[bad]} (item ${Math.floor(bad / dim)}, value ${bad % dim}): data must be finite`,
    );
  return runClustering(new VectorSource(data, dim), options);
}
