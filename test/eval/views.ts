/** Test data: projections spread around known view centres (Gaussian in the tangent plane). */
import { Rng } from '../../src/random.js';

export interface Views {
  rot: Float64Array;
  tilt: Float64Array;
  viewIds: Int32Array;
}

/**
 * `centres` view directions uniform on the upper half sphere, `per` projections around each,
 * offset by a 2D Gaussian of `sigma` degrees per axis in the tangent plane.
 */
export function simulateViews(centres: number, per: number, sigma: number, seed: number): Views {
  const rng = new Rng(seed);
  const n = centres * per;
  const rot = new Float64Array(n);
  const tilt = new Float64Array(n);
  const viewIds = new Int32Array(n);
  const s = (sigma * Math.PI) / 180;
  for (let c = 0; c < centres; c++) {
    const z = rng.next();
    const phi = rng.uniform(0, 2 * Math.PI);
    const r = Math.sqrt(1 - z * z);
    const centre = [r * Math.cos(phi), r * Math.sin(phi), z];
    // Orthonormal tangent basis e1, e2 at the centre.
    const e1 = normalise(cross(centre, Math.abs(centre[2]) < 0.9 ? [0, 0, 1] : [1, 0, 0]));
    const e2 = cross(centre, e1);
    for (let m = 0; m < per; m++) {
      const a = s * rng.normal();
      const b = s * rng.normal();
      const t = Math.hypot(a, b);
      const dir = t === 0 ? [0, 0, 0] : [0, 1, 2].map((q) => (a * e1[q] + b * e2[q]) / t);
      const v = [0, 1, 2].map((q) => Math.cos(t) * centre[q] + Math.sin(t) * dir[q]);
      const i = c * per + m;
      tilt[i] = (Math.acos(Math.max(-1, Math.min(1, v[2]))) * 180) / Math.PI;
      rot[i] = (Math.atan2(v[1], v[0]) * 180) / Math.PI;
      viewIds[i] = c;
    }
  }
  return { rot, tilt, viewIds };
}

/** A class for each image drawn uniformly from [0, k). */
export function randomClasses(n: number, k: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  return Int32Array.from({ length: n }, () => rng.int(k));
}

/** The obviously-correct reference: arccos of the dot product, in degrees. */
export function acosDistance(
  rot1: number,
  tilt1: number,
  rot2: number,
  tilt2: number,
  mirror: boolean,
): number {
  const r = Math.PI / 180;
  const v1 = [
    Math.sin(tilt1 * r) * Math.cos(rot1 * r),
    Math.sin(tilt1 * r) * Math.sin(rot1 * r),
    Math.cos(tilt1 * r),
  ];
  const v2 = [
    Math.sin(tilt2 * r) * Math.cos(rot2 * r),
    Math.sin(tilt2 * r) * Math.sin(rot2 * r),
    Math.cos(tilt2 * r),
  ];
  let dot = v1[0] * v2[0] + v1[1] * v2[1] + v1[2] * v2[2];
  if (mirror) dot = Math.abs(dot);
  return Math.acos(Math.max(-1, Math.min(1, dot))) / r;
}

function cross(a: number[], b: number[]): number[] {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

function normalise(a: number[]): number[] {
  const l = Math.hypot(a[0], a[1], a[2]);
  return a.map((x) => x / l);
}
