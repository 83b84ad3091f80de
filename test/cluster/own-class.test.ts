import { describe, expect, it } from 'vitest';
import { ackPass } from '../../src/cluster/ack.js';
import { classSizes } from '../../src/cluster/objective.js';
import { correctOwnClass, leaveOneOutFactor, refillSmallClasses } from '../../src/cluster/own-class.js';
import { cluster } from '../../src/index.js';
import { Rng } from '../../src/random.js';
import { bruteTable, gaussianMixture } from '../helpers/clustering.js';

/** Class means of `x` (n×dim) under `p`, and the mean of each item's class without it (brute force). */
function leaveOneOutTable(x: Float32Array, dim: number, p: Int32Array, k: number) {
  const n = p.length;
  const means = new Float64Array(k * dim);
  const sizes = classSizes(p, k);
  for (let i = 0; i < n; i++)
    for (let t = 0; t < dim; t++) means[p[i] * dim + t] += x[i * dim + t] / sizes[p[i]];
  const table = bruteTable(x, means, dim);
  for (let i = 0; i < n; i++) {
    if (sizes[p[i]] < 2) {
      table[i * k + p[i]] = Infinity;
      continue;
    }
    const others = new Float64Array(dim);
    for (let m = 0; m < n; m++)
      if (m !== i && p[m] === p[i]) for (let t = 0; t < dim; t++) others[t] += x[m * dim + t];
    let d = 0;
    for (let t = 0; t < dim; t++) d += (x[i * dim + t] - others[t] / (sizes[p[i]] - 1)) ** 2;
    table[i * k + p[i]] = d;
  }
  return { means: new Float32Array(means), table, sizes };
}

describe('own-class (leave-one-out) correction', () => {
  it('makes each own entry the squared distance to the class mean without the item (brute force)', () => {
    const rng = new Rng(5);
    const n = 40;
    const k = 6;
    const dim = 7;
    const x = new Float32Array(n * dim).map(() => rng.normal());
    const p = new Int32Array(n).map((_, i) => (i < 2 ? 5 : rng.int(5))); // class 5: 2 members
    p[2] = 4; // class 4 has at least one member
    const { means, table: want, sizes } = leaveOneOutTable(x, dim, p, k);
    const table = new Float32Array(bruteTable(x, means, dim));
    correctOwnClass(table, n, k, p, sizes);
    for (let e = 0; e < n * k; e++) expect(table[e]).toBeCloseTo(want[e], 3);
    expect(leaveOneOutFactor(1)).toBe(Infinity);
    expect(leaveOneOutFactor(3)).toBeCloseTo(2.25, 12);
  });

  it('leaves single members alone when n < 2k (they are unavoidable)', () => {
    const table = new Float32Array([0, 5, 5, 0, 3, 4]); // 3 items × 2 classes
    const p = new Int32Array([0, 1, 1]);
    correctOwnClass(table, 3, 2, p, classSizes(p, 2));
    expect(Array.from(table)).toEqual([0, 5, 5, 0, 3, 16]);
  });

  it('keeps the ACK objective on the corrected table non-increasing through a pass (brute force)', async () => {
    const { data } = gaussianMixture([30, 20, 25], [1.5, 1.5, 1.5], 5, 3, 2);
    const n = 75;
    const k = 8;
    const rng = new Rng(8);
    const p = new Int32Array(n).map(() => rng.int(k));
    const { means, sizes } = leaveOneOutTable(data, 5, p, k);
    const table = new Float32Array(bruteTable(data, means, 5));
    correctOwnClass(table, n, k, p, sizes);
    const lambda2 = 0.4;
    const objective = (q: Int32Array) => {
      let j = 0;
      for (let i = 0; i < n; i++) j += table[i * k + q[i]];
      for (const s of classSizes(q, k)) j += (lambda2 / 2) * s * s;
      return j;
    };
    const order = rng.permutation(n);
    let previous = objective(p);
    for (let m = 1; m <= n; m++) {
      const q = p.slice();
      await ackPass(table, k, q, sizes.slice(), lambda2, order.subarray(0, m));
      const j = objective(q);
      expect(j).toBeLessThanOrEqual(previous + 1e-6 * Math.abs(previous));
      previous = j;
    }
  });

  it('gets out of the singleton trap: no class of ≤ 1 member, ACK-means or K-means (n ≥ 2k)', async () => {
    // 5 groups of 60 noisy points in 200 dimensions, 30 classes. Before the correction this
    // seeded run ended with 2 single-member classes for ACK-means and 2 for K-means: a seed that
    // nobody joined stayed its own class average at distance 0.
    const { data } = gaussianMixture([60, 60, 60, 60, 60], [3, 3, 3, 3, 3], 200, 1, 1);
    for (const method of ['ack', 'kmeans'] as const) {
      const r = await cluster(data, { dim: 200, k: 30, method, seed: 1, maxIter: 10 });
      expect(Math.min(...r.sizes)).toBeGreaterThanOrEqual(2);
      for (const rec of r.trace) expect(rec.sizes.filter((s) => s <= 1)).toEqual([]);
    }
  });

  it('refills from the largest class until every class has 2 members', () => {
    const table = new Float32Array(10 * 4);
    const p = new Int32Array([0, 0, 0, 0, 0, 0, 0, 1, 1, 3]); // class 2 empty, class 3 single
    const sizes = classSizes(p, 4);
    expect(refillSmallClasses(table, 10, 4, p, sizes)).toBe(2);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(2);
    expect(Array.from(sizes)).toEqual(Array.from(classSizes(p, 4)));
  });
});
