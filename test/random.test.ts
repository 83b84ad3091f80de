import { describe, expect, it } from 'vitest';
import { Rng } from '../src/random.js';

describe('Rng', () => {
  it('is reproducible from a seed and differs between seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 20 }, () => a.nextUint32());
    expect(Array.from({ length: 20 }, () => b.nextUint32())).toEqual(sa);
    expect(Array.from({ length: 20 }, () => c.nextUint32())).not.toEqual(sa);
  });

  it('gives uniform doubles in [0,1) with the right mean and variance', () => {
    const r = new Rng(1);
    let s = 0;
    let s2 = 0;
    const n = 200000;
    for (let i = 0; i < n; i++) {
      const v = r.next();
      expect(v >= 0 && v < 1).toBe(true);
      s += v;
      s2 += v * v;
    }
    expect(s / n).toBeCloseTo(0.5, 2);
    expect(s2 / n - (s / n) ** 2).toBeCloseTo(1 / 12, 2);
  });

  it('gives standard normals', () => {
    const r = new Rng(2);
    let s = 0;
    let s2 = 0;
    const n = 200000;
    for (let i = 0; i < n; i++) {
      const v = r.normal();
      s += v;
      s2 += v * v;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.01);
    expect(s2 / n).toBeCloseTo(1, 1);
  });

  it('int(n) covers [0, n) evenly', () => {
    const r = new Rng(3);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 70000; i++) counts[r.int(7)]++;
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(500);
  });

  it('sample draws distinct values and permutation is a permutation', () => {
    const r = new Rng(4);
    const s = r.sample(100, 30);
    expect(new Set(s).size).toBe(30);
    for (const v of s) expect(v >= 0 && v < 100).toBe(true);
    expect(r.sample(5, 5).slice().sort()).toEqual(Int32Array.from([0, 1, 2, 3, 4]));
    const p = r.permutation(50);
    expect(Array.from(p).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(() => r.sample(3, 4)).toThrow(RangeError);
  });
});
