/**
 * SPIDER's modified K-means ('CL KM', Späth's exchange rule; SPEC §2). Images are visited in
 * turn; image i in class r with u = s_r > 1 members moves to
 *
 *   j = argmin_{j≠r} s_j/(s_j+1)·d(i,j)   when   s_j/(s_j+1)·d(i,j) < u/(u−1)·d(i,r),
 *
 * i.e. when the move lowers the within-class sum of squares, and both centroids are updated at
 * once. A single-member class never gives its member away. The run stops after a pass without
 * a move.
 *
 * Sources without plain vectors (multi-reference alignment) use the MRA approximation
 * {@link spiderTablePass}: the same factors on the table to the pass's references, sizes updated
 * immediately, references recomputed only at the end of the pass (by the driver).
 */
import { assignNearest, type AssignmentRule } from './rule.js';

/** Squared distances from item i of `x` (dim values) to the k centroids, into `out`. */
function distancesTo(
  x: Float32Array,
  i: number,
  dim: number,
  centroids: Float64Array,
  out: Float64Array,
): void {
  const base = i * dim;
  for (let j = 0; j < out.length; j++) {
    const c = j * dim;
    let s = 0;
    for (let t = 0; t < dim; t++) {
      const e = x[base + t] - centroids[c + t];
      s += e * e;
    }
    out[j] = s;
  }
}

/**
 * The exchange target of an item in class r (with u = s_r > 1 members) given its distances
 * d[j] to all centroids: the class j minimising s_j/(s_j+1)·d[j] if that is below u/(u−1)·d[r]
 * (ties: lowest index), else −1.
 */
export function exchangeTarget(d: ArrayLike<number>, r: number, sizes: Int32Array): number {
  const u = sizes[r];
  if (u <= 1) return -1;
  const a = (u / (u - 1)) * d[r];
  let best = -1;
  let b = Infinity;
  for (let j = 0; j < sizes.length; j++) {
    if (j === r) continue;
    const v = (sizes[j] / (sizes[j] + 1)) * d[j];
    if (v < b) {
      b = v;
      best = j;
    }
  }
  return b < a ? best : -1;
}

/**
 * One exchange pass over the n items of `x` (n·dim, row-major) in index order, moving items and
 * updating `centroids` (k·dim doubles, the class means) at once. `assignment` and `sizes`
 * change in place. Returns the moves and the final within-class sum of squares.
 */
export function spiderPass(
  x: Float32Array,
  dim: number,
  assignment: Int32Array,
  sizes: Int32Array,
  centroids: Float64Array,
): { moves: number; sse: number } {
  const n = assignment.length;
  const d = new Float64Array(sizes.length);
  let moves = 0;
  for (let i = 0; i < n; i++) {
    const r = assignment[i];
    if (sizes[r] <= 1) continue;
    distancesTo(x, i, dim, centroids, d);
    const j = exchangeTarget(d, r, sizes);
    if (j < 0) continue;
    const u = sizes[r];
    const s = sizes[j];
    const base = i * dim;
    for (let t = 0; t < dim; t++) {
      const v = x[base + t];
      centroids[r * dim + t] = (u * centroids[r * dim + t] - v) / (u - 1);
      centroids[j * dim + t] = (s * centroids[j * dim + t] + v) / (s + 1);
    }
    sizes[r] = u - 1;
    sizes[j] = s + 1;
    assignment[i] = j;
    moves++;
  }
  let sse = 0;
  for (let i = 0; i < n; i++) {
    const c = assignment[i] * dim;
    for (let t = 0; t < dim; t++) sse += (x[i * dim + t] - centroids[c + t]) ** 2;
  }
  return { moves, sse };
}

/**
 * The MRA approximation of the exchange pass: the same rule on the n×k table (distances to the
 * pass's fixed references), sizes updated after every move. Returns the moves.
 */
export function spiderTablePass(
  table: Float32Array,
  k: number,
  assignment: Int32Array,
  sizes: Int32Array,
): number {
  let moves = 0;
  for (let i = 0; i < assignment.length; i++) {
    const j = exchangeTarget(table.subarray(i * k, (i + 1) * k), assignment[i], sizes);
    if (j < 0) continue;
    sizes[assignment[i]]--;
    sizes[j]++;
    assignment[i] = j;
    moves++;
  }
  return moves;
}

/** The SPIDER rule: nearest-reference start, then exchange passes until one makes no move. */
export const spiderRule: AssignmentRule = {
  stop: 'no-move',
  leaveOneOut: false,
  needsTable: (source) => source.vectors === undefined,
  initial: ({ table, n, k, assignment, sizes }) => ({ moves: assignNearest(table, n, k, assignment, sizes) }),
  pass({ table, k, assignment, sizes, references, source }) {
    if (source.vectors) {
      const { moves, sse } = spiderPass(
        source.vectors,
        source.dim,
        assignment,
        sizes,
        Float64Array.from(references),
      );
      return { moves, j1: sse };
    }
    if (!table) throw new Error('SPIDER on a source without vectors needs the dissimilarity table');
    return { moves: spiderTablePass(table, k, assignment, sizes) };
  },
};
