import { describe, expect, it } from 'vitest';
import { ackPass, characteristicDissimilarity } from '../../src/cluster/ack.js';
import { classSizes } from '../../src/cluster/objective.js';
import { cluster } from '../../src/index.js';
import { Rng } from '../../src/random.js';
import { gaussianMixture } from '../helpers/clustering.js';

/** A random n×k table and a random assignment. */
function setup(n: number, k: number, seed: number) {
  const rng = new Rng(seed);
  const table = new Float32Array(n * k).map(() => rng.uniform(0, 10));
  const assignment = new Int32Array(n).map(() => rng.int(k));
  return { table, assignment, sizes: classSizes(assignment, k), order: rng.permutation(n) };
}

/** J = Σ d(i,p_i) + λ·Σ s², evaluated from scratch. */
function objective(table: Float32Array, k: number, p: Int32Array, lambda: number): number {
  let j = 0;
  for (let i = 0; i < p.length; i++) j += table[i * k + p[i]];
  for (const s of classSizes(p, k)) j += lambda * s * s;
  return j;
}

/** The rule by brute force: each image takes the class that minimises the whole objective J. */
function referencePass(
  table: Float32Array,
  k: number,
  p: Int32Array,
  lambda2: number,
  order: Int32Array,
): Int32Array {
  const q = p.slice();
  for (const i of order) {
    const cur = q[i];
    let best = cur;
    let bestJ = Infinity;
    for (let h = 0; h < k; h++) {
      q[i] = h;
      const j = objective(table, k, q, lambda2 / 2);
      if (j < bestJ - 1e-9 || (h === cur && Math.abs(j - bestJ) <= 1e-9)) {
        bestJ = j;
        best = h;
      }
    }
    q[i] = best;
  }
  return q;
}

describe('ACK-means pass', () => {
  it('gives each image the class minimising the whole objective (brute force), sizes kept', async () => {
    for (const lambda2 of [0, 0.05, 0.5, 5]) {
      const { table, assignment, sizes, order } = setup(40, 5, 7);
      const want = referencePass(table, 5, assignment, lambda2, order);
      const moves = await ackPass(table, 5, assignment, sizes, lambda2, order);
      expect(Array.from(assignment)).toEqual(Array.from(want));
      expect(Array.from(sizes)).toEqual(Array.from(classSizes(assignment, 5)));
      expect(moves).toBeGreaterThan(0);
    }
  });

  it('never increases the objective within a pass (after every single image)', async () => {
    const { table, assignment, sizes, order } = setup(60, 4, 11);
    const lambda2 = 0.3;
    let previous = objective(table, 4, assignment, lambda2 / 2);
    for (let m = 1; m <= order.length; m++) {
      const p = assignment.slice();
      await ackPass(table, 4, p, sizes.slice(), lambda2, order.subarray(0, m));
      const j = objective(table, 4, p, lambda2 / 2);
      expect(j).toBeLessThanOrEqual(previous + 1e-9);
      previous = j;
    }
  });

  it('keeps the current class on a tie, else takes the lowest class', async () => {
    const table = new Float32Array([1, 1, 1, 2, 2, 2]); // 2 images × 3 classes, all equal per row
    const assignment = new Int32Array([2, 1]);
    const sizes = classSizes(assignment, 3);
    expect(await ackPass(table, 3, assignment, sizes, 0, new Int32Array([0, 1]))).toBe(0);
    expect(Array.from(assignment)).toEqual([2, 1]);
    // Image 0 costs 1 + 0.5·s': class 2 (s' = 1) loses to classes 0 and 1 (s' = 0): class 0 wins.
    const p = new Int32Array([2, 2]);
    expect(await ackPass(table, 3, p, new Int32Array([0, 0, 2]), 0.5, new Int32Array([0]))).toBe(1);
    expect(p[0]).toBe(0);
  });

  it('rejects an order or assignment index out of range', async () => {
    const table = new Float32Array(6);
    await expect(
      ackPass(table, 3, new Int32Array(2), new Int32Array([2, 0, 0]), 0, new Int32Array([2])),
    ).rejects.toThrow(/outside \[0, n\)/);
    await expect(
      ackPass(table, 3, new Int32Array([0, 5]), new Int32Array(3), 0, new Int32Array([1])),
    ).rejects.toThrow(/outside \[0, k\)/);
  });

  it('computes d_c as the mean max−min range of the sampled rows', () => {
    const { table } = setup(30, 6, 3);
    let all = 0;
    for (let i = 0; i < 30; i++) {
      const row = Array.from(table.subarray(i * 6, i * 6 + 6));
      all += Math.max(...row) - Math.min(...row);
    }
    expect(characteristicDissimilarity(table, 30, 6, new Rng(1), 30)).toBeCloseTo(all / 30, 9);
    const ten = characteristicDissimilarity(table, 30, 6, new Rng(1));
    expect(ten).toBeGreaterThan(0);
    expect(ten).toBeLessThanOrEqual(10);
  });
});

describe('ACK-means runs', () => {
  const { data } = gaussianMixture([50, 30, 20, 40], [0.5, 0.5, 0.5, 0.5], 6, 5, 4);

  it('with β = 0 reproduces K-means exactly from the same start', async () => {
    const ack = await cluster(data, { dim: 6, k: 4, method: 'ack', beta: 0, seed: 9, sigma0: 0 });
    const km = await cluster(data, { dim: 6, k: 4, method: 'kmeans', seed: 9, sigma0: 0 });
    expect(km.trace.every((r) => r.reseeded === 0)).toBe(true);
    expect(Array.from(ack.assignment)).toEqual(Array.from(km.assignment));
    expect(ack.references).toEqual(km.references);
    expect(ack.trace.map((r) => r.sigma)).toEqual(km.trace.map((r) => r.sigma));
    expect(ack.trace.map((r) => r.j1)).toEqual(km.trace.map((r) => r.j1));
  });

  it('with a very large β gives every class within one of ⌊n/k⌋', async () => {
    const n = data.length / 6;
    for (const k of [3, 4, 7]) {
      const r = await cluster(data, { dim: 6, k, beta: 1e6, seed: 2, sigma0: 0 });
      const floor = Math.floor(n / k);
      for (const s of r.sizes) expect(s === floor || s === floor + 1).toBe(true);
    }
  });

  it('records d_c, λ = β·d_c/(2⌊n/k⌋) and J2 = λ·Σs² per iteration', async () => {
    const n = data.length / 6;
    const r = await cluster(data, { dim: 6, k: 4, beta: 0.5, seed: 4, maxIter: 5, sigma0: 0 });
    for (const rec of r.trace.slice(1)) {
      expect(rec.dc).toBeGreaterThan(0);
      expect(rec.lambda).toBeCloseTo((0.5 * rec.dc) / (2 * Math.floor(n / 4)), 12);
      expect(rec.j2).toBeCloseTo(rec.lambda * rec.sizes.reduce((a, s) => a + s * s, 0), 9);
    }
  });
});
