/**
 * The interface between the driver and an assignment rule (ack.ts, kmeans.ts, spider.ts,
 * eqk.ts), and the nearest-reference assignment they share.
 */
import type { Rng } from '../random.js';
import type { DissimilaritySource, References } from './source.js';

/** Everything a rule may read or change in one pass. */
export interface PassContext {
  /**
   * The n×k dissimilarity table to `references` (null when the rule said it needs none), with the
   * own-class correction applied when the rule asked for it.
   */
  readonly table: Float32Array | null;
  readonly n: number;
  readonly k: number;
  /** Class of each item, updated in place by the rule. */
  readonly assignment: Int32Array;
  /** Members per class, kept equal to the counts of `assignment` by the rule. */
  readonly sizes: Int32Array;
  /** The references of this pass (class averages of the previous assignment). */
  readonly references: References;
  readonly source: DissimilaritySource;
  /** ACK-means constraint weight. */
  readonly beta: number;
  /** This pass's random generator (derived from the seed and the iteration number). */
  readonly rng: Rng;
  /** Cancels native work of the pass. */
  readonly signal?: AbortSignal;
}

/** What a pass reports back for the trace. */
export interface PassOutcome {
  /** Individual moves made (an item may move more than once in an exchange pass). */
  moves: number;
  /** Characteristic dissimilarity (ACK-means), else 0. */
  dc?: number;
  /** λ of the objective J1 + λ·Σ s² (ACK-means), else 0. */
  lambda?: number;
  /** J1 when the rule computed it itself (no table), else the driver sums it from the table. */
  j1?: number;
  /** Empty classes after the assignment, before reseeding (the driver counts them otherwise). */
  empty?: number;
  /** Classes refilled because they had too few members (ACK-means, K-means). */
  reseeded?: number;
}

/** One clustering method's assignment rule. */
export interface AssignmentRule {
  /** When the run has converged: σ ≤ σ0 (`'sigma'`) or a pass without a move (`'no-move'`). */
  readonly stop: 'sigma' | 'no-move';
  /**
   * Whether the driver measures each image against its own class's average without it
   * (`correctOwnClass` in own-class.ts) before the pass. SPIDER does not: its rule has Späth's own factors.
   */
  readonly leaveOneOut: boolean;
  /** Whether `pass` needs the dissimilarity table of this source (SPIDER on vectors does not). */
  needsTable(source: DissimilaritySource): boolean;
  /** The initial assignment from the table to the initial references (`assignment` is all −1). */
  initial(ctx: PassContext & { table: Float32Array }): PassOutcome;
  /** One pass: reassign items given the table to this pass's references. */
  pass(ctx: PassContext): PassOutcome | Promise<PassOutcome>;
}

/**
 * Assigns every item to its nearest reference, p_i = argmin_j d(i,j); ties keep the current class
 * (or, for an unassigned item, −1, take the lowest index). Updates `sizes`; returns the moves.
 */
export function assignNearest(
  table: Float32Array,
  n: number,
  k: number,
  assignment: Int32Array,
  sizes: Int32Array,
): number {
  let moves = 0;
  for (let i = 0; i < n; i++) {
    const row = i * k;
    const cur = assignment[i];
    let best = cur >= 0 ? cur : 0;
    let bestD = table[row + best];
    for (let h = 0; h < k; h++) {
      const d = table[row + h];
      if (d < bestD) {
        bestD = d;
        best = h;
      }
    }
    if (best !== cur) {
      if (cur >= 0) sizes[cur]--;
      sizes[best]++;
      assignment[i] = best;
      moves++;
    }
  }
  return moves;
}
