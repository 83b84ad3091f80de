/**
 * Signal variance and additive Gaussian noise for simulated images.
 */
import type { Rng } from '../random.js';

/**
 * Mean over images of each image's variance over the whole box (double accumulation).
 *
 * @param images n·pixels values, image-major.
 */
export function meanImageVariance(images: Float32Array, pixels: number): number {
  const n = images.length / pixels;
  let total = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    let s2 = 0;
    for (let p = i * pixels; p < (i + 1) * pixels; p++) {
      s += images[p];
      s2 += images[p] * images[p];
    }
    const mean = s / pixels;
    total += Math.max(0, s2 / pixels - mean * mean);
  }
  return total / n;
}

/** Adds independent N(0, sigma²) noise to every value, in place. */
export function addGaussianNoise(images: Float32Array, sigma: number, rng: Rng): void {
  if (sigma === 0) return;
  for (let p = 0; p < images.length; p++) images[p] += sigma * rng.normal();
}
