/**
 * Screening particle images before anything else touches them: an image with a NaN or an
 * infinity, a constant image, or one with a value beyond a sane bound is quarantined — left
 * out of preprocessing, clustering and the class averages, and listed in report.json.
 */

/** Why an image was quarantined. */
export type QuarantineReason = 'non-finite' | 'constant' | 'out-of-range';

/** One quarantined image. */
export interface QuarantinedParticle {
  /** 0-based index of the particle in the input. */
  index: number;
  reason: QuarantineReason;
}

/** Values whose magnitude exceeds this are "wildly out of range" (no detector or normalisation gives them). */
export const OUT_OF_RANGE_BOUND = 1e6;

/**
 * Screens `count` images of `pixels` values each in `images`; returns the reason for each bad
 * image (undefined for a good one). A constant image has zero variance (every pixel equal).
 */
export function screenImages(
  images: Float32Array,
  pixels: number,
  count = images.length / pixels,
): Array<QuarantineReason | undefined> {
  const out = new Array<QuarantineReason | undefined>(count);
  for (let i = 0; i < count; i++) {
    const base = i * pixels;
    const first = images[base];
    let constant = true;
    let reason: QuarantineReason | undefined;
    for (let p = 0; p < pixels; p++) {
      const v = images[base + p];
      if (!Number.isFinite(v)) {
        reason = 'non-finite';
        break;
      }
      if (Math.abs(v) > OUT_OF_RANGE_BOUND) reason = 'out-of-range';
      if (v !== first) constant = false;
    }
    out[i] = reason ?? (constant ? 'constant' : undefined);
  }
  return out;
}
