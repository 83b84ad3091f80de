/**
 * Random rotations and rotations about an axis, as row-major 3×3 matrices (see euler.ts).
 */
import type { Rng } from '../random.js';
import type { Matrix3 } from './euler.js';

/** Product a·b of two row-major 3×3 matrices. */
export function multiply(a: Matrix3, b: Matrix3): Matrix3 {
  const out = new Array<number>(9) as Matrix3;
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 3; c++)
      out[3 * r + c] = a[3 * r] * b[c] + a[3 * r + 1] * b[3 + c] + a[3 * r + 2] * b[6 + c];
  return out;
}

/** Rotation by `angle` radians about the unit vector `axis` (Rodrigues' formula). */
export function axisAngle(axis: [number, number, number], angle: number): Matrix3 {
  const [x, y, z] = axis;
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const t = 1 - c;
  return [
    t * x * x + c,
    t * x * y - s * z,
    t * x * z + s * y,
    t * x * y + s * z,
    t * y * y + c,
    t * y * z - s * x,
    t * x * z - s * y,
    t * y * z + s * x,
    t * z * z + c,
  ];
}

/** A rotation drawn uniformly (Haar measure): a normalised Gaussian quaternion. */
export function randomRotation(rng: Rng): Matrix3 {
  let w: number, x: number, y: number, z: number, n: number;
  do {
    w = rng.normal();
    x = rng.normal();
    y = rng.normal();
    z = rng.normal();
    n = Math.hypot(w, x, y, z);
  } while (n < 1e-9);
  w /= n;
  x /= n;
  y /= n;
  z /= n;
  return [
    1 - 2 * (y * y + z * z),
    2 * (x * y - w * z),
    2 * (x * z + w * y),
    2 * (x * y + w * z),
    1 - 2 * (x * x + z * z),
    2 * (y * z - w * x),
    2 * (x * z - w * y),
    2 * (y * z + w * x),
    1 - 2 * (x * x + y * y),
  ];
}
