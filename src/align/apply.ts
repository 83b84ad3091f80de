/**
 * Applying alignment parameters to images: the exact inverse of what {@link align} reports. The
 * one pose applier (native/core/transform.cpp) behind every averaging path.
 */
import { checkCallback, checkFloat32Array, checkInt, checkNumber, checkSignal } from '../errors.js';
import { type JobOptions, type Progress, resolveThreads, runNativeJob } from '../job.js';
import { native } from '../native.js';

/** The alignment of one image to one reference (the conventions of {@link align}). */
export interface AlignmentParameters {
  /** Rotation in degrees (from +x toward +y, about the centre (box/2, box/2)). */
  psi: number;
  /** Shift in x, pixels. */
  shiftX: number;
  /** Shift in y, pixels. */
  shiftY: number;
  /** Mirror (flip y → −y about the centre) after the rotation. */
  mirror: boolean;
}

/** One pose per image, n values each (the conventions of {@link AlignmentParameters}). */
export interface PoseArrays {
  psi: Float32Array;
  shiftX: Float32Array;
  shiftY: Float32Array;
  /** 1 = mirrored. */
  mirror: Uint8Array;
}

/** Checks that `poses` holds n poses (Float32Array psi/shiftX/shiftY, Uint8Array mirror). */
export function checkPoseArrays(name: string, poses: PoseArrays, n: number): void {
  for (const key of ['psi', 'shiftX', 'shiftY'] as const)
    if (checkFloat32Array(`${name}.${key}`, poses?.[key]).length !== n)
      throw new RangeError(`${name}.${key} must hold n (${n}) values`);
  if (!(poses.mirror instanceof Uint8Array) || poses.mirror.length !== n)
    throw new TypeError(`${name}.mirror must be a Uint8Array of n (${n}) values`);
}

/**
 * Every image of `images` (n·box² values) with its own pose applied, as {@link applyAlignment}
 * does for one image; native, off the event loop, the same for any thread count.
 * @returns a new Float32Array of n·box² values.
 */
export async function applyPoses(
  images: Float32Array,
  box: number,
  poses: PoseArrays,
  options: JobOptions = {},
): Promise<Float32Array> {
  checkFloat32Array('images', images);
  checkInt('box', box, 1, 65536);
  const n = images.length / (box * box);
  if (n < 1 || !Number.isInteger(n))
    throw new RangeError(
      `images.length (${images.length}) must be a positive multiple of box² (${box * box})`,
    );
  checkPoseArrays('poses', poses, n);
  const threads = resolveThreads(options.threads);
  const signal = checkSignal(options.signal);
  const onProgress = checkCallback<(p: Progress) => void>('onProgress', options.onProgress);
  const { psi, shiftX, shiftY, mirror } = poses;
  return runNativeJob(
    (control) => native().applyPoses({ images, n, box, psi, shiftX, shiftY, mirror, threads, control }),
    { signal, onProgress },
  );
}

/**
 * The aligned image: `image` translated by (shiftX, shiftY), rotated by psi about the centre,
 * then mirrored if asked — aligned(p) = x(c + R(−psi)·F^mirror·(p − c) − shift) with
 * F = diag(1, −1), bilinear interpolation, zero outside. With the parameters {@link align}
 * reports for (image, reference), the result matches the reference.
 *
 * @param image box² values, row-major.
 * @returns a new Float32Array of box² values.
 */
export function applyAlignment(image: Float32Array, box: number, params: AlignmentParameters): Float32Array {
  checkFloat32Array('image', image);
  checkInt('box', box, 1, 65536);
  if (image.length !== box * box)
    throw new RangeError(`image.length (${image.length}) must be box² (${box * box})`);
  if (typeof params !== 'object' || params === null) throw new TypeError('params must be an object');
  if (typeof params.mirror !== 'boolean') throw new TypeError('params.mirror must be a boolean');
  return native().applyAlignment({
    image,
    box,
    psi: checkNumber('params.psi', params.psi),
    shiftX: checkNumber('params.shiftX', params.shiftX),
    shiftY: checkNumber('params.shiftY', params.shiftY),
    mirror: params.mirror,
  });
}
