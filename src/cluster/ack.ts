/**
 * ACK-means, adaptively constrained K-means (Xu et al., PLoS ONE 2016; SPEC §1).
 *
 *   d_c from 10 random images;  λ2 = β·d_c/⌊n/k⌋
 *   for each image i, in a fresh random order:
 *       s[p_i] -= 1;  p_i = argmin_h d(i,h) + λ2·s[h];  s[p_i] += 1     (ties keep the class)
 *
 * With the table fixed every move lowers J = Σ d(i,p_i) + λ·Σ s², λ = λ2/2.
 */
import type { Rng } from '../random.js';
import { assignNearest, type AssignmentRule } from './rule.js';

/** Images drawn for the characteristic dissimilarity. */
export const DC_SAMPLES = 10;

/**
 * Characteristic dissimilarity: for `samples` distinct random images m, t_m = max_j d(m,j) −
 * min_j d(m,j); returns the mean of the t_m (fewer images when n < samples).
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
  for (const m of picks) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let j = m * k; j < (m + 1) * k; j++) {
      const d = table[j];
      if (d < lo) lo = d;
      if (d > hi) hi = d;
    }
    sum += hi - lo;
  }
  return sum / picks.length;
}

/**
 * One ACK-means pass over the images in `order`: each leaves its class, then joins
 * argmin_h d(i,h) + λ2·s[h] (ties keep its class). `assignment` and `sizes` change in place
 * (`penalty` is scratch of k doubles). Returns the number of moves. O(n·k), no allocation.
 */
export function ackPass(
  table: Float32Array,
  k: number,
  assignment: Int32Array,
  sizes: Int32Array,
  lambda2: number,
  order: Int32Array,
  penalty: Float64Array = new Float64Array(k),
): number {
  for (let h = 0; h < k; h++) penalty[h] = lambda2 * sizes[h];
  let moves = 0;
  for (let o = 0; o < order.length; o++) {
    const i = order[o];
    const row = i * k;
    const cur = assignment[i];
    penalty[cur] = lambda2 * --sizes[cur];
    let best = cur;
    let bestCost = table[row + cur] + penalty[cur];
    for (let h = 0; h < k; h++) {
      const c = table[row + h] + penalty[h];
      if (c < bestCost) {
        bestCost = c;
        best = h;
      }
    }
    penalty[best] = lambda2 * ++sizes[best];
    if (best !== cur) {
      assignment[i] = best;
      moves++;
    }
  }
  return moves;
}

/** The ACK-means rule: nearest-reference start, then constrained passes. */
export const ackRule: AssignmentRule = {
  stop: 'sigma',
  needsTable: () => true,
  initial: ({ table, n, k, assignment, sizes }) => ({ moves: assignNearest(table, n, k, assignment, sizes) }),
  pass({ table, n, k, assignment, sizes, beta, rng }) {
    if (!table) throw new Error('ACK-means needs the dissimilarity table');
    const dc = characteristicDissimilarity(table, n, k, rng.fork());
    const lambda2 = (beta * dc) / Math.floor(n / k);
    const order = rng.fork().permutation(n);
    const moves = ackPass(table, k, assignment, sizes, lambda2, order);
    return { moves, dc, lambda: lambda2 / 2 };
  },
};
