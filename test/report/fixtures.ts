/** Test data for the report writers: class averages of simple shapes and two evaluations. */
import { evaluateClasses, type Evaluation } from '../../src/eval/metrics.js';
import { Rng } from '../../src/random.js';
import { randomClasses, simulateViews } from '../eval/views.js';

/** k noisy discs of growing radius on a box×box grid. */
export function discAverages(k: number, box: number, seed = 1): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(k * box * box);
  for (let j = 0; j < k; j++) {
    const r = box * (0.12 + (0.3 * j) / Math.max(1, k - 1));
    const cx = box / 2 + (j % 3) - 1;
    for (let y = 0; y < box; y++)
      for (let x = 0; x < box; x++)
        out[j * box * box + y * box + x] =
          (Math.hypot(x - cx, y - box / 2) < r ? 1 : 0) + 0.15 * rng.normal();
  }
  return out;
}

/** Two evaluations of the same simulated views: a perfect and a random classification. */
export function twoEvaluations(): { perfect: Evaluation; random: Evaluation } {
  const v = simulateViews(40, 25, 5, 3);
  return {
    perfect: evaluateClasses({ ...v, classes: v.viewIds, k: 40, viewIds: v.viewIds }),
    random: evaluateClasses({ ...v, classes: randomClasses(1000, 40, 4), k: 40, viewIds: v.viewIds }),
  };
}
