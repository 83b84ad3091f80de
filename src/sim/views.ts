/**
 * The viewing geometry of the paper's simulated benchmark (SPEC §7): centre directions spread
 * uniformly over a half sphere, projections drawn from a Gaussian about each, random in-plane
 * rotation.
 */
import { checkInt, checkNumber } from '../errors.js';
import type { Rng } from '../random.js';

/** A unit vector [x, y, z]. */
export type Direction = [number, number, number];

const GOLDEN_ANGLE = Math.PI * (3 - Math.sqrt(5));
const DEG = 180 / Math.PI;

/**
 * k directions spread uniformly over the upper half sphere (z > 0): a Fibonacci spiral,
 * z_i = 1 − (i + ½)/k (equal-area bands), azimuth i·(golden angle).
 */
export function hemisphereDirections(k: number): Direction[] {
  checkInt('views', k, 1, 1e6);
  const out: Direction[] = [];
  for (let i = 0; i < k; i++) {
    const z = 1 - (i + 0.5) / k;
    const r = Math.sqrt(1 - z * z);
    const phi = i * GOLDEN_ANGLE;
    out.push([r * Math.cos(phi), r * Math.sin(phi), z]);
  }
  return out;
}

/**
 * A direction drawn from an isotropic Gaussian about `centre` with angular σ `sigmaDeg`: a
 * tangent-plane offset (a, b) with a, b ~ N(0, σ²) is wrapped onto the sphere (exponential map),
 * so the angle to the centre follows a Rayleigh law (mean σ·√(π/2), median ≈ 1.177·σ) and its
 * azimuth is uniform.
 */
export function perturbDirection(centre: Direction, sigmaDeg: number, rng: Rng): Direction {
  const [x, y, z] = centre;
  // An orthonormal basis (e1, e2) of the tangent plane at centre.
  const helper: Direction = Math.abs(z) < 0.9 ? [0, 0, 1] : [1, 0, 0];
  let e1: Direction = [
    helper[1] * z - helper[2] * y,
    helper[2] * x - helper[0] * z,
    helper[0] * y - helper[1] * x,
  ];
  const n1 = Math.hypot(...e1);
  e1 = [e1[0] / n1, e1[1] / n1, e1[2] / n1];
  const e2: Direction = [y * e1[2] - z * e1[1], z * e1[0] - x * e1[2], x * e1[1] - y * e1[0]];
  const s = sigmaDeg / DEG;
  const a = s * rng.normal();
  const b = s * rng.normal();
  const angle = Math.hypot(a, b);
  if (angle === 0) return [x, y, z];
  const c = Math.cos(angle);
  const k = Math.sin(angle) / angle;
  return [
    c * x + k * (a * e1[0] + b * e2[0]),
    c * y + k * (a * e1[1] + b * e2[1]),
    c * z + k * (a * e1[2] + b * e2[2]),
  ];
}

/** RELION (rot, tilt) in degrees of a unit viewing direction (SPEC §5), rot in (−180, 180]. */
export function directionToAngles(d: Direction): { rot: number; tilt: number } {
  const tilt = Math.acos(Math.min(1, Math.max(-1, d[2]))) * DEG;
  const rot = Math.hypot(d[0], d[1]) < 1e-12 ? 0 : Math.atan2(d[1], d[0]) * DEG;
  return { rot, tilt };
}

/** Poses of a simulated set: Euler angles and the index of each image's centre direction. */
export interface SimulatedViews {
  rot: Float64Array;
  tilt: Float64Array;
  psi: Float64Array;
  /** 0-based index of the centre direction each image was drawn about. */
  viewId: Int32Array;
}

/**
 * n poses: image i belongs to centre ⌊i·views/n⌋ (so the views get ⌊n/views⌋ or ⌈n/views⌉
 * images each, in order), its direction is drawn about that centre with σ = spreadDeg, and psi
 * is uniform in [0, 360).
 */
export function sampleViews(n: number, views: number, spreadDeg: number, rng: Rng): SimulatedViews {
  checkInt('n', n, 1);
  checkInt('views', views, 1, n);
  checkNumber('spreadDeg', spreadDeg, 0, 180);
  const centres = hemisphereDirections(views);
  const out: SimulatedViews = {
    rot: new Float64Array(n),
    tilt: new Float64Array(n),
    psi: new Float64Array(n),
    viewId: new Int32Array(n),
  };
  for (let i = 0; i < n; i++) {
    const v = Math.floor((i * views) / n);
    const { rot, tilt } = directionToAngles(perturbDirection(centres[v], spreadDeg, rng));
    out.rot[i] = rot;
    out.tilt[i] = tilt;
    out.psi[i] = rng.uniform(0, 360);
    out.viewId[i] = v;
  }
  return out;
}
