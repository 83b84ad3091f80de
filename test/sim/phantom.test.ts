import { describe, expect, it } from 'vitest';
import { phantom } from '../../src/sim/phantom.js';
import { pearson } from '../helpers/stats.js';

/** The map with its coordinates transformed by f (an index permutation of the cube). */
function remap(v: Float32Array, n: number, f: (x: number, y: number, z: number) => [number, number, number]) {
  const out = new Float32Array(v.length);
  for (let z = 0; z < n; z++)
    for (let y = 0; y < n; y++)
      for (let x = 0; x < n; x++) {
        const [a, b, c] = f(x, y, z);
        out[(z * n + y) * n + x] = v[(c * n + b) * n + a];
      }
  return out;
}

describe('phantom', () => {
  const n = 48;
  const v = phantom(n);

  it('is deterministic, non-negative, with maximum 1, and depends on the seed', () => {
    expect(Buffer.from(phantom(n).buffer).equals(Buffer.from(v.buffer))).toBe(true);
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...v)).toBe(1);
    expect(pearson(v, phantom(n, { seed: 8 }))).toBeLessThan(0.8);
  });

  it('is compact: > 99 % of the mass within 0.45·size of the centre', () => {
    const c = Math.floor(n / 2);
    let inside = 0;
    let all = 0;
    for (let z = 0; z < n; z++)
      for (let y = 0; y < n; y++)
        for (let x = 0; x < n; x++) {
          const m = v[(z * n + y) * n + x];
          all += m;
          if (Math.hypot(x - c, y - c, z - c) < 0.45 * n) inside += m;
        }
    expect(inside / all).toBeGreaterThan(0.99);
  });

  it('has no mirror plane and no 2-fold or 4-fold axis along x, y, z (r < 0.8 with each image)', () => {
    const m = n - 1;
    const maps = [
      remap(v, n, (x, y, z) => [m - x, y, z]),
      remap(v, n, (x, y, z) => [x, m - y, z]),
      remap(v, n, (x, y, z) => [x, y, m - z]),
      remap(v, n, (x, y, z) => [x, m - y, m - z]),
      remap(v, n, (x, y, z) => [m - x, y, m - z]),
      remap(v, n, (x, y, z) => [m - x, m - y, z]),
      remap(v, n, (x, y, z) => [y, m - x, z]),
      remap(v, n, (x, y, z) => [m - x, m - y, m - z]),
    ];
    for (const w of maps) expect(pearson(v, w)).toBeLessThan(0.8);
  });

  it('rejects a bad size', () => {
    expect(() => phantom(4)).toThrow(/size/);
    expect(() => phantom(64.5)).toThrow(/size/);
  });
});
