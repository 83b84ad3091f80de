import { describe, expect, it } from 'vitest';
import { distanceTable } from '../src/distances.js';
import { randomArray } from './helpers/random.js';

function naive(x: Float32Array, m: Float32Array, dim: number): Float64Array {
  const n = x.length / dim;
  const k = m.length / dim;
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let t = 0; t < dim; t++) s += (x[i * dim + t] - m[j * dim + t]) ** 2;
      out[i * k + j] = s;
    }
  return out;
}

describe('distanceTable', () => {
  it('matches a naive implementation (relative error ≤ 1e-4), over several tiles', async () => {
    const dim = 300;
    const x = randomArray(517 * dim, 1);
    const m = randomArray(23 * dim, 2);
    const got = await distanceTable(x, m, { dim });
    const want = naive(x, m, dim);
    expect(got.length).toBe(want.length);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / want[i]);
    expect(worst).toBeLessThan(1e-4);
  });

  it('gives about zero for a vector against itself', async () => {
    const dim = 64;
    const x = randomArray(10 * dim, 3);
    const got = await distanceTable(x, x.slice(0, 5 * dim), { dim });
    for (let j = 0; j < 5; j++) {
      expect(Math.abs(got[j * 5 + j])).toBeLessThan(1e-3);
    }
  });

  it('gives bit-identical results with 1 and 2 threads', async () => {
    const dim = 128;
    const x = randomArray(1000 * dim, 4);
    const m = randomArray(17 * dim, 5);
    const a = await distanceTable(x, m, { dim, threads: 1 });
    const b = await distanceTable(x, m, { dim, threads: 2 });
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
  });

  it('reports progress up to the total', async () => {
    const dim = 64;
    const seen: number[] = [];
    await distanceTable(randomArray(300 * dim, 6), randomArray(4 * dim, 7), {
      dim,
      onProgress: (p) => seen.push(p.fraction),
    });
    expect(seen.at(-1)).toBe(1);
  });

  it('keeps the event loop running and can be cancelled mid-run with an AbortError', async () => {
    const dim = 4096;
    const x = new Float32Array(40000 * dim).fill(0.5);
    const m = randomArray(200 * dim, 8);
    const controller = new AbortController();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    let lastDone = 0;
    const job = distanceTable(x, m, {
      dim,
      threads: 1,
      signal: controller.signal,
      onProgress: (p) => (lastDone = p.done),
    });
    setTimeout(() => controller.abort(), 150);
    await expect(job).rejects.toMatchObject({ name: 'AbortError' });
    clearInterval(timer);
    // The timers ran while the native job did (a blocked loop could not have fired the abort either).
    expect(ticks).toBeGreaterThan(0);
    // Stopped mid-run (no assertion on wall time: the suite runs on loaded machines).
    expect(lastDone).toBeLessThan(40000);
    // Nothing was leaked into the next call: the addon still works.
    const again = await distanceTable(x.subarray(0, 2 * dim), m.subarray(0, dim), { dim });
    expect(again.length).toBe(2);
  });

  it('rejects an already-aborted signal without starting', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      distanceTable(new Float32Array(4), new Float32Array(4), { dim: 4, signal: controller.signal }),
    ).rejects.toMatchObject({
      name: 'AbortError',
    });
  });

  it('rejects bad arguments with errors naming them', async () => {
    const f = new Float32Array(8);
    await expect(distanceTable([1, 2] as unknown as Float32Array, f, { dim: 2 })).rejects.toThrow(TypeError);
    await expect(distanceTable([1, 2] as unknown as Float32Array, f, { dim: 2 })).rejects.toThrow(/images/);
    await expect(
      distanceTable(f, new Float64Array(8) as unknown as Float32Array, { dim: 2 }),
    ).rejects.toThrow(/references/);
    await expect(distanceTable(f, f, { dim: 3 })).rejects.toThrow(RangeError);
    await expect(distanceTable(f, f, { dim: 3 })).rejects.toThrow(/multiple of dim/);
    await expect(distanceTable(f, f, { dim: 0 })).rejects.toThrow(/dim/);
    await expect(distanceTable(f, f, { dim: 2, threads: 0 })).rejects.toThrow(/threads/);
    await expect(distanceTable(f, f, { dim: '2' as unknown as number })).rejects.toThrow(TypeError);
    await expect(distanceTable(new Float32Array(0), f, { dim: 2 })).rejects.toThrow(RangeError);
  });
});
