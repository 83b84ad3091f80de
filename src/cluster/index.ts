/**
 * The clustering core: one driver, four assignment rules, the plain-vector source.
 */
export { cluster, type ClusterOptions } from './cluster.js';
export { runClustering, type RunClusteringOptions } from './driver.js';
export { VectorSource } from './vector-source.js';
export type { DissimilaritySource, References } from './source.js';
export {
  METHODS,
  DEFAULTS as CLUSTERING_DEFAULTS,
  type Method,
  type ClusteringOptions,
  type ClusteringResult,
  type ClusteringState,
  type IterationRecord,
} from './types.js';
