import { describe, expect, it } from 'vitest';
import { vectorAngle, viewDirection } from '../../src/eval/angles.js';
import { Rng } from '../../src/random.js';
import {
  directionToAngles,
  hemisphereDirections,
  perturbDirection,
  sampleViews,
} from '../../src/sim/views.js';

describe('view sampling', () => {
  it('spreads centre directions uniformly over the upper half sphere', () => {
    const k = 100;
    const d = hemisphereDirections(k);
    expect(d).toHaveLength(k);
    let mx = 0;
    let my = 0;
    let mz = 0;
    for (const [x, y, z] of d) {
      expect(Math.hypot(x, y, z)).toBeCloseTo(1, 12);
      expect(z).toBeGreaterThan(0);
      mx += x / k;
      my += y / k;
      mz += z / k;
    }
    // A uniform hemisphere has E[z] = 1/2 and E[x] = E[y] = 0.
    expect(mz).toBeCloseTo(0.5, 6);
    expect(Math.abs(mx)).toBeLessThan(0.03);
    expect(Math.abs(my)).toBeLessThan(0.03);
    // No two centres crowd together: nearest neighbours ≥ half the mean spacing √(2π/k).
    const spacing = (Math.sqrt((2 * Math.PI) / k) * 180) / Math.PI;
    for (let i = 0; i < k; i++) {
      let nearest = 180;
      for (let j = 0; j < k; j++) if (j !== i) nearest = Math.min(nearest, vectorAngle(...d[i], ...d[j]));
      expect(nearest).toBeGreaterThan(0.5 * spacing);
    }
  });

  it('draws directions about a centre with a Rayleigh angle (mean σ·√(π/2)) and uniform azimuth', () => {
    const rng = new Rng(4);
    const centre = hemisphereDirections(7)[3];
    const sigma = 6;
    let sum = 0;
    const mean = [0, 0, 0];
    const m = 20000;
    for (let i = 0; i < m; i++) {
      const d = perturbDirection(centre, sigma, rng);
      expect(Math.hypot(...d)).toBeCloseTo(1, 12);
      sum += vectorAngle(...centre, ...d);
      // The tangential part of the offset, d − (d·c)c.
      const dc = d[0] * centre[0] + d[1] * centre[1] + d[2] * centre[2];
      for (let j = 0; j < 3; j++) mean[j] += (d[j] - dc * centre[j]) / m;
    }
    expect(Math.abs(sum / m / (sigma * Math.sqrt(Math.PI / 2)) - 1)).toBeLessThan(0.02);
    // Uniform azimuth: the tangential offsets average out (each is ~0.13 rad; 20000 draws).
    expect(Math.hypot(...mean)).toBeLessThan(0.003);
  });

  it('turns a direction into RELION (rot, tilt) whose viewing direction it is', () => {
    const rng = new Rng(2);
    for (const c of hemisphereDirections(50)) {
      const d = perturbDirection(c, 30, rng);
      const { rot, tilt } = directionToAngles(d);
      expect(vectorAngle(...viewDirection(rot, tilt), ...d)).toBeLessThan(1e-6);
    }
  });

  it('gives each centre its share of images, psi in [0, 360), and the same poses for the same seed', () => {
    const a = sampleViews(1000, 100, 5, new Rng(9));
    const b = sampleViews(1000, 100, 5, new Rng(9));
    expect(Buffer.from(a.rot.buffer).equals(Buffer.from(b.rot.buffer))).toBe(true);
    const counts = new Array(100).fill(0);
    for (const v of a.viewId) counts[v]++;
    expect(counts.every((c) => c === 10)).toBe(true);
    expect(Math.min(...a.psi)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a.psi)).toBeLessThan(360);
    expect(() => sampleViews(10, 11, 5, new Rng(1))).toThrow(/views/);
    expect(() => sampleViews(10, 2, -1, new Rng(1))).toThrow(/spreadDeg/);
  });
});
