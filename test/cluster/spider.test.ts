import { describe, expect, it } from 'vitest';
import { classSizes } from '../../src/cluster/objective.js';
import { spiderPass } from '../../src/cluster/spider.js';
import { VectorSource, cluster, runClustering } from '../../src/index.js';
import { Rng } from '../../src/random.js';
import { gaussianMixture } from '../helpers/clustering.js';

/** Within-class sum of squares of a partition, from scratch. */
function sse(x: Float32Array, dim: number, p: Int32Array, k: number): number {
  const sizes = classSizes(p, k);
  const means = new Float64Array(k * dim);
  for (let i = 0; i < p.length; i++) for (let t = 0; t < dim; t++) means[p[i] * dim + t] += x[i * dim + t];
  for (let j = 0; j < k; j++) for (let t = 0; t < dim; t++) means[j * dim + t] /= sizes[j] || 1;
  let s = 0;
  for (let i = 0; i < p.length; i++)
    for (let t = 0; t < dim; t++) s += (x[i * dim + t] - means[p[i] * dim + t]) ** 2;
  return s;
}

/** Späth's criterion by brute force: item i takes the move that lowers the SSE most, if any. */
function referencePass(x: Float32Array, dim: number, p0: Int32Array, k: number): Int32Array {
  const p = p0.slice();
  for (let i = 0; i < p.length; i++) {
    const r = p[i];
    if (classSizes(p, k)[r] <= 1) continue;
    let best = r;
    let bestSse = sse(x, dim, p, k);
    for (let j = 0; j < k; j++) {
      if (j === r) continue;
      p[i] = j;
      const s = sse(x, dim, p, k);
      if (s < bestSse - 1e-9) {
        bestSse = s;
        best = j;
      }
    }
    p[i] = best;
  }
  return p;
}

function means(x: Float32Array, dim: number, p: Int32Array, k: number): Float64Array {
  const m = new Float64Array(k * dim);
  const sizes = classSizes(p, k);
  for (let i = 0; i < p.length; i++)
    for (let t = 0; t < dim; t++) m[p[i] * dim + t] += x[i * dim + t] / sizes[p[i]];
  return m;
}

describe('SPIDER (Späth exchange)', () => {
  it('agrees with a brute-force evaluation of the criterion, with immediate centroid updates', () => {
    for (const seed of [1, 2, 3]) {
      const { data } = gaussianMixture([15, 10, 12], [1, 1.5, 2], 3, seed, 1.5);
      const rng = new Rng(seed);
      const k = 4;
      const p = new Int32Array(37).map((_, i) => (i < k ? i : rng.int(k)));
      const want = referencePass(data, 3, p, k);
      const sizes = classSizes(p, k);
      const centroids = means(data, 3, p, k);
      const got = p.slice();
      const { moves, sse: final } = spiderPass(data, 3, got, sizes, centroids);
      expect(moves).toBeGreaterThan(0);
      expect(Array.from(got)).toEqual(Array.from(want));
      expect(Array.from(sizes)).toEqual(Array.from(classSizes(got, k)));
      expect(final).toBeCloseTo(sse(data, 3, got, k), 6);
      const exact = means(data, 3, got, k);
      for (let t = 0; t < exact.length; t++) expect(centroids[t]).toBeCloseTo(exact[t], 9);
    }
  });

  it('converges to a partition that no single move improves', async () => {
    const { data } = gaussianMixture([30, 20, 25], [1, 1, 1], 2, 4, 1.5);
    const r = await cluster(data, { dim: 2, k: 5, method: 'spider', seed: 6 });
    expect(r.converged).toBe(true);
    expect(r.trace.at(-1)!.changed).toBe(0);
    expect(Array.from(referencePass(data, 2, r.assignment, 5))).toEqual(Array.from(r.assignment));
    expect(r.trace.at(-1)!.j1).toBeCloseTo(sse(data, 2, r.assignment, 5), 4);
  });

  it('runs the table approximation on a source without vectors', async () => {
    const { data } = gaussianMixture([30, 20, 25], [1, 1, 1], 2, 4, 1.5);
    const plain = new VectorSource(data, 2);
    const source = {
      n: plain.n,
      dim: plain.dim,
      initialReferences: plain.initialReferences.bind(plain),
      table: plain.table.bind(plain),
      average: plain.average.bind(plain),
    };
    const r = await runClustering(source, { k: 3, method: 'spider', seed: 2 });
    expect(r.converged).toBe(true);
    expect(r.sizes.reduce((a, b) => a + b, 0)).toBe(75);
    // The last pass made no move: no item passes the exchange test against the final table.
    expect(r.trace.at(-1)!.changed).toBe(0);
  });
});
