import { describe, expect, it } from 'vitest';
import { FEATURE_HARMONICS, featureRings, invariantFeatures } from '../../src/pipeline/features.js';
import { randomArray } from '../helpers/random.js';

const box = 24;

/** A smooth random image (sum of Gaussian blobs) so the power spectrum is well sampled. */
function blobs(seed: number): Float32Array {
  const r = randomArray(30, seed);
  const img = new Float32Array(box * box);
  for (let b = 0; b < 10; b++) {
    const cx = 12 + 6 * r[3 * b];
    const cy = 12 + 6 * r[3 * b + 1];
    const a = r[3 * b + 2];
    for (let y = 0; y < box; y++)
      for (let x = 0; x < box; x++) img[y * box + x] += a * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 4);
  }
  return img;
}

/** Exact grid transforms: 90° rotation about (box/2, box/2), circular shift, y mirror. */
function rot90(img: Float32Array): Float32Array {
  const out = new Float32Array(box * box);
  const c = box / 2;
  for (let y = 0; y < box; y++)
    for (let x = 0; x < box; x++) {
      // content at (x, y) moves to (c − (y − c), c + (x − c)), wrapped
      const nx = (((c - (y - c)) % box) + box) % box;
      const ny = (((c + (x - c)) % box) + box) % box;
      out[ny * box + nx] = img[y * box + x];
    }
  return out;
}
function shift(img: Float32Array, dx: number, dy: number): Float32Array {
  const out = new Float32Array(box * box);
  for (let y = 0; y < box; y++)
    for (let x = 0; x < box; x++)
      out[((y + dy + box) % box) * box + ((x + dx + box) % box)] = img[y * box + x];
  return out;
}
function mirrorY(img: Float32Array): Float32Array {
  const out = new Float32Array(box * box);
  for (let y = 0; y < box; y++)
    for (let x = 0; x < box; x++) out[((box - y) % box) * box + x] = img[y * box + x];
  return out;
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(a[i]));
  }
  return d / s;
}

describe('invariant features', () => {
  it('are unchanged by grid rotations, circular shifts and mirrors, and tell images apart', async () => {
    const a = blobs(1);
    const b = blobs(2);
    const variants = [a, rot90(a), shift(a, 3, -5), mirrorY(a), rot90(shift(mirrorY(a), -2, 1)), b];
    const stack = new Float32Array(variants.length * box * box);
    variants.forEach((v, i) => stack.set(v, i * box * box));
    const f = await invariantFeatures(stack, box, { threads: 2 });
    const dim = featureRings(box) * FEATURE_HARMONICS;
    expect(f.length).toBe(variants.length * dim);
    const row = (i: number) => f.subarray(i * dim, (i + 1) * dim);
    for (let i = 1; i < 5; i++) expect(maxRelDiff(row(0), row(i))).toBeLessThan(1e-4);
    expect(maxRelDiff(row(0), row(5))).toBeGreaterThan(0.05);
  });

  it('are the same for any thread count', async () => {
    const stack = randomArray(50 * box * box, 7);
    const one = await invariantFeatures(stack, box, { threads: 1 });
    const two = await invariantFeatures(stack, box, { threads: 2 });
    expect(Array.from(one)).toEqual(Array.from(two));
  });
});
