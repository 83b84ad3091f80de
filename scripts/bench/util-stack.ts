/**
 * A small particle stack for server benchmarks and tests (not a benchmark itself): projections of
 * the built-in phantom from a few viewing directions with random in-plane rotations, plus
 * Gaussian noise, written as one .mrcs. Deterministic for a given seed.
 */
import { join } from 'node:path';
import { writeMrc } from '../../src/io/index.js';
import { Rng } from '../../src/random.js';
import { phantom } from '../../src/sim/phantom.js';
import { project } from '../../src/sim/project.js';

/** Writes `<dir>/<name>` (n images of box² pixels, 4 Å/px, SNR ≈ 1) and returns its path. */
export async function writeBenchStack(
  dir: string,
  n: number,
  box: number,
  name = 'bench.mrcs',
  seed = 1,
): Promise<string> {
  const rng = new Rng(seed);
  const views = 4;
  const rot = new Float64Array(n);
  const tilt = new Float64Array(n);
  const psi = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    rot[i] = (i % views) * 80;
    tilt[i] = 30 + (i % views) * 35;
    psi[i] = rng.uniform(0, 360);
  }
  const images = await project(phantom(box), box, { rot, tilt, psi }, { threads: 1 });
  let sd = 0;
  for (const v of images) sd += v * v;
  sd = Math.sqrt(sd / images.length);
  for (let i = 0; i < images.length; i++) images[i] += sd * rng.normal();
  const path = join(dir, name);
  await writeMrc(path, images, { nx: box, ny: box, nz: n, pixelSize: 4, stack: true });
  return path;
}
