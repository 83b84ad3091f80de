/**
 * The oracle of a classification against known angles: the best classes one could make from the
 * true viewing directions themselves, i.e. k-means on the directions (a view and its mirror as
 * one). The median within-class angle of the oracle is the floor a classification of the images
 * is measured against.
 */
import { cluster } from '../cluster/cluster.js';
import { AckmeansError, checkInt } from '../errors.js';
import { readStar } from '../io/star.js';
import { viewDirections } from './angles.js';
import { evaluateClasses, type Evaluation } from './metrics.js';

/** Options of {@link oracleClasses}. */
export interface OracleOptions {
  /** Seed of the first start (default 1). */
  seed?: number;
  /** Starts; the partition with the smallest within-class sum of squares wins (default 5). */
  starts?: number;
}

/**
 * k classes of the true directions: Späth's exchange k-means (SPIDER's rule, which converges to
 * a partition no single move improves) on v·vᵀ (6 values per image, so v and −v are one point:
 * ‖v vᵀ − w wᵀ‖² = 2 − 2(v·w)²), the best of several starts.
 */
export async function oracleClasses(
  rot: Float64Array,
  tilt: Float64Array,
  k: number,
  options: OracleOptions = {},
): Promise<Int32Array> {
  const n = rot.length;
  checkInt('k', k, 1, n);
  const seed = checkInt('seed', options.seed ?? 1, 0);
  const starts = checkInt('starts', options.starts ?? 5, 1, 100);
  const v = viewDirections(rot, tilt);
  const r2 = Math.SQRT2;
  const data = new Float32Array(n * 6);
  for (let i = 0; i < n; i++) {
    const [x, y, z] = [v[3 * i], v[3 * i + 1], v[3 * i + 2]];
    data.set([x * x, y * y, z * z, r2 * x * y, r2 * x * z, r2 * y * z], 6 * i);
  }
  let best: Int32Array | undefined;
  let bestSse = Infinity;
  for (let s = 0; s < starts; s++) {
    const r = await cluster(data, { dim: 6, k, method: 'spider', seed: seed + s, maxIter: 200 });
    let sse = 0;
    for (let i = 0; i < n; i++)
      for (let t = 0; t < 6; t++) sse += (data[6 * i + t] - r.references[6 * r.assignment[i] + t]) ** 2;
    if (sse < bestSse) {
      bestSse = sse;
      best = r.assignment;
    }
  }
  return best!;
}

/** {@link oracleClasses} evaluated like a classification (see {@link evaluateClasses}). */
export async function evaluateOracle(
  rot: Float64Array,
  tilt: Float64Array,
  k: number,
  options: OracleOptions & { viewIds?: Int32Array } = {},
): Promise<Evaluation> {
  const classes = await oracleClasses(rot, tilt, k, options);
  return evaluateClasses({ rot, tilt, classes, k, viewIds: options.viewIds });
}

/**
 * The oracle of a simulated set written by `simulate`: reads the true angles (and view ids) of
 * its particles STAR file and evaluates {@link oracleClasses} with k classes.
 * @throws AckmeansError ERR_STAR_COLUMN when the file has no particle table with true angles.
 */
export async function evaluateOracleFile(
  truthStar: string,
  k: number,
  options: OracleOptions = {},
): Promise<Evaluation> {
  const block = (await readStar(truthStar)).blocks.find(
    (b) => b.loop && b.has('rlnAngleRot') && b.has('rlnAngleTilt'),
  );
  const rot = block?.numeric('rlnAngleRot');
  const tilt = block?.numeric('rlnAngleTilt');
  if (!block || !rot || !tilt)
    throw new AckmeansError('ERR_STAR_COLUMN', `${truthStar}: no particle table with numeric true angles`, {
      file: truthStar,
    });
  const viewColumn = block.columns.find((c) => /view/i.test(c));
  const views = viewColumn === undefined ? undefined : block.numeric(viewColumn);
  return evaluateOracle(rot, tilt, k, { ...options, viewIds: views ? Int32Array.from(views) : undefined });
}
