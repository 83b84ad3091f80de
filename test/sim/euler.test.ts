import { describe, expect, it } from 'vitest';
import { viewDirection } from '../../src/eval/angles.js';
import { eulerMatrix, matrixToEuler, transpose } from '../../src/sim/euler.js';
import { axisAngle, multiply, randomRotation } from '../../src/sim/rotation.js';
import { Rng } from '../../src/random.js';

const close = (a: number[], b: number[], eps = 1e-9) => a.every((v, i) => Math.abs(v - b[i]) < eps);

describe('RELION Euler conventions', () => {
  it('A(rot, tilt, psi) = Rz(psi)·Ry(tilt)·Rz(rot) in RELION form, orthonormal with det 1', () => {
    const rz = (deg: number) => transpose(axisAngle([0, 0, 1], (deg * Math.PI) / 180));
    const ry = (deg: number) => transpose(axisAngle([0, 1, 0], (deg * Math.PI) / 180));
    for (const [a, b, g] of [
      [10, 20, 30],
      [355.9, 72.2, 240.7],
      [-45, 170, 5],
    ]) {
      const m = eulerMatrix(a, b, g);
      expect(close(m, multiply(rz(g), multiply(ry(b), rz(a))))).toBe(true);
      expect(close(multiply(m, transpose(m)), [1, 0, 0, 0, 1, 0, 0, 0, 1])).toBe(true);
    }
  });

  it('has the viewing direction as its third row', () => {
    const m = eulerMatrix(63.8, 92.7, 303.8);
    expect(close(m.slice(6), viewDirection(63.8, 92.7))).toBe(true);
  });

  it('matrixToEuler inverts eulerMatrix, including tilt 0 and 180', () => {
    const rng = new Rng(3);
    for (let i = 0; i < 200; i++) {
      const m = randomRotation(rng);
      const e = matrixToEuler(m);
      expect(close(eulerMatrix(e.rot, e.tilt, e.psi), m, 1e-9)).toBe(true);
    }
    for (const m of [eulerMatrix(40, 0, 25), eulerMatrix(40, 180, 25)]) {
      const e = matrixToEuler(m);
      expect(close(eulerMatrix(e.rot, e.tilt, e.psi), m)).toBe(true);
    }
  });
});
