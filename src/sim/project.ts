/**
 * Projections of a 3D map (native, real space): line integrals along rotated rays with
 * trilinear sampling, at RELION's Euler angles and origins.
 */
import {
  checkCallback,
  checkFloat32Array,
  checkInt,
  checkNumber,
  checkSignal,
  firstNonFinite,
} from '../errors.js';
import { type JobOptions, type Progress, resolveThreads, runNativeJob } from '../job.js';
import { native } from '../native.js';
import { eulerMatrix, transpose } from './euler.js';

/** Euler angles of n projections (RELION ZYZ, degrees). */
export interface EulerAngles {
  rot: Float64Array;
  tilt: Float64Array;
  psi: Float64Array;
}

/** Options of {@link project} and {@link projectMatrices}. */
export interface ProjectOptions extends JobOptions {
  /** Per-image `_rlnOriginXAngst` (Å): the shift that centres the particle. Default 0. */
  originXAngst?: Float64Array;
  /** Per-image `_rlnOriginYAngst` (Å). Default 0. */
  originYAngst?: Float64Array;
  /** Pixel size in Å, to turn origins into pixels (default 1). */
  pixelSize?: number;
  /** Output image edge in pixels (default: the map's edge). */
  box?: number;
  /** Rotation centre in the map, in voxels (default ⌊size/2⌋, RELION's). */
  volumeCentre?: number;
  /** Image centre in pixels (default ⌊box/2⌋). */
  imageCentre?: number;
}

/**
 * Projects a cubic map at RELION Euler angles: image_i(x, y) = Σ_t V(A_iᵀ·(x − c + ox_i,
 * y − c + oy_i, t) + c), the sum over the whole ray at unit step, trilinear sampling, zero
 * outside the map. So an image is shifted by its origin exactly as RELION defines it:
 * shifted(x, y) = centred(x + originX/pixelSize, y + originY/pixelSize).
 *
 * @param volume size³ values, [z][y][x] (x fastest), as read from an MRC file.
 * @param size the cube's edge.
 * @param angles per-image rot, tilt, psi (degrees), all of the same length n ≥ 1.
 * @returns n·box² values, image-major, [y][x]. The same for any thread count.
 * @throws TypeError / RangeError naming a bad argument; AbortError when `signal` fires.
 */
export async function project(
  volume: Float32Array,
  size: number,
  angles: EulerAngles,
  options: ProjectOptions = {},
): Promise<Float32Array> {
  if (typeof angles !== 'object' || angles === null) throw new TypeError('angles must be an object');
  const { rot, tilt, psi } = angles;
  for (const [name, a] of [
    ['angles.rot', rot],
    ['angles.tilt', tilt],
    ['angles.psi', psi],
  ] as const)
    if (!(a instanceof Float64Array)) throw new TypeError(`${name} must be a Float64Array`);
  const n = rot.length;
  if (tilt.length !== n || psi.length !== n)
    throw new RangeError(
      `angles.rot, tilt and psi must have the same length (${n}, ${tilt.length}, ${psi.length})`,
    );
  const matrices = new Float64Array(9 * n);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(rot[i] + tilt[i] + psi[i]))
      throw new RangeError(`angles of projection ${i} are not finite`);
    matrices.set(transpose(eulerMatrix(rot[i], tilt[i], psi[i])), 9 * i);
  }
  return projectMatrices(volume, size, matrices, options);
}

/**
 * Projects a cubic map with explicit rotations: image_i(x, y) = Σ_t V(M_i·(x − c + ox_i,
 * y − c + oy_i, t) + c). {@link project} calls this with M_i = A(rot, tilt, psi)ᵀ.
 *
 * @param matrices n·9 values, each M_i row-major (image coordinates → map coordinates).
 */
export async function projectMatrices(
  volume: Float32Array,
  size: number,
  matrices: Float64Array,
  options: ProjectOptions = {},
): Promise<Float32Array> {
  checkFloat32Array('volume', volume);
  checkInt('size', size, 1, 2048);
  if (volume.length !== size ** 3)
    throw new RangeError(`volume has ${volume.length} values, expected size³ = ${size ** 3}`);
  const bad = firstNonFinite(volume);
  if (bad >= 0) throw new RangeError(`volume[${bad}] is not finite (${volume[bad]})`);
  if (!(matrices instanceof Float64Array)) throw new TypeError('matrices must be a Float64Array');
  if (matrices.length === 0 || matrices.length % 9 !== 0)
    throw new RangeError(`matrices.length (${matrices.length}) must be a positive multiple of 9`);
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const n = matrices.length / 9;
  const box = options.box === undefined ? size : checkInt('box', options.box, 1, 4096);
  const pixelSize = options.pixelSize === undefined ? 1 : checkNumber('pixelSize', options.pixelSize, 1e-6);
  const volumeCentre =
    options.volumeCentre === undefined
      ? Math.floor(size / 2)
      : checkNumber('volumeCentre', options.volumeCentre);
  const imageCentre =
    options.imageCentre === undefined ? Math.floor(box / 2) : checkNumber('imageCentre', options.imageCentre);
  const shifts = originShifts(n, options.originXAngst, options.originYAngst, pixelSize);
  const threads = resolveThreads(options.threads);
  const signal = checkSignal(options.signal);
  const onProgress = checkCallback<(p: Progress) => void>('onProgress', options.onProgress);
  if (n * box * box > 2 ** 31 - 1) throw new RangeError(`n·box² (${n}·${box}²) is too large for one array`);
  return runNativeJob(
    (control) =>
      native().projectVolume({
        volume,
        size,
        volumeCentre,
        matrices,
        ...(shifts ? { shifts } : {}),
        n,
        box,
        imageCentre,
        threads,
        control,
      }),
    { signal, onProgress },
  );
}

/** Interleaved (sx, sy) pixel shifts from per-image origins in Å, or null when there are none. */
function originShifts(
  n: number,
  ox: Float64Array | undefined,
  oy: Float64Array | undefined,
  pixelSize: number,
): Float64Array | null {
  if (ox === undefined && oy === undefined) return null;
  const shifts = new Float64Array(2 * n);
  for (const [name, o, k] of [
    ['originXAngst', ox, 0],
    ['originYAngst', oy, 1],
  ] as const) {
    if (o === undefined) continue;
    if (!(o instanceof Float64Array)) throw new TypeError(`${name} must be a Float64Array`);
    if (o.length !== n) throw new RangeError(`${name} has ${o.length} values, expected one per image (${n})`);
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(o[i])) throw new RangeError(`${name}[${i}] is not finite`);
      shifts[2 * i + k] = o[i] / pixelSize;
    }
  }
  return shifts;
}
