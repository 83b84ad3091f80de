import { describe, expect, it } from 'vitest';
import { bandOf, randomSubsets, startSeed } from '../../src/pipeline/mra-start.js';

describe('MRA starts (issue 17)', () => {
  it('random subsets: a seeded, balanced split (sizes ⌊n/k⌋ or ⌈n/k⌉), different per seed', () => {
    const a = randomSubsets(103, 10, 5);
    expect(Array.from(a)).toEqual(Array.from(randomSubsets(103, 10, 5)));
    const sizes = new Array(10).fill(0);
    for (const c of a) sizes[c]++;
    expect(Math.min(...sizes)).toBe(10);
    expect(Math.max(...sizes)).toBe(11);
    expect(Array.from(randomSubsets(103, 10, 6))).not.toEqual(Array.from(a));
  });

  it('start seeds: start 1 keeps the run seed, later starts get distinct seeds', () => {
    expect(startSeed(42, 1)).toBe(42);
    const seeds = [1, 2, 3, 4].map((s) => startSeed(42, s));
    expect(new Set(seeds).size).toBe(4);
    expect(startSeed(42, 3)).toBe(seeds[2]);
  });

  it('band limits: Å on the working grid, within [0.05, 0.5] cycles/pixel', () => {
    expect(bandOf(50, 5)).toBeCloseTo(0.1);
    expect(bandOf(2, 5)).toBe(0.5);
    expect(bandOf(1e4, 5)).toBe(0.05);
  });
});
