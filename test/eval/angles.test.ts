import { describe, expect, it } from 'vitest';
import { angularDistance, viewDirection } from '../../src/eval/angles.js';
import { Rng } from '../../src/random.js';
import { acosDistance } from './views.js';

describe('viewDirection', () => {
  it('follows SPEC §5: (sin tilt·cos rot, sin tilt·sin rot, cos tilt), a unit vector', () => {
    const [x, y, z] = viewDirection(30, 60);
    expect(x).toBeCloseTo(Math.sin(Math.PI / 3) * Math.cos(Math.PI / 6), 14);
    expect(y).toBeCloseTo(Math.sin(Math.PI / 3) * Math.sin(Math.PI / 6), 14);
    expect(z).toBeCloseTo(0.5, 14);
    expect(Math.hypot(x, y, z)).toBeCloseTo(1, 14);
    expect(viewDirection(123, 0).map(Math.abs)).toEqual([0, 0, 1]);
  });

  it('rejects non-finite angles', () => {
    expect(() => viewDirection(NaN, 0)).toThrow(/rot must be finite/);
    expect(() => viewDirection(0, Infinity)).toThrow(/tilt must be finite/);
  });
});

describe('angularDistance', () => {
  it('gives the known distances, with and without mirror equivalence', () => {
    expect(angularDistance(0, 0, 77, 90, { mirror: false })).toBeCloseTo(90, 12);
    expect(angularDistance(0, 0, 0, 180, { mirror: false })).toBeCloseTo(180, 12);
    expect(angularDistance(0, 0, 0, 180, { mirror: true })).toBeCloseTo(0, 12);
    expect(angularDistance(10, 90, 40, 90, { mirror: false })).toBeCloseTo(30, 12);
    expect(angularDistance(0, 30, 180, 130, { mirror: false })).toBeCloseTo(160, 12);
    expect(angularDistance(0, 30, 180, 130, { mirror: true })).toBeCloseTo(20, 12);
    expect(angularDistance(5, 5, 5, 5, { mirror: false })).toBe(0);
  });

  it('matches arccos of the dot product, is symmetric and obeys the triangle inequality', () => {
    const rng = new Rng(3);
    const angle = () => [rng.uniform(-180, 180), rng.uniform(0, 180)];
    for (let t = 0; t < 500; t++) {
      const [r1, t1] = angle();
      const [r2, t2] = angle();
      const [r3, t3] = angle();
      for (const mirror of [false, true]) {
        const d12 = angularDistance(r1, t1, r2, t2, { mirror });
        expect(d12).toBeCloseTo(acosDistance(r1, t1, r2, t2, mirror), 6);
        expect(angularDistance(r2, t2, r1, t1, { mirror })).toBeCloseTo(d12, 12);
        expect(d12).toBeGreaterThanOrEqual(0);
        expect(d12).toBeLessThanOrEqual(mirror ? 90 : 180);
      }
      const d = (a: number, b: number, c: number, e: number) =>
        angularDistance(a, b, c, e, { mirror: false });
      expect(d(r1, t1, r3, t3)).toBeLessThanOrEqual(d(r1, t1, r2, t2) + d(r2, t2, r3, t3) + 1e-9);
    }
  });

  it('keeps precision for nearly equal directions (where arccos fails)', () => {
    expect(angularDistance(0, 40, 0, 40 + 1e-7, { mirror: false })).toBeCloseTo(1e-7, 13);
  });

  it('requires options.mirror', () => {
    // @ts-expect-error testing a JavaScript caller
    expect(() => angularDistance(0, 0, 0, 0)).toThrow(TypeError);
  });
});
