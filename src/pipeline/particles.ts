/**
 * From io's particle sets to what classification reads.
 */
import { FormatError, type ParticleSet } from '../io/index.js';
import type { ParticleInput } from './stack.js';

/** The smallest image side classification works with (the smallest working box). */
export const MIN_BOX = 8;

/**
 * The set as a {@link ParticleInput}. A set without a pixel size (a bare stack whose header
 * has none) is taken at 1 Å/px, with a warning in `set.warnings` (then Å options are pixels).
 * Images under {@link MIN_BOX} pixels are refused (`ERR_BOX_TOO_SMALL`, naming the file).
 */
export function particleInput(set: ParticleSet): ParticleInput & { pixelSize: number } {
  if (set.box < MIN_BOX)
    throw new FormatError(
      'ERR_BOX_TOO_SMALL',
      set.source,
      `images are ${set.box}×${set.box} pixels; classification needs at least ${MIN_BOX}×${MIN_BOX}`,
    );
  let pixelSize = set.pixelSize;
  if (pixelSize === undefined || !(pixelSize > 0)) {
    set.warnings.push('no pixel size in the input: 1 Å/px assumed (diameter and origins are then in pixels)');
    pixelSize = 1;
  }
  return {
    count: set.count,
    box: set.box,
    pixelSize,
    ...(set.ctf ? { ctf: set.ctf } : {}),
    ...(set.poses ? { poses: set.poses } : {}),
    readBatch: (start, count, out) => set.readBatch(start, count, out),
    readBatchFloat16: (start, count, out) => set.readBatchFloat16(start, count, out),
  };
}
