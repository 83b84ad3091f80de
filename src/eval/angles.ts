/**
 * Viewing directions and angular distances between projections (SPEC §5): RELION's ZYZ Euler
 * angles in degrees; the direction of (rot, tilt) is v = (sin tilt·cos rot, sin tilt·sin rot, cos tilt).
 */
import { checkNumber } from '../errors.js';

const RAD = Math.PI / 180;
const DEG = 180 / Math.PI;

/** A unit vector [x, y, z]. */
export type Vec3 = [number, number, number];

/** Options of {@link angularDistance}. */
export interface AngularDistanceOptions {
  /**
   * When true a view and its opposite (mirror) count as one: the distance is arccos(|v1·v2|),
   * in [0°, 90°]. Otherwise arccos(v1·v2), in [0°, 180°].
   */
  mirror: boolean;
}

/** The viewing direction of a projection with Euler angles rot and tilt (degrees). */
export function viewDirection(rot: number, tilt: number): Vec3 {
  checkNumber('rot', rot);
  checkNumber('tilt', tilt);
  const r = rot * RAD;
  const t = tilt * RAD;
  const s = Math.sin(t);
  return [s * Math.cos(r), s * Math.sin(r), Math.cos(t)];
}

/**
 * The angle in degrees between the viewing directions of two projections (rot, tilt in degrees).
 * Computed as atan2(|v1×v2|, v1·v2), which keeps full precision for nearly equal directions
 * (arccos loses half the digits there).
 */
export function angularDistance(
  rot1: number,
  tilt1: number,
  rot2: number,
  tilt2: number,
  options: AngularDistanceOptions,
): number {
  if (typeof options !== 'object' || options === null || typeof options.mirror !== 'boolean')
    throw new TypeError('options.mirror must be a boolean');
  const a = viewDirection(rot1, tilt1);
  const b = viewDirection(rot2, tilt2);
  const d = vectorAngle(a[0], a[1], a[2], b[0], b[1], b[2]);
  return options.mirror ? foldMirror(d) : d;
}

/** The angle in degrees between two unit vectors. */
export function vectorAngle(ax: number, ay: number, az: number, bx: number, by: number, bz: number): number {
  const cx = ay * bz - az * by;
  const cy = az * bx - ax * bz;
  const cz = ax * by - ay * bx;
  return Math.atan2(Math.sqrt(cx * cx + cy * cy + cz * cz), ax * bx + ay * by + az * bz) * DEG;
}

/** arccos(|v1·v2|) from arccos(v1·v2): a view and its opposite count as one. */
export function foldMirror(degrees: number): number {
  return degrees > 90 ? 180 - degrees : degrees;
}

/** Viewing directions of n projections as one Float64Array of n·3 values (x, y, z per row). */
export function viewDirections(rot: Float64Array, tilt: Float64Array): Float64Array {
  const n = rot.length;
  const out = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    const r = rot[i] * RAD;
    const t = tilt[i] * RAD;
    const s = Math.sin(t);
    out[3 * i] = s * Math.cos(r);
    out[3 * i + 1] = s * Math.sin(r);
    out[3 * i + 2] = Math.cos(t);
  }
  return out;
}
