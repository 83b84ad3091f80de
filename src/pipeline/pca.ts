/**
 * Principal component analysis in native code (OpenBLAS sgemm for the covariance or Gram
 * matrix, LAPACK ssyevr for the top eigenvectors), and projection of vectors on a basis.
 */
import { checkCallback, checkFloat32Array, checkInt, checkSignal } from '../errors.js';
import { type JobOptions, type Progress, resolveThreads, runNativeJob } from '../job.js';
import { native } from '../native.js';

/** A PCA basis: `components` orthonormal vectors of length `dim`, by decreasing variance. */
export interface PcaBasis {
  dim: number;
  components: number;
  /** components·dim values, row-major; the largest-magnitude entry of each vector is positive. */
  basis: Float32Array;
  /** Variance along each vector (eigenvalue of the covariance, divided by n), decreasing. */
  eigenvalues: Float32Array;
  /** The mean vector (dim values) subtracted before projecting. */
  mean: Float32Array;
}

/** Options of {@link pca}. */
export interface PcaOptions extends JobOptions {
  /** Length of each vector. */
  dim: number;
  /** Number of principal components to keep (1..min(n, dim)). */
  components: number;
}

function countOf(data: Float32Array, dim: number): number {
  if (data.length === 0 || data.length % dim !== 0)
    throw new RangeError(`data.length (${data.length}) must be a positive multiple of dim (${dim})`);
  return data.length / dim;
}

/**
 * The top principal components of n vectors (n·dim values, row-major): the covariance
 * (dim×dim, when dim ≤ n) or the Gram matrix (n×n, otherwise) by tiled sgemm, then LAPACK
 * ssyevr. Deterministic whatever the thread count.
 */
export async function pca(data: Float32Array, options: PcaOptions): Promise<PcaBasis> {
  checkFloat32Array('data', data);
  const dim = checkInt('dim', options.dim, 1);
  const n = countOf(data, dim);
  const components = checkInt('components', options.components, 1, Math.min(n, dim));
  const threads = resolveThreads(options.threads);
  const signal = checkSignal(options.signal);
  const onProgress = checkCallback<(p: Progress) => void>('onProgress', options.onProgress);
  const r = await runNativeJob((control) => native().pca({ data, n, dim, components, threads, control }), {
    signal,
    onProgress,
  });
  return { dim, components, ...r };
}

/** Coordinates of n vectors on a basis: (x − mean)·basisᵀ, n·components values, row-major. */
export async function projectOnBasis(
  data: Float32Array,
  basis: PcaBasis,
  options: JobOptions = {},
): Promise<Float32Array> {
  checkFloat32Array('data', data);
  const n = countOf(data, basis.dim);
  const threads = resolveThreads(options.threads);
  const signal = checkSignal(options.signal);
  return runNativeJob(
    (control) =>
      native().pcaProject({
        data,
        n,
        dim: basis.dim,
        basis: basis.basis,
        components: basis.components,
        mean: basis.mean,
        threads,
        control,
      }),
    { signal, onProgress: options.onProgress },
  );
}
