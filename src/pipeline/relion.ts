/**
 * RELION's 2D pose convention, in which run_data.star reports each particle's alignment to its
 * class average.
 *
 * Coordinates are centred at (⌊box/2⌋, ⌊box/2⌋), x along a row (columns), y down the rows.
 * Applying a pose to a raw particle image (what `relion_stack_create --apply_transformation`
 * does) moves the content at x to R(ψ)·(x + o), with R(ψ) = [[cos ψ, −sin ψ], [sin ψ, cos ψ]]
 * and o = (_rlnOriginX, _rlnOriginY) in pixels: first the translation that centres the
 * particle, then the in-plane rotation. RELION has no 2D mirror; ours is a last flip y → −y
 * about the centre, reported in the column {@link MIRROR_COLUMN}.
 *
 * This is exactly the alignment engine's convention (src/align/align.ts: translate by the
 * shift, rotate by ψ, mirror y), so an engine pose at the working box becomes a RELION pose by
 * scaling the shift to Å ({@link engineToRelion}).
 */

import { applyAlignment } from '../align/apply.js';

/** A particle's pose to its class average in RELION's convention (pixels of the given box). */
export interface RelionPose {
  /** In-plane angle ψ in degrees. */
  psi: number;
  /** Origin (centring translation) in pixels. */
  originX: number;
  originY: number;
  /** Flip y → −y after the rotation. */
  mirror: boolean;
}

/** The custom STAR column of the mirror flag (0/1); RELION 3.1 keeps unknown columns (with a warning). */
export const MIRROR_COLUMN = 'ackMirror';
/** The custom STAR column of the per-particle alignment score: its dissimilarity to the class average (smaller is a better match). */
export const SCORE_COLUMN = 'ackScore';

/**
 * Applies a {@link RelionPose} to a box×box image by bilinear interpolation (pixels that come
 * from outside the image are 0): aligned(q) = raw(R(−ψ)·F^mirror(q) − o), F = diag(1, −1).
 * The engine's own applier ({@link applyAlignment}): the two conventions are the same.
 */
export function applyRelionPose(image: Float32Array, box: number, pose: RelionPose): Float32Array {
  return applyAlignment(image, box, {
    psi: pose.psi,
    shiftX: pose.originX,
    shiftY: pose.originY,
    mirror: pose.mirror,
  });
}

/**
 * A pose found by the alignment engine on the working box (shift in working pixels) as a RELION
 * pose in Å: origin = shift · workingPixelSize (+ the input origin in Å the image was
 * translated by before classification).
 */
export function engineToRelion(
  engine: { psi: number; shiftX: number; shiftY: number; mirror: boolean },
  workingPixelSize: number,
  inputOriginAngst: { x: number; y: number } = { x: 0, y: 0 },
): { psi: number; originXAngst: number; originYAngst: number; mirror: boolean } {
  return {
    psi: engine.psi,
    originXAngst: engine.shiftX * workingPixelSize + inputOriginAngst.x,
    originYAngst: engine.shiftY * workingPixelSize + inputOriginAngst.y,
    mirror: engine.mirror,
  };
}
