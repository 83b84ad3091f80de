/**
 * K-means (Lloyd): every item to its nearest reference (ties keep the class).
 *
 * Empty classes: after the assignment, each empty class is reseeded with the item farthest
 * from its own reference among classes that keep at least one other member (ties: lowest
 * index). The reseeded class's reference becomes that item at the next average. The trace
 * reports the empty classes (`empty`) and the reseeds (`reseeded`) of every iteration.
 */
import { countEmpty } from './objective.js';
import { assignNearest, type AssignmentRule, type PassContext, type PassOutcome } from './rule.js';

/**
 * Moves the farthest items (from their own reference) into the empty classes; updates
 * `assignment` and `sizes`; returns the number of classes reseeded.
 */
export function reseedEmpty(
  table: Float32Array,
  n: number,
  k: number,
  assignment: Int32Array,
  sizes: Int32Array,
): number {
  let reseeded = 0;
  for (let j = 0; j < k; j++) {
    if (sizes[j] > 0) continue;
    let far = -1;
    let farD = -Infinity;
    for (let i = 0; i < n; i++) {
      const c = assignment[i];
      if (sizes[c] < 2) continue;
      const d = table[i * k + c];
      if (d > farD) {
        farD = d;
        far = i;
      }
    }
    if (far < 0) break; // every class has one member: nothing to give (only when k = n)
    sizes[assignment[far]]--;
    assignment[far] = j;
    sizes[j] = 1;
    reseeded++;
  }
  return reseeded;
}

function nearestThenReseed(ctx: PassContext): PassOutcome {
  const { table, n, k, assignment, sizes } = ctx;
  if (!table) throw new Error('K-means needs the dissimilarity table');
  const moves = assignNearest(table, n, k, assignment, sizes);
  const empty = countEmpty(sizes);
  const reseeded = empty > 0 ? reseedEmpty(table, n, k, assignment, sizes) : 0;
  return { moves: moves + reseeded, empty, reseeded };
}

/** The K-means rule. */
export const kmeansRule: AssignmentRule = {
  stop: 'sigma',
  needsTable: () => true,
  initial: nearestThenReseed,
  pass: nearestThenReseed,
};
