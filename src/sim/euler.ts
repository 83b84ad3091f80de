/**
 * RELION's Euler angle conventions (ZYZ: rot, tilt, psi, in degrees; SPEC §5).
 *
 * `eulerMatrix` is RELION's A(rot, tilt, psi), the rotation that takes the reference frame to
 * the particle's frame: a 2D image coordinate (x, y, 0) comes from Aᵀ·(x, y, 0) in the map, and
 * the third row of A is the viewing direction (`viewDirection` in eval/angles.ts).
 */

/** A 3×3 rotation matrix, row-major. */
export type Matrix3 = [number, number, number, number, number, number, number, number, number];

const DEG = Math.PI / 180;

/** RELION's A(rot, tilt, psi) (degrees), row-major. */
export function eulerMatrix(rot: number, tilt: number, psi: number): Matrix3 {
  const ca = Math.cos(rot * DEG);
  const sa = Math.sin(rot * DEG);
  const cb = Math.cos(tilt * DEG);
  const sb = Math.sin(tilt * DEG);
  const cg = Math.cos(psi * DEG);
  const sg = Math.sin(psi * DEG);
  return [
    cg * cb * ca - sg * sa,
    cg * cb * sa + sg * ca,
    -cg * sb,
    -sg * cb * ca - cg * sa,
    -sg * cb * sa + cg * ca,
    sg * sb,
    sb * ca,
    sb * sa,
    cb,
  ];
}

/** The transpose of a 3×3 row-major matrix. */
export function transpose(m: Matrix3): Matrix3 {
  return [m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]];
}

/**
 * Euler angles (degrees) of a rotation matrix, the inverse of {@link eulerMatrix}: rot and psi
 * in (−180, 180], tilt in [0, 180]. At tilt 0 or 180 only rot ± psi is defined; psi is set to 0.
 */
export function matrixToEuler(m: Matrix3): { rot: number; tilt: number; psi: number } {
  const sb = Math.hypot(m[6], m[7]);
  const tilt = Math.atan2(sb, m[8]) / DEG;
  if (sb < 1e-9) {
    // A = Rz(psi)·Ry(tilt)·Rz(rot) with sin tilt = 0: put the whole in-plane angle into rot.
    const rot = m[8] > 0 ? Math.atan2(m[1], m[0]) : Math.atan2(-m[1], -m[0]);
    return { rot: rot / DEG, tilt, psi: 0 };
  }
  const rot = Math.atan2(m[7], m[6]) / DEG;
  const psi = Math.atan2(m[5], -m[2]) / DEG;
  return { rot, tilt, psi };
}
