/**
 * The public types of the clustering core: methods, options, the per-iteration trace, the
 * resumable loop state and the result.
 */
import type { References } from './source.js';

/** The clustering methods, by the names used everywhere (API, CLI, server). */
export const METHODS = ['ack', 'kmeans', 'spider', 'eqk'] as const;

/**
 * A clustering method: `'ack'` ACK-means (adaptively constrained K-means), `'kmeans'` plain
 * K-means (Lloyd), `'spider'` SPIDER's modified K-means (Späth's exchange rule), `'eqk'`
 * equal-size K-means.
 */
export type Method = (typeof METHODS)[number];

/** What happened in one iteration (iteration 0 is the initial assignment). */
export interface IterationRecord {
  /** 0 for the initial assignment, then 1, 2, … for each pass. */
  iteration: number;
  /** Fraction of items whose class changed in this iteration (1 for the initial assignment). */
  sigma: number;
  /** Items that changed class (σ·n). */
  changed: number;
  /**
   * Data term J1 = Σ_i d(i, p_i), to the references the pass used, each image measured against its
   * own class's average without it where the method does so (SPIDER on vectors: the final SSE).
   */
  j1: number;
  /** Size term J2 = λ·Σ_j s_j² (0 for methods without a size term). */
  j2: number;
  /** Characteristic dissimilarity d_c of the pass (ACK-means; 0 otherwise). */
  dc: number;
  /** λ = β·d_c / (2⌊n/k⌋) (ACK-means; 0 otherwise). The pass penalty per member is 2λ. */
  lambda: number;
  /** Class sizes after the iteration. */
  sizes: number[];
  /** Classes without members after the assignment (before any refill). */
  empty: number;
  /**
   * Classes left with fewer than 2 members (1 when n < 2k) that took half of the largest class in
   * this iteration (ACK-means and K-means; see own-class.ts).
   */
  reseeded: number;
  /** Wall time of the iteration in seconds (table, assignment and references). */
  seconds: number;
  /** True on the last record when the run stopped at `maxIter` without converging. */
  capReached: boolean;
}

/**
 * The complete loop state after an iteration: enough to resume a run and end with exactly the
 * result of an uninterrupted one (each iteration's random generator is derived from `seed` and
 * the iteration number, so no generator state needs saving). Typed arrays are copies.
 */
export interface ClusteringState {
  /** Format version of this object. */
  version: 1;
  method: Method;
  n: number;
  k: number;
  beta: number;
  sigma0: number;
  seed: number;
  /** The last iteration finished (0 = the initial assignment). */
  iteration: number;
  /** Class of each item after that iteration, 0-based. */
  assignment: Int32Array;
  /** The references made from that assignment (k·dim values). */
  references: References;
  /** Records of all iterations so far. */
  trace: IterationRecord[];
  /** True once the stopping rule has been met (a resumed run then returns at once). */
  converged: boolean;
}

/** The outcome of a clustering run. */
export interface ClusteringResult {
  /** Class of each item, 0-based. */
  assignment: Int32Array;
  /** Final references (class averages), k·dim values, row-major. */
  references: References;
  /** Members per class. */
  sizes: Int32Array;
  /** One record per iteration, iteration 0 (the initial assignment) first. */
  trace: IterationRecord[];
  /** False when the run stopped at `maxIter` (the last trace record then has `capReached`). */
  converged: boolean;
  /** The final loop state (for checkpoints). */
  state: ClusteringState;
}

/** Options of the clustering driver, shared by {@link cluster} and {@link runClustering}. */
export interface ClusteringOptions {
  /** Number of classes, 1 ≤ k ≤ n. */
  k: number;
  /** The method (default `'ack'`). */
  method?: Method;
  /** ACK-means constraint weight β ≥ 0 (default 0.5; 0 is plain K-means). */
  beta?: number;
  /** Stop when the fraction of changed items σ ≤ σ0, σ0 in [0, 1] (default 0.01). SPIDER ignores it: it stops after a pass without a move. */
  sigma0?: number;
  /** Iteration cap after the initial assignment, ≥ 1 (default 50). */
  maxIter?: number;
  /** Seed of every random choice (any safe integer, default 0). */
  seed?: number;
  /** Worker threads for native work (default: all cores). Results do not depend on it. */
  threads?: number;
  /** Cancels the run; it then rejects with an `AbortError`. */
  signal?: AbortSignal;
  /** Called after every iteration, awaited (write a checkpoint of `state` here). */
  onIteration?: (record: IterationRecord, state: ClusteringState) => void | Promise<void>;
}

/** Defaults of {@link ClusteringOptions}. */
export const DEFAULTS = { method: 'ack', beta: 0.5, sigma0: 0.01, maxIter: 50, seed: 0 } as const;
