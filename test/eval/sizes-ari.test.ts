import { describe, expect, it } from 'vitest';
import { adjustedRandIndex } from '../../src/eval/ari.js';
import { classSizes, sizeStats } from '../../src/eval/sizes.js';
import { randomClasses } from './views.js';

describe('sizeStats', () => {
  it('sorts the sizes and computes the coefficient of variation by the formula', () => {
    const s = sizeStats([6, 0, 3, 1, 2, 1]);
    expect(Array.from(s.sizes)).toEqual([0, 1, 1, 2, 3, 6]);
    // mean 13/6; population variance Σ(s − mean)²/6
    const mean = 13 / 6;
    const v = [6, 0, 3, 1, 2, 1].reduce((a, x) => a + (x - mean) ** 2, 0) / 6;
    expect(s.sizeCv).toBeCloseTo(Math.sqrt(v) / mean, 14);
    expect(s.emptyClasses).toBe(1);
    expect(s.singletonClasses).toBe(2);
  });

  it('gives 0 for equal classes', () => {
    expect(sizeStats([5, 5, 5]).sizeCv).toBe(0);
  });

  it('counts class members', () => {
    expect(Array.from(classSizes(Int32Array.from([2, 0, 2, 2]), 4))).toEqual([1, 0, 3, 0]);
  });
});

describe('adjustedRandIndex', () => {
  it('matches a hand-computed case (4/7)', () => {
    // contingency cells 2,1,1 → index 1; rows C(2,2)+C(2,2) = 2; cols 1; expected 2·1/6; max 1.5
    expect(adjustedRandIndex(Int32Array.from([0, 0, 1, 1]), Int32Array.from([0, 0, 1, 2]))).toBeCloseTo(
      4 / 7,
      14,
    );
  });

  it('is 1 for identical partitions whatever the labels, symmetric, and ≈ 0 for independent ones', () => {
    const a = randomClasses(5000, 50, 1);
    const renamed = a.map((x) => 1000 - 7 * x);
    expect(adjustedRandIndex(a, renamed)).toBeCloseTo(1, 14);
    const b = randomClasses(5000, 50, 2);
    const ab = adjustedRandIndex(a, b);
    expect(Math.abs(ab)).toBeLessThan(0.01);
    expect(adjustedRandIndex(b, a)).toBeCloseTo(ab, 14);
  });

  it('handles trivial partitions like scikit-learn', () => {
    const one = new Int32Array(5);
    const singletons = Int32Array.from([0, 1, 2, 3, 4]);
    expect(adjustedRandIndex(one, one)).toBe(1);
    expect(adjustedRandIndex(singletons, singletons)).toBe(1);
    expect(adjustedRandIndex(one, singletons)).toBe(0);
  });

  it('rejects labelings of different lengths', () => {
    expect(() => adjustedRandIndex(new Int32Array(3), new Int32Array(4))).toThrow(/differ in length/);
  });
});
