import { describe, expect, it } from 'vitest';
import { eqkAssign, sortPairs } from '../../src/cluster/eqk.js';
import { cluster } from '../../src/index.js';
import { Rng } from '../../src/random.js';
import { gaussianMixture } from '../helpers/clustering.js';

/** The greedy equal-size assignment written plainly. */
function referenceEqk(table: Float32Array, n: number, k: number): Int32Array {
  const pairs = Array.from({ length: n * k }, (_, p) => p).sort((a, b) => table[a] - table[b] || a - b);
  const cap = Math.floor(n / k);
  const p = new Int32Array(n).fill(-1);
  const sizes = new Array<number>(k).fill(0);
  const full = new Set<number>();
  for (const pair of pairs) {
    const i = Math.floor(pair / k);
    const j = pair % k;
    if (p[i] >= 0 || full.has(j)) continue;
    p[i] = j;
    sizes[j]++;
    if (sizes[j] === (full.size === k - 1 ? n - cap * (k - 1) : cap)) full.add(j);
  }
  return p;
}

describe('EQK-means', () => {
  it('sorts pairs by value, ties by index, negative values included', () => {
    const rng = new Rng(5);
    const table = new Float32Array(3000).map(() => rng.int(50) - 25 + (rng.next() < 0.5 ? 0 : 0.25));
    const want = Array.from({ length: 3000 }, (_, p) => p).sort((a, b) => table[a] - table[b] || a - b);
    expect(Array.from(sortPairs(table))).toEqual(want);
  });

  it('matches the plain greedy assignment', () => {
    const rng = new Rng(6);
    const n = 53;
    const k = 6;
    const table = new Float32Array(n * k).map(() => rng.uniform(0, 3));
    const assignment = new Int32Array(n);
    const sizes = new Int32Array(k);
    eqkAssign(table, n, k, assignment, sizes);
    expect(Array.from(assignment)).toEqual(Array.from(referenceEqk(table, n, k)));
  });

  it('gives sizes of exactly ⌊n/k⌋ with the remainder on one class', async () => {
    const { data } = gaussianMixture([70, 20, 13], [0.5, 0.5, 0.5], 4, 2, 3);
    for (const k of [1, 7, 10]) {
      const r = await cluster(data, { dim: 4, k, method: 'eqk', seed: 1 });
      const floor = Math.floor(103 / k);
      const sorted = Array.from(r.sizes).sort((a, b) => a - b);
      expect(sorted.slice(0, k - 1).every((s) => s === floor)).toBe(true);
      expect(sorted[k - 1]).toBe(floor + (103 % k));
      for (const rec of r.trace) expect(rec.sizes.filter((s) => s !== floor).length).toBeLessThanOrEqual(1);
    }
  });
});
