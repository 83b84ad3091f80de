import { describe, expect, it } from 'vitest';
import {
  bandOf,
  gaussianBlur,
  gaussianSigma,
  randomSubsets,
  startSeed,
} from '../../src/pipeline/mra-start.js';

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

describe('FRC reference filter', () => {
  it('a Gaussian whose transfer is ½ at the class resolution, preserving the mean', () => {
    const box = 64;
    const res = 8; // pixels per cycle
    const wave = new Float32Array(box * box);
    for (let y = 0; y < box; y++)
      for (let x = 0; x < box; x++) wave[y * box + x] = 3 + Math.cos((2 * Math.PI * x) / res);
    gaussianBlur(wave, box, gaussianSigma(res));
    // away from the clamped edges: mean kept, the wave's amplitude halved
    const row = 32 * box;
    const amp = (wave[row + 32] - wave[row + 36]) / 2;
    expect(amp).toBeCloseTo(0.5, 2);
    expect((wave[row + 32] + wave[row + 36]) / 2).toBeCloseTo(3, 4);
    const flat = new Float32Array(box * box).fill(2);
    gaussianBlur(flat, box, 1.7);
    expect(Math.max(...flat.map((v) => Math.abs(v - 2)))).toBeLessThan(1e-6);
  });
});
