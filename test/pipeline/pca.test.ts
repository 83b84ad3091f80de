import { describe, expect, it } from 'vitest';
import { pca, projectOnBasis } from '../../src/pipeline/pca.js';
import { rng } from '../helpers/random.js';

/** Data with well-separated variances along random orthogonal-ish directions, plus an offset. */
function makeData(n: number, d: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) out[i * d + j] = (r() * 2 - 1) * (1 + 3 * Math.exp(-j / 2)) + 0.5 * j;
  // mix coordinates with a fixed rotation-like transform (Householder), so vectors are not axes
  const v = Array.from({ length: d }, () => r() - 0.5);
  const vn = Math.hypot(...v);
  for (let i = 0; i < n; i++) {
    let dot = 0;
    for (let j = 0; j < d; j++) dot += out[i * d + j] * (v[j] / vn);
    for (let j = 0; j < d; j++) out[i * d + j] -= 2 * dot * (v[j] / vn);
  }
  return out;
}

/** Slow reference: covariance in double and cyclic Jacobi eigen-decomposition. */
function referencePca(X: Float32Array, n: number, d: number): { values: number[]; vectors: number[][] } {
  const mean = new Array<number>(d).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += X[i * d + j] / n;
  const A = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  for (let i = 0; i < n; i++)
    for (let a = 0; a < d; a++)
      for (let b = 0; b < d; b++) A[a][b] += (X[i * d + a] - mean[a]) * (X[i * d + b] - mean[b]);
  const V = Array.from({ length: d }, (_, a) =>
    Array.from({ length: d }, (_, b): number => (a === b ? 1 : 0)),
  );
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += A[p][q] ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < d; p++)
      for (let q = p + 1; q < d; q++) {
        if (Math.abs(A[p][q]) < 1e-300) continue;
        const theta = (A[q][q] - A[p][p]) / (2 * A[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = A[k][p];
          const akq = A[k][q];
          A[k][p] = c * akp - s * akq;
          A[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = A[p][k];
          const aqk = A[q][k];
          A[p][k] = c * apk - s * aqk;
          A[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = V[k][p];
          const vkq = V[k][q];
          V[k][p] = c * vkp - s * vkq;
          V[k][q] = s * vkp + c * vkq;
        }
      }
  }
  const order = Array.from({ length: d }, (_, i) => i).sort((a, b) => A[b][b] - A[a][a]);
  return {
    values: order.map((i) => A[i][i] / n),
    vectors: order.map((i) => V.map((row) => row[i])),
  };
}

describe('pca', () => {
  for (const [n, d, label] of [
    [60, 10, 'covariance path (dim <= n)'],
    [9, 30, 'Gram path (n < dim)'],
  ] as const) {
    it(`matches a Jacobi reference: ${label}`, async () => {
      const X = makeData(n, d, n + d);
      const q = 4;
      const res = await pca(X, { dim: d, components: q, threads: 2 });
      const ref = referencePca(X, n, d);
      for (let c = 0; c < q; c++) {
        expect(res.eigenvalues[c]).toBeCloseTo(ref.values[c], 3);
        let dot = 0;
        for (let j = 0; j < d; j++) dot += res.basis[c * d + j] * ref.vectors[c][j];
        expect(Math.abs(dot)).toBeGreaterThan(0.999);
      }
      // orthonormal rows
      for (let a = 0; a < q; a++)
        for (let b = 0; b < q; b++) {
          let dot = 0;
          for (let j = 0; j < d; j++) dot += res.basis[a * d + j] * res.basis[b * d + j];
          expect(dot).toBeCloseTo(a === b ? 1 : 0, 4);
        }
    });
  }

  it('projects: coordinates have the eigenvalues as variances and zero mean', async () => {
    const n = 200;
    const d = 16;
    const X = makeData(n, d, 4);
    const basis = await pca(X, { dim: d, components: 3, threads: 2 });
    const coords = await projectOnBasis(X, basis, { threads: 2 });
    for (let c = 0; c < 3; c++) {
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++) {
        s += coords[i * 3 + c];
        s2 += coords[i * 3 + c] ** 2;
      }
      expect(Math.abs(s / n)).toBeLessThan(1e-3);
      expect(s2 / n).toBeCloseTo(basis.eigenvalues[c], 2);
    }
  });

  it('is identical for any thread count', async () => {
    const X = makeData(700, 300, 8);
    const a = await pca(X, { dim: 300, components: 5, threads: 1 });
    const b = await pca(X, { dim: 300, components: 5, threads: 2 });
    expect(Array.from(a.basis)).toEqual(Array.from(b.basis));
    expect(Array.from(a.eigenvalues)).toEqual(Array.from(b.eigenvalues));
  });

  it('rejects more components than min(n, dim)', async () => {
    await expect(pca(new Float32Array(12), { dim: 4, components: 4 })).rejects.toThrow(RangeError);
  });
});
