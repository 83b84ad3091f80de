/**
 * The dissimilarity source for plain vectors (images already aligned, or factor coordinates):
 * squared Euclidean distances on the native distance table, references are class means.
 */
import { distanceTable } from '../distances.js';
import type { JobOptions } from '../job.js';
import type { DissimilaritySource, References } from './source.js';

/** n vectors of `dim` values; d(i,j) = ‖x_i − μ_j‖². */
export class VectorSource implements DissimilaritySource {
  readonly n: number;
  readonly dim: number;
  readonly vectors: Float32Array;

  /** @param vectors n·dim values, row-major (not copied: do not change them during a run). */
  constructor(vectors: Float32Array, dim: number) {
    if (!(vectors instanceof Float32Array)) throw new TypeError('vectors must be a Float32Array');
    if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`dim must be an integer >= 1, got ${dim}`);
    if (vectors.length === 0 || vectors.length % dim !== 0)
      throw new RangeError(`vectors.length (${vectors.length}) must be a positive multiple of dim (${dim})`);
    this.vectors = vectors;
    this.dim = dim;
    this.n = vectors.length / dim;
  }

  /** Copies of the given items' vectors. */
  async initialReferences(items: Int32Array): Promise<References> {
    const { dim } = this;
    const refs = new Float32Array(items.length * dim);
    items.forEach((item, j) => refs.set(this.vectors.subarray(item * dim, (item + 1) * dim), j * dim));
    return refs;
  }

  /** The n×k squared Euclidean distance table (native sgemm). */
  table(references: References, options: JobOptions): Promise<Float32Array> {
    return distanceTable(this.vectors, references, {
      dim: this.dim,
      threads: options.threads,
      signal: options.signal,
    });
  }

  /** Class means (summed in double precision); an empty class keeps its previous reference. */
  async average(assignment: Int32Array, k: number, previous: References): Promise<References> {
    const { dim, vectors } = this;
    const sums = new Float64Array(k * dim);
    const counts = new Float64Array(k);
    for (let i = 0; i < assignment.length; i++) {
      const j = assignment[i];
      counts[j]++;
      const src = i * dim;
      const dst = j * dim;
      for (let t = 0; t < dim; t++) sums[dst + t] += vectors[src + t];
    }
    const out = new Float32Array(k * dim);
    for (let j = 0; j < k; j++) {
      if (counts[j] === 0) out.set(previous.subarray(j * dim, (j + 1) * dim), j * dim);
      else for (let t = 0; t < dim; t++) out[j * dim + t] = sums[j * dim + t] / counts[j];
    }
    return out;
  }
}
