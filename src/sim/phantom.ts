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

/** A body of the molecule: blobs scattered in an ellipsoid (size-relative centre and semi-axes). */
interface Body {
  centre: [number, number, number];
  radii: [number, number, number];
  blobs: number;
  amplitude: number;
}

/**
 * Ribosome-like layout (size-relative): a large subunit (about two thirds of the mass), a
 * smaller, flatter subunit beside it, and protrusions (a central protuberance and two stalks
 * on the large subunit, a head on the small one), so that projections from different directions
 * differ as much as those of a real ribosome do.
 */
const BODIES: Body[] = [
  { centre: [-0.07, 0, 0], radii: [0.17, 0.2, 0.18], blobs: 30, amplitude: 1 },
  { centre: [0.15, 0.03, 0.02], radii: [0.08, 0.17, 0.13], blobs: 14, amplitude: 0.85 },
];
/** Protrusions: start (size-relative), direction, length, thickness. */
const PROTRUSIONS: { from: [number, number, number]; dir: [number, number, number]; length: number }[] = [
  { from: [-0.06, 0.16, 0.02], dir: [0.1, 1, 0.2], length: 0.12 }, // central protuberance
  { from: [-0.12, 0.08, 0.14], dir: [-0.3, 0.4, 1], length: 0.13 }, // L1-like stalk
  { from: [-0.12, -0.06, -0.15], dir: [-0.2, -0.3, -1], length: 0.12 }, // L7/L12-like stalk
  { from: [0.16, 0.15, 0.0], dir: [0.5, 1, -0.3], length: 0.09 }, // small-subunit head
];

/**
 * A size³ map ([z][y][x], x fastest), values in [0, 1] (maximum exactly 1), its mass centred at
 * ⌊size/2⌋.
 *
 * The molecule is ribosome-like: two subunits of unequal size side by side (Gaussian "domains"
 * scattered in two ellipsoids, the large one about twice the mass of the small one) with four
 * elongated protrusions (a central protuberance, two stalks, a head), each Gaussian cut off at 3σ
 * so the density is exactly 0 beyond radius ≈ 0.48·size (projectors skip the empty space). The
 * domain positions are drawn from a seeded {@link Rng}, so the map is the same on every machine,
 * and the layout has no rotation or mirror that maps it onto itself (the tests check mirrors and
 * 180° turns): its projections from different directions are as distinguishable as a real
 * ribosome's.
 *
 * @param size cube edge in voxels (8 to 512, default 64).
 */
export function phantom(size = 64, options: PhantomOptions = {}): Float32Array {
  checkInt('size', size, 8, 512);
  const seed = options.seed === undefined ? 7 : checkInt('seed', options.seed, 0, 2 ** 32 - 1);
  const rng = new Rng(seed);
  const parts: {
    at: [number, number, number];
    sigma: [number, number, number];
    axes: number[];
    amp: number;
  }[] = [];
  const identity = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  for (const b of BODIES)
    for (let i = 0; i < b.blobs; i++) {
      let u: [number, number, number];
      do u = [rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1)];
      while (Math.hypot(...u) > 1);
      const at: [number, number, number] = [
        (b.centre[0] + b.radii[0] * u[0]) * size,
        (b.centre[1] + b.radii[1] * u[1]) * size,
        (b.centre[2] + b.radii[2] * u[2]) * size,
      ];
      const sigma = size * rng.uniform(0.035, 0.055);
      parts.push({
        at,
        sigma: [sigma, sigma, sigma],
        axes: identity,
        amp: b.amplitude * rng.uniform(0.7, 1),
      });
    }
  for (const t of PROTRUSIONS) {
    const n = Math.hypot(...t.dir);
    const d = t.dir.map((x) => x / n);
    const steps = 3;
    for (let s = 0; s < steps; s++) {
      const f = (t.length * (s + 0.5)) / steps;
      const at: [number, number, number] = [
        (t.from[0] + d[0] * f) * size,
        (t.from[1] + d[1] * f) * size,
        (t.from[2] + d[2] * f) * size,
      ];
      const sigma = size * rng.uniform(0.025, 0.035);
      parts.push({ at, sigma: [sigma, sigma, sigma], axes: identity, amp: rng.uniform(0.7, 0.9) });
    }
  }
  // A few elongated "helix bundles" at random orientations inside the large subunit.
  for (let i = 0; i < 3; i++) {
    const b = BODIES[0];
    const at: [number, number, number] = [
      (b.centre[0] + rng.uniform(-0.1, 0.1)) * size,
      (b.centre[1] + rng.uniform(-0.1, 0.1)) * size,
      (b.centre[2] + rng.uniform(-0.1, 0.1)) * size,
    ];
    parts.push({ at, sigma: [0.08 * size, 0.03 * size, 0.025 * size], axes: randomRotation(rng), amp: 0.6 });
  }
  // Centre the mass (amplitude × volume of each Gaussian) on the box centre.
  let mass = 0;
  const cm = [0, 0, 0];
  for (const p of parts) {
    const m = p.amp * p.sigma[0] * p.sigma[1] * p.sigma[2];
    mass += m;
    for (let a = 0; a < 3; a++) cm[a] += m * p.at[a];
  }
  const c = Math.floor(size / 2);
  // A generic orientation in the box, so no symmetry of the layout lines up with the grid axes.
  const r = randomRotation(rng);
  const turn = (v: ArrayLike<number>, o = 0): [number, number, number] => [
    r[0] * v[o] + r[1] * v[o + 1] + r[2] * v[o + 2],
    r[3] * v[o] + r[4] * v[o + 1] + r[5] * v[o + 2],
    r[6] * v[o] + r[7] * v[o + 1] + r[8] * v[o + 2],
  ];
  const blobs = parts.map((p) =>
    gaussian(
      turn([p.at[0] - cm[0] / mass, p.at[1] - cm[1] / mass, p.at[2] - cm[2] / mass]),
      p.sigma,
      [...turn(p.axes, 0), ...turn(p.axes, 3), ...turn(p.axes, 6)],
      p.amp,
      c,
    ),
  );
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
