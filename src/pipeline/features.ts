/**
 * Rotation-, translation- and mirror-invariant features of images, for MRA/MSA's first classes:
 * per ring of the power spectrum, the magnitudes of the angular harmonics of log(1 + |F|²)
 * (native, FFTW; see native/core/preprocess.h).
 */
import { checkFloat32Array, checkInt } from '../errors.js';
import { type JobOptions, resolveThreads, runNativeJob } from '../job.js';
import { native } from '../native.js';

/** Angular samples per power-spectrum ring (over half a turn). */
export const FEATURE_ANGLES = 64;
/** Angular harmonics kept per ring (0 = the ring's mean power). */
export const FEATURE_HARMONICS = 9;

/** Number of power-spectrum rings used for a working box: radii 2 … box/2 − 1. */
export function featureRings(box: number): number {
  return Math.floor(box / 2) - 2;
}

/**
 * Invariant features of n images of box² values: n · rings · harmonics values, row-major, with
 * rings = {@link featureRings}(box) and {@link FEATURE_HARMONICS} harmonics.
 */
export async function invariantFeatures(
  images: Float32Array,
  box: number,
  job: JobOptions = {},
): Promise<Float32Array> {
  checkFloat32Array('images', images);
  checkInt('box', box, 8);
  const px = box * box;
  if (images.length === 0 || images.length % px !== 0)
    throw new RangeError(`images.length (${images.length}) must be a positive multiple of box² (${px})`);
  const threads = resolveThreads(job.threads);
  return runNativeJob(
    (control) =>
      native().invariantFeatures({
        images,
        n: images.length / px,
        box,
        rings: featureRings(box),
        angles: FEATURE_ANGLES,
        harmonics: FEATURE_HARMONICS,
        threads,
        control,
      }),
    { signal: job.signal, onProgress: job.onProgress },
  );
}
