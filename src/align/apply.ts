/** Applying alignment parameters to an image: the exact inverse of what {@link align} reports. */
import { checkFloat32Array, checkInt, checkNumber } from '../errors.js';
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
