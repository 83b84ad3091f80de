/**
 * Seed derivation: every iteration gets its own generator derived from the run's seed and the
 * iteration number, so a run resumed from a saved state draws exactly the numbers an
 * uninterrupted run would, and no generator state has to be saved.
 */
import { Rng } from '../random.js';

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** The generator of iteration `iteration` (0 = initialisation) of a run seeded with `seed`. */
export function iterationRng(seed: number, iteration: number): Rng {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  return new Rng(mix32(mix32(lo ^ mix32(hi + 0x9e3779b9)) + Math.imul(iteration + 1, 0x9e3779b9)));
}
