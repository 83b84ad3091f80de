/** Small truth/result STAR files for the evaluation tests, written with the io module. */
import { join } from 'node:path';
import { StarBlock, StarFile, writeStar } from '../../src/io/star.js';
import { Rng } from '../../src/random.js';
import { simulateViews, type Views } from './views.js';

export const VIEWS = 12;
export const PER = 10;

/** The simulated truth: 12 views × 10 particles, 4° spread; angles rounded to 10⁻⁶° so STAR keeps them exactly. */
export function truthViews(): Views {
  const v = simulateViews(VIEWS, PER, 4, 21);
  const round = (a: Float64Array) => a.map((x) => Math.round(x * 1e6) / 1e6);
  return { ...v, rot: round(v.rot), tilt: round(v.tilt) };
}

const name = (i: number, dir = '') => `${String(i + 1).padStart(6, '0')}@${dir}particles.mrcs`;

/** Writes truth.star (RELION 3.1 style, with a view id column) into `dir`; returns its path. */
export async function writeTruth(dir: string, v: Views, options: { names?: boolean } = {}): Promise<string> {
  const n = v.rot.length;
  const columns: Record<string, ArrayLike<number> | string[]> = {};
  if (options.names !== false)
    columns.rlnImageName = Array.from({ length: n }, (_, i) => name(i, 'Simulated/'));
  Object.assign(columns, {
    rlnAngleRot: v.rot,
    rlnAngleTilt: v.tilt,
    rlnAnglePsi: new Float64Array(n),
    ackmeansViewId: v.viewIds,
  });
  const optics = StarBlock.fromColumns('optics', { rlnOpticsGroup: [1], rlnImagePixelSize: [2.5] });
  const path = join(dir, 'truth.star');
  await writeStar(path, new StarFile([optics, StarBlock.fromColumns('particles', columns)]));
  return path;
}

/**
 * Writes a result STAR (RELION 3.0 style: one bare data_ block) with class numbers 1..K for the
 * particles in `order` (rows shuffled relative to the truth, names without the directory).
 */
export async function writeResult(
  path: string,
  classes: Int32Array,
  options: { names?: boolean; shuffle?: number; classNumbers?: number[] } = {},
): Promise<{ path: string; order: Int32Array }> {
  const n = classes.length;
  const order =
    options.shuffle === undefined
      ? Int32Array.from({ length: n }, (_, i) => i)
      : new Rng(options.shuffle).permutation(n);
  const columns: Record<string, ArrayLike<number> | string[]> = {};
  if (options.names !== false) columns.rlnImageName = Array.from(order, (i) => name(i));
  columns.rlnClassNumber = options.classNumbers ?? Array.from(order, (i) => classes[i] + 1);
  await writeStar(path, new StarFile([StarBlock.fromColumns('', columns)]));
  return { path, order };
}
