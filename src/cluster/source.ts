/**
 * The boundary between the clustering driver and the data.
 *
 * A dissimilarity source owns "how far is image i from reference j, and with which alignment"
 * and "how are references made from members"; the driver (src/cluster/driver.ts) owns
 * initialisation, the assignment rules, convergence and the trace. Plain vectors (aligned
 * images, factor coordinates) and multi-reference alignment both implement this interface.
 */
import type { JobOptions } from '../job.js';

/** k references of `dim` values each, row-major (k·dim values). */
export type References = Float32Array;

export interface DissimilaritySource {
  /** Number of items (images) being classified. */
  readonly n: number;
  /** Values per reference (box² for images, the number of factors for factor coordinates). */
  readonly dim: number;
  /**
   * Plain vectors (n·dim, row-major) when the items live in one fixed space (aligned images,
   * factor coordinates). Rules that update centroids image by image (SPIDER's exchange rule)
   * use them; sources without them (alignment) do not offer this.
   */
  readonly vectors?: Float32Array;
  /** The references made from the given items alone (the initial references: k distinct items). */
  initialReferences(items: Int32Array): Promise<References>;
  /**
   * The n×k dissimilarity table (row-major) to the given references. A source with alignment
   * also records, for every (i, j), the parameters it found, for the next `average`.
   */
  table(references: References, options: JobOptions): Promise<Float32Array>;
  /**
   * New references: for each class, the average of its members (aligned with each member's
   * parameters for that class, from the last `table`). A class without members keeps its
   * entry from `previous`.
   */
  average(assignment: Int32Array, k: number, previous: References, options: JobOptions): Promise<References>;
}
