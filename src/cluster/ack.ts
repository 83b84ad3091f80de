/**
 * ACK-means, adaptively constrained K-means (Xu et al., PLoS ONE 2016; SPEC §1).
 *
 *   d_c from 10 random images;  λ2 = β·d_c/⌊n/k⌋
 *   for each image i, in a fresh random order:
 *       s[p_i] -= 1;  p_i = argmin_h d(i,h) + λ2·s[h];  s[p_i] += 1     (ties keep the class)
 *
 * With the table fixed every move lowers J = Σ d(i,p_i) + λ·Σ s², λ = λ2/2. The pass itself is
 * native (native/core/ack_pass.cpp); d_c, λ and the random order are drawn here.
 */
import { runNativeJob } from '../job.js';
import { native } from '../native.js';
import type { Rng } from '../random.js';
import { countEmpty } from './objective.js';
import { refillSmallClasses } from './own-class.js';
import { assignNearest, type AssignmentRule } from './rule.js';

/** Images drawn for the characteristic dissimilarity. */
export const DC_SAMPLES = 10;

/**
 * Characteristic dissimilarity: for `samples` distinct random images m, t_m = max_j d(m,j) −
 * min_j d(m,j) over its finite entries (+∞ marks a single member's own class, see
 * own-class.ts); returns the mean of the t_m (fewer images when n < samples).
 */
export function characteristicDissimilarity(
  table: Float32Array,
  n: number,
  k: number,
  rng: Rng,
  samples = DC_SAMPLES,
): number {
  const picks = rng.sample(n, Math.min(samples, n));
  let sum = 0;
  let rows = 0;
  for (const m of picks) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let j = m * k; j < (m + 1) * k; j++) {
      const d = table[j];
      if (d === Infinity) continue; // a single member's own class (no average without it)
      if (d < lo) lo = d;
      if (d > hi) hi = d;
    }
    if (hi < lo) continue;
    sum += hi - lo;
    rows++;
  }
  return rows > 0 ? sum / rows : 0;
}

/**
 * One ACK-means pass over the images in `order`: each leaves its class, then joins
 * argmin_h d(i,h) + λ2·s[h] (ties keep its class; otherwise the lowest such class), with the
 * sizes updated image by image. `assignment` and `sizes` change in place. Returns the number
 * of moves. O(n·k), native (native/core/ack_pass.cpp): single-threaded, because every move
 * changes the sizes the next image sees; rows are prefetched ahead of the random order.
 */
export function ackPass(
  table: Float32Array,
  k: number,
  assignment: Int32Array,
  sizes: Int32Array,
  lambda2: number,
  order: Int32Array,
  signal?: AbortSignal,
): Promise<number> {
  const n = assignment.length;
  if (table.length !== n * k) throw new RangeError(`table.length (${table.length}) must be n·k (${n}·${k})`);
  if (sizes.length !== k) throw new RangeError(`sizes.length (${sizes.length}) must be k (${k})`);
  if (!Number.isFinite(lambda2) || lambda2 < 0)
    throw new RangeError(`lambda2 must be finite and >= 0, got ${lambda2}`);
  return runNativeJob(
    (control) => native().ackPass({ table, n, k, assignment, sizes, lambda2, order, control }),
    {
      signal,
    },
  );
}

/**
 * The ACK-means rule: nearest-reference start, then constrained passes on the leave-one-out
 * table (own-class.ts). A class left with fewer than 2 members (1 when n < 2k) after the start or
 * a pass takes half of the largest class (reported as `reseeded`).
 */
export const ackRule: AssignmentRule = {
  stop: 'sigma',
  leaveOneOut: true,
  needsTable: () => true,
  initial: ({ table, n, k, assignment, sizes }) => {
    const moves = assignNearest(table, n, k, assignment, sizes);
    const empty = countEmpty(sizes);
    const reseeded = refillSmallClasses(table, n, k, assignment, sizes);
    return { moves, empty, reseeded };
  },
  async pass({ table, n, k, assignment, sizes, beta, rng, signal }) {
    if (!table) throw new Error('ACK-means needs the dissimilarity table');
    const dc = characteristicDissimilarity(table, n, k, rng.fork());
    const lambda2 = (beta * dc) / Math.floor(n / k);
    const order = rng.fork().permutation(n);
    const before = assignment.slice();
    await ackPass(table, k, assignment, sizes, lambda2, order, signal);
    const empty = countEmpty(sizes);
    const reseeded = refillSmallClasses(table, n, k, assignment, sizes);
    let moves = 0;
    for (let i = 0; i < n; i++) if (assignment[i] !== before[i]) moves++;
    return { moves, dc, lambda: lambda2 / 2, empty, reseeded };
  },
};
