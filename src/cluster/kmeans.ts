/**
 * K-means (Lloyd): every item to its nearest reference (ties keep the class), measured against
 * the leave-one-out table (own-class.ts: an item's own class is its average without it).
 *
 * Small classes: after the assignment, each class with fewer than 2 members (1 when n < 2k) takes
 * half of the largest class ({@link refillSmallClasses}), the same refill as ACK-means, so that
 * β = 0 ACK-means and K-means stay the same algorithm. The trace reports the empty classes
 * (`empty`, before the refill) and the classes refilled (`reseeded`) of every iteration.
 */
import { countEmpty } from './objective.js';
import { refillSmallClasses } from './own-class.js';
import { assignNearest, type AssignmentRule, type PassContext, type PassOutcome } from './rule.js';

function nearestThenRefill(ctx: PassContext): PassOutcome {
  const { table, n, k, assignment, sizes } = ctx;
  if (!table) throw new Error('K-means needs the dissimilarity table');
  const before = assignment.slice();
  assignNearest(table, n, k, assignment, sizes);
  const empty = countEmpty(sizes);
  const reseeded = refillSmallClasses(table, n, k, assignment, sizes);
  let moves = 0;
  for (let i = 0; i < n; i++) if (assignment[i] !== before[i]) moves++;
  return { moves, empty, reseeded };
}

/** The K-means rule. */
export const kmeansRule: AssignmentRule = {
  stop: 'sigma',
  leaveOneOut: true,
  needsTable: () => true,
  initial: nearestThenRefill,
  pass: nearestThenRefill,
};
