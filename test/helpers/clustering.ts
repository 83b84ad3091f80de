/** Synthetic clustering data and agreement measures for the clustering tests. */
import { Rng } from '../../src/random.js';

/** Gaussian groups: `sizes[g]` points of spread `spreads[g]` about a random centre (±`range` per axis). */
export function gaussianMixture(
  sizes: number[],
  spreads: number[],
  dim: number,
  seed: number,
  range = 5,
): { data: Float32Array; labels: Int32Array } {
  const rng = new Rng(seed);
  const n = sizes.reduce((a, b) => a + b, 0);
  const data = new Float32Array(n * dim);
  const labels = new Int32Array(n);
  let i = 0;
  sizes.forEach((size, g) => {
    const centre = Array.from({ length: dim }, () => rng.uniform(-range, range));
    for (let m = 0; m < size; m++, i++) {
      labels[i] = g;
      for (let t = 0; t < dim; t++) data[i * dim + t] = centre[t] + spreads[g] * rng.normal();
    }
  });
  return { data, labels };
}

/** Adjusted Rand index of two labelings (Hubert & Arabie), from the contingency table. */
export function adjustedRand(a: Int32Array, b: Int32Array): number {
  const n = a.length;
  const pairs = (x: number) => (x * (x - 1)) / 2;
  const table = new Map<string, number>();
  const rows = new Map<number, number>();
  const cols = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const key = `${a[i]},${b[i]}`;
    table.set(key, (table.get(key) ?? 0) + 1);
    rows.set(a[i], (rows.get(a[i]) ?? 0) + 1);
    cols.set(b[i], (cols.get(b[i]) ?? 0) + 1);
  }
  let sumCells = 0;
  for (const c of table.values()) sumCells += pairs(c);
  let sumRows = 0;
  for (const c of rows.values()) sumRows += pairs(c);
  let sumCols = 0;
  for (const c of cols.values()) sumCols += pairs(c);
  const expected = (sumRows * sumCols) / pairs(n);
  const max = (sumRows + sumCols) / 2;
  return max === expected ? 1 : (sumCells - expected) / (max - expected);
}

/** Coefficient of variation (population standard deviation / mean) of class sizes. */
export function sizeCv(sizes: ArrayLike<number>): number {
  const s = Array.from(sizes);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  const variance = s.reduce((a, b) => a + (b - mean) ** 2, 0) / s.length;
  return Math.sqrt(variance) / mean;
}

/** Squared Euclidean distance table n×k in double precision (the slow reference). */
export function bruteTable(x: Float32Array, refs: ArrayLike<number>, dim: number): Float64Array {
  const n = x.length / dim;
  const k = refs.length / dim;
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let t = 0; t < dim; t++) s += (x[i * dim + t] - refs[j * dim + t]) ** 2;
      out[i * k + j] = s;
    }
  return out;
}
