import { describe, expect, it } from 'vitest';
import { classSizes } from '../../src/cluster/objective.js';
import {
  type ClusteringResult,
  type ClusteringState,
  METHODS,
  VectorSource,
  cluster,
  runClustering,
} from '../../src/index.js';
import { adjustedRand, bruteTable, gaussianMixture, sizeCv } from '../helpers/clustering.js';

const { data, labels } = gaussianMixture([60, 45, 30, 25, 40], [0.8, 1, 1.2, 0.7, 1], 8, 21, 3);
const dim = 8;
const n = data.length / dim;

/** The result without wall times, for exact comparisons. */
function comparable(r: ClusteringResult) {
  return {
    assignment: Array.from(r.assignment),
    references: Array.from(r.references),
    sizes: Array.from(r.sizes),
    converged: r.converged,
    trace: r.trace.map(({ seconds: _s, ...rest }) => rest),
  };
}

describe('clustering driver', () => {
  it('is deterministic: same seed, same result for 1 and 2 threads, every method', async () => {
    for (const method of METHODS) {
      const a = await cluster(data, { dim, k: 6, method, seed: 5, threads: 1 });
      const b = await cluster(data, { dim, k: 6, method, seed: 5, threads: 2 });
      expect(comparable(b)).toEqual(comparable(a));
      const c = await cluster(data, { dim, k: 6, method, seed: 6, threads: 2 });
      expect(Array.from(c.assignment)).not.toEqual(Array.from(a.assignment));
    }
  });

  it('resumed from the state after 3 iterations ends exactly like an uninterrupted run', async () => {
    for (const method of METHODS) {
      const options = { dim, k: 7, method, seed: 3, sigma0: 0, maxIter: 12 };
      const full = await cluster(data, options);
      expect(full.trace.length).toBeGreaterThan(4);
      let saved: ClusteringState | undefined;
      await cluster(data, {
        ...options,
        onIteration: (rec, state) => {
          if (rec.iteration === 3) saved = state;
        },
      });
      // A checkpoint goes through JSON-like copies: rebuild the typed arrays.
      const copy = JSON.parse(
        JSON.stringify({ ...saved!, assignment: [], references: [] }),
      ) as ClusteringState;
      copy.assignment = Int32Array.from(saved!.assignment);
      copy.references = Float32Array.from(saved!.references);
      const resumed = await runClustering(new VectorSource(data, dim), { ...options, state: copy });
      expect(comparable(resumed)).toEqual(comparable(full));
    }
  });

  it('stops at the cap with converged: false and flags the last record; resuming continues', async () => {
    const capped = await cluster(data, { dim, k: 7, seed: 1, sigma0: 0, maxIter: 2 });
    expect(capped.converged).toBe(false);
    expect(capped.trace.map((r) => r.iteration)).toEqual([0, 1, 2]);
    expect(capped.trace.map((r) => r.capReached)).toEqual([false, false, true]);
    const full = await cluster(data, { dim, k: 7, seed: 1, sigma0: 0, maxIter: 40 });
    const resumed = await runClustering(new VectorSource(data, dim), {
      k: 7,
      seed: 1,
      sigma0: 0,
      maxIter: 40,
      state: capped.state,
    });
    expect(comparable(resumed)).toEqual(comparable(full));
    expect(full.converged).toBe(true);
  });

  it('records σ, J1 = Σ d(i,p_i) to the pass references (own class without the item), sizes, averages', async () => {
    const seen: { refs: Float32Array; assignment: Int32Array }[] = [];
    const r = await cluster(data, {
      dim,
      k: 5,
      method: 'kmeans',
      seed: 2,
      onIteration: (_rec, state) => {
        seen.push({ refs: state.references, assignment: state.assignment });
      },
    });
    for (let t = 1; t < r.trace.length; t++) {
      const rec = r.trace[t];
      const d = bruteTable(data, seen[t - 1].refs, dim);
      const p = seen[t].assignment;
      const before = seen[t - 1].assignment;
      const sizes = classSizes(before, 5);
      let j1 = 0;
      let changed = 0;
      for (let i = 0; i < n; i++) {
        if (p[i] === before[i]) {
          // the mean of the other members of i's class, by brute force
          const others = new Float64Array(dim);
          for (let m = 0; m < n; m++)
            if (m !== i && before[m] === p[i]) for (let x = 0; x < dim; x++) others[x] += data[m * dim + x];
          let e = 0;
          for (let x = 0; x < dim; x++) e += (data[i * dim + x] - others[x] / (sizes[p[i]] - 1)) ** 2;
          j1 += e;
        } else j1 += d[i * 5 + p[i]];
        if (p[i] !== before[i]) changed++;
      }
      expect(rec.j1 / j1).toBeCloseTo(1, 4);
      expect(rec.changed).toBe(changed);
      expect(rec.sigma).toBe(changed / n);
      expect(rec.sizes.reduce((a, b) => a + b, 0)).toBe(n);
      expect(rec.j2).toBe(0);
      expect(rec.seconds).toBeGreaterThanOrEqual(0);
    }
    expect(r.trace[0].sigma).toBe(1);
    expect(Array.from(r.sizes)).toEqual(r.trace.at(-1)!.sizes);
    const means = await new VectorSource(data, dim).average(r.assignment, 5, new Float32Array(5 * dim));
    expect(r.references).toEqual(means);
  });

  it('starts from given references or a given assignment', async () => {
    const refs = new Float32Array(4 * dim);
    [5, 17, 30, 80].forEach((item, j) => refs.set(data.subarray(item * dim, (item + 1) * dim), j * dim));
    const b = await runClustering(new VectorSource(data, dim), {
      k: 4,
      method: 'kmeans',
      initial: { references: refs },
    });
    const d = bruteTable(data, refs, dim);
    let j1 = 0;
    for (let i = 0; i < n; i++) j1 += Math.min(...d.subarray(i * 4, i * 4 + 4));
    expect(b.trace[0].j1 / j1).toBeCloseTo(1, 4);
    const assignment = Int32Array.from(labels, (g) => g % 4);
    const c = await runClustering(new VectorSource(data, dim), {
      k: 4,
      maxIter: 1,
      sigma0: 0,
      initial: { assignment },
    });
    expect(c.trace.map((rec) => rec.iteration)).toEqual([1]);
    let changed = 0;
    for (let i = 0; i < n; i++) if (c.assignment[i] !== assignment[i]) changed++;
    expect(c.trace[0].changed).toBe(changed);
    expect(changed).toBeGreaterThan(0);
  });

  it('on one dense and several sparse groups, ACK-means is far more balanced than K-means, as accurate', async () => {
    let ackCv = 0;
    let kmCv = 0;
    let ackAri = 0;
    let kmAri = 0;
    const seeds = [1, 2, 3, 4, 5];
    for (const seed of seeds) {
      const mix = gaussianMixture(
        [60, 60, 60, 60, 60, 60, 60, 60],
        [0.3, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5],
        10,
        seed,
        3,
      );
      const ack = await cluster(mix.data, { dim: 10, k: 8, method: 'ack', seed });
      const km = await cluster(mix.data, { dim: 10, k: 8, method: 'kmeans', seed });
      ackCv += sizeCv(ack.sizes) / seeds.length;
      kmCv += sizeCv(km.sizes) / seeds.length;
      ackAri += adjustedRand(ack.assignment, mix.labels) / seeds.length;
      kmAri += adjustedRand(km.assignment, mix.labels) / seeds.length;
    }
    expect(ackCv).toBeLessThan(0.5 * kmCv);
    expect(ackAri).toBeGreaterThanOrEqual(kmAri);
  });

  it('rejects bad parameters and data with errors naming them', async () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ k: n + 1 }, /k \(\d+\) must not exceed/],
      [{ k: 0 }, /k must be >= 1/],
      [{ k: 2.5 }, /k must be an integer/],
      [{ k: 3, beta: -1 }, /beta must be in/],
      [{ k: 3, beta: NaN }, /beta must be finite/],
      [{ k: 3, sigma0: 1.5 }, /sigma0 must be in \[0, 1\]/],
      [{ k: 3, maxIter: 0 }, /maxIter must be >= 1/],
      [{ k: 3, method: 'kmedoids' }, /method must be one of 'ack', 'kmeans', 'spider', 'eqk'/],
      [{ k: 3, n: n + 1 }, /data.length \(\d+\) must be n·dim/],
      [{ k: 3, dim: 7 }, /data.length \(\d+\) must be a positive multiple of dim \(7\)/],
      [{ k: 3, threads: 0 }, /threads must be/],
    ];
    for (const [options, message] of bad)
      await expect(cluster(data, { dim, ...options } as never)).rejects.toThrow(message);
    await expect(cluster(data, { dim, k: '3' } as never)).rejects.toBeInstanceOf(TypeError);
    await expect(cluster([1, 2] as never, { dim: 1, k: 1 })).rejects.toThrow(/data must be a Float32Array/);
    const nan = data.slice();
    nan[3 * dim + 2] = NaN;
    await expect(cluster(nan, { dim, k: 3 })).rejects.toThrow(/data\[26\] is NaN \(item 3, value 2\)/);
    const inf = data.slice();
    inf[0] = Infinity;
    await expect(cluster(inf, { dim, k: 3 })).rejects.toBeInstanceOf(RangeError);
  });

  it('rejects a state from another run and bad starts', async () => {
    const r = await cluster(data, { dim, k: 4, seed: 1, maxIter: 1 });
    const source = new VectorSource(data, dim);
    await expect(runClustering(source, { k: 4, seed: 2, state: r.state })).rejects.toThrow(
      /state.seed \(1\) differs/,
    );
    await expect(runClustering(source, { k: 5, seed: 1, state: r.state })).rejects.toThrow(
      /state.k \(4\) differs/,
    );
    await expect(
      runClustering(source, { k: 4, initial: { assignment: new Int32Array(n).fill(4) } }),
    ).rejects.toThrow(/initial.assignment\[0\] \(4\) must be a class in \[0, 3\]/);
    await expect(
      runClustering(source, { k: 4, initial: { references: new Float32Array(3) } }),
    ).rejects.toThrow(/initial.references.length \(3\) must be k·dim/);
  });

  it('rejects with an AbortError when cancelled', async () => {
    const controller = new AbortController();
    const run = cluster(data, {
      dim,
      k: 5,
      sigma0: 0,
      signal: controller.signal,
      onIteration: (rec) => {
        if (rec.iteration === 1) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
  });
});
