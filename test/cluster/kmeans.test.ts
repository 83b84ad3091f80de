import { describe, expect, it } from 'vitest';
import { classSizes } from '../../src/cluster/objective.js';
import { refillSmallClasses } from '../../src/cluster/own-class.js';
import { assignNearest } from '../../src/cluster/rule.js';
import { cluster } from '../../src/index.js';
import { Rng } from '../../src/random.js';
import { bruteTable, gaussianMixture } from '../helpers/clustering.js';

describe('K-means', () => {
  it('assigns every item to its nearest reference (brute force), ties to the lowest class at the start', () => {
    const rng = new Rng(3);
    const table = new Float32Array(50 * 6).map(() => rng.int(4)); // many ties
    const assignment = new Int32Array(50).fill(-1);
    const sizes = new Int32Array(6);
    expect(assignNearest(table, 50, 6, assignment, sizes)).toBe(50);
    for (let i = 0; i < 50; i++) {
      const row = Array.from(table.subarray(i * 6, i * 6 + 6));
      expect(assignment[i]).toBe(row.indexOf(Math.min(...row)));
    }
    expect(Array.from(sizes)).toEqual(Array.from(classSizes(assignment, 6)));
  });

  it('refills a class of 0 or 1 member with the members of the largest class most drawn to it', () => {
    // 7 items, 3 classes (n < 2k: only empty classes count); class 2 is empty; class 0 (4
    // members) gives 2, those with the smallest d(i,2) − d(i,0): items 3 (−6) and 5 (−1).
    const table = new Float32Array([1, 9, 9, 2, 9, 9, 9, 1, 9, 7, 9, 1, 9, 3, 9, 4, 9, 3, 9, 1, 9]);
    const assignment = new Int32Array([0, 0, 1, 0, 1, 0, 1]);
    const sizes = classSizes(assignment, 3);
    expect(refillSmallClasses(table, 7, 3, assignment, sizes)).toBe(1);
    expect(Array.from(assignment)).toEqual([0, 0, 1, 2, 1, 2, 1]);
    expect(Array.from(sizes)).toEqual([2, 3, 2]);
    // n ≥ 2k: a single member is refilled too, up to at least 2.
    const p = new Int32Array([0, 0, 0, 0, 0, 1]);
    const s = classSizes(p, 2);
    expect(refillSmallClasses(new Float32Array(12), 6, 2, p, s)).toBe(1);
    expect(Array.from(s)).toEqual([3, 3]);
    expect(Array.from(p)).toEqual([1, 1, 0, 0, 0, 1]);
  });

  it('reports and repairs empty classes (duplicated items make ties at the start)', async () => {
    // 12 copies of one point and 12 of another: 3 references drawn from 2 distinct vectors
    // always leave one class empty at the start.
    const data = new Float32Array(24 * 2);
    for (let i = 12; i < 24; i++) data.set([5, 5], i * 2);
    const r = await cluster(data, { dim: 2, k: 3, method: 'kmeans', seed: 1 });
    expect(r.trace[0].empty).toBe(1);
    expect(r.trace[0].reseeded).toBe(1);
    expect(Math.min(...r.sizes)).toBeGreaterThan(0);
    expect(r.trace.at(-1)!.empty).toBe(0);
  });

  it('ends at a fixed point: every item is nearest to its own class average', async () => {
    const { data } = gaussianMixture([40, 40, 40], [1, 1, 1], 3, 8, 2);
    const r = await cluster(data, { dim: 3, k: 5, method: 'kmeans', seed: 3, sigma0: 0 });
    expect(r.converged).toBe(true);
    const d = bruteTable(data, r.references, 3);
    for (let i = 0; i < 120; i++) {
      const row = Array.from(d.subarray(i * 5, i * 5 + 5));
      expect(row[r.assignment[i]]).toBeLessThanOrEqual(Math.min(...row) * (1 + 1e-5) + 1e-5);
    }
  });
});
