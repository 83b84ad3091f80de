/**
 * A built-in test density: a deterministic, asymmetric, protein-like 3D map generated in code,
 * so demos and tests need no external file.
 */
import { checkInt } from '../errors.js';
import { Rng } from '../random.js';
import { randomRotation } from './rotation.js';

/** Options of {@link phantom}. */
export interface PhantomOptions {
  /** Seed of the layout (default 7). Each seed gives a different, equally asymmetric molecule. */
  seed?: number;
}

/** A Gaussian density: centre and inverse squared widths along three orthogonal axes. */
interface Blob {
  centre: [number, number, number];
  axes: number[]; // 3 unit vectors, row-major
  inv2: [number, number, number]; // 1 / (2σ_k²)
  reach: number; // 3σ_max: the blob is cut off at 3σ (its ellipsoid), so the map has compact support
  amplitude: number;
}

/**
 * A size³ map ([z][y][x], x fastest), values in [0, 1] (maximum exactly 1), centred at ⌊size/2⌋.
 *
 * The molecule is a chain of 28 overlapping Gaussian "domains" laid along a random walk inside
 * a sphere of radius 0.3·size (a connected, globular body with lobes and grooves), plus three
 * elongated ellipsoidal "helix bundles" at random orientations, each Gaussian cut off at 3σ so the
 * density is exactly 0 beyond radius ≈ 0.48·size (projectors skip the empty space). The layout is drawn from a
 * seeded {@link Rng}, so it is the same on every machine, and generic random positions leave no
 * rotation or mirror that maps it onto itself (the tests check mirrors and 180° turns).
 *
 * @param size cube edge in voxels (8 to 512, default 64).
 */
export function phantom(size = 64, options: PhantomOptions = {}): Float32Array {
  checkInt('size', size, 8, 512);
  const seed = options.seed === undefined ? 7 : checkInt('seed', options.seed, 0, 2 ** 32 - 1);
  const rng = new Rng(seed);
  const c = Math.floor(size / 2);
  const blobs: Blob[] = [];
  const limit = 0.3 * size;
  let p: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < 28; i++) {
    const sigma = size * rng.uniform(0.035, 0.06);
    blobs.push(gaussian(p, [sigma, sigma, sigma], [1, 0, 0, 0, 1, 0, 0, 0, 1], rng.uniform(0.6, 1), c));
    // Step to the next domain; steps that would leave the sphere are pulled back towards it.
    const step = size * 0.07;
    let q: [number, number, number];
    do {
      const d = [rng.normal(), rng.normal(), rng.normal()];
      const n = Math.hypot(d[0], d[1], d[2]);
      q = [p[0] + (step * d[0]) / n, p[1] + (step * d[1]) / n, p[2] + (step * d[2]) / n];
    } while (Math.hypot(...q) > limit);
    p = q;
  }
  for (let i = 0; i < 3; i++) {
    let centre: [number, number, number];
    do
      centre = [
        rng.uniform(-0.18, 0.18) * size,
        rng.uniform(-0.18, 0.18) * size,
        rng.uniform(-0.18, 0.18) * size,
      ];
    while (Math.hypot(...centre) > 0.18 * size);
    const widths: [number, number, number] = [0.1 * size, 0.04 * size, 0.03 * size];
    blobs.push(gaussian(centre, widths, randomRotation(rng), 0.8, c));
  }
  return render(blobs, size);
}

function gaussian(
  offset: [number, number, number],
  sigma: [number, number, number],
  axes: number[],
  amplitude: number,
  c: number,
): Blob {
  return {
    centre: [offset[0] + c, offset[1] + c, offset[2] + c],
    axes,
    inv2: [1 / (2 * sigma[0] ** 2), 1 / (2 * sigma[1] ** 2), 1 / (2 * sigma[2] ** 2)],
    reach: 3 * Math.max(...sigma),
    amplitude,
  };
}

/** Exponent at 3σ: (3σ)²/(2σ²). Beyond it a blob contributes exactly 0. */
const CUTOFF = 4.5;

/** Sums the blobs on the grid (each over its 3σ bounding box) and scales the maximum to 1. */
function render(blobs: Blob[], size: number): Float32Array {
  const map = new Float64Array(size ** 3);
  for (const b of blobs) {
    const lo = b.centre.map((v) => Math.max(0, Math.floor(v - b.reach)));
    const hi = b.centre.map((v) => Math.min(size - 1, Math.ceil(v + b.reach)));
    const a = b.axes;
    for (let z = lo[2]; z <= hi[2]; z++)
      for (let y = lo[1]; y <= hi[1]; y++)
        for (let x = lo[0]; x <= hi[0]; x++) {
          const dx = x - b.centre[0];
          const dy = y - b.centre[1];
          const dz = z - b.centre[2];
          const u = a[0] * dx + a[1] * dy + a[2] * dz;
          const v = a[3] * dx + a[4] * dy + a[5] * dz;
          const w = a[6] * dx + a[7] * dy + a[8] * dz;
          const q = u * u * b.inv2[0] + v * v * b.inv2[1] + w * w * b.inv2[2];
          if (q <= CUTOFF) map[(z * size + y) * size + x] += b.amplitude * Math.exp(-q);
        }
  }
  let max = 0;
  for (const v of map) max = Math.max(max, v);
  const out = new Float32Array(map.length);
  for (let i = 0; i < map.length; i++) out[i] = map[i] / max;
  return out;
}
