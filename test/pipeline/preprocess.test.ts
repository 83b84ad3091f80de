import { describe, expect, it } from 'vitest';
import { defaultWorkingBox, preprocessImages } from '../../src/pipeline/preprocess.js';
import { screenImages } from '../../src/pipeline/quarantine.js';
import { randomArray } from '../helpers/random.js';

/** Signed frequency of index i in a length-m DFT. */
const freq = (i: number, m: number): number => (i <= m / 2 ? i : i - m);

/** Slow reference Fourier crop: naive 2D DFT in double, keep |f| < m/2 (Nyquist of an even m dropped), inverse. */
function referenceCrop(img: Float32Array, N: number, m: number): Float64Array {
  const keep = (f: number): boolean => (m % 2 === 0 ? Math.abs(f) < m / 2 : Math.abs(f) <= (m - 1) / 2);
  const out = new Float64Array(m * m);
  const freqs: number[] = [];
  for (let i = 0; i < m; i++) if (keep(freq(i, m))) freqs.push(freq(i, m));
  for (const fy of freqs)
    for (const fx of freqs) {
      let re = 0;
      let im = 0;
      for (let y = 0; y < N; y++)
        for (let x = 0; x < N; x++) {
          const a = (-2 * Math.PI * (fy * y + fx * x)) / N;
          re += img[y * N + x] * Math.cos(a);
          im += img[y * N + x] * Math.sin(a);
        }
      re /= N * N;
      im /= N * N;
      for (let y = 0; y < m; y++)
        for (let x = 0; x < m; x++) {
          const a = (2 * Math.PI * (fy * y + fx * x)) / m;
          out[y * m + x] += re * Math.cos(a) - im * Math.sin(a);
        }
    }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

function backgroundStats(img: Float32Array, m: number, radius: number): { mean: number; sd: number } {
  let s = 0;
  let s2 = 0;
  let c = 0;
  const ctr = Math.floor(m / 2);
  for (let y = 0; y < m; y++)
    for (let x = 0; x < m; x++)
      if ((x - ctr) ** 2 + (y - ctr) ** 2 > radius * radius) {
        s += img[y * m + x];
        s2 += img[y * m + x] ** 2;
        c++;
      }
  const mean = s / c;
  return { mean, sd: Math.sqrt(s2 / c - mean * mean) };
}

describe('Fourier crop', () => {
  for (const [N, m] of [
    [12, 8],
    [13, 7],
    [16, 9],
    [11, 10],
  ]) {
    it(`matches a naive DFT crop ${N} -> ${m}`, async () => {
      const img = randomArray(2 * N * N, N * 31 + m);
      const out = await preprocessImages(img, {
        box: N,
        outBox: m,
        radius: 0,
        invert: false,
        mask: false,
        threads: 2,
      });
      // radius 0: the background is every pixel but the centre
      for (let i = 0; i < 2; i++) {
        const ref = Float32Array.from(referenceCrop(img.subarray(i * N * N, (i + 1) * N * N), N, m));
        const { mean, sd } = backgroundStats(ref, m, 0);
        const norm = ref.map((v) => (v - mean) / sd);
        expect(maxAbsDiff(out.subarray(i * m * m, (i + 1) * m * m), norm)).toBeLessThan(2e-4);
      }
    });
  }

  it('keeps the image when the working box equals the box, up to normalisation', async () => {
    const N = 10;
    const img = randomArray(N * N, 5);
    const out = await preprocessImages(img, { box: N, outBox: N, radius: 0, mask: false, threads: 1 });
    const { mean, sd } = backgroundStats(img, N, 0);
    expect(
      maxAbsDiff(
        out,
        Array.from(img, (v) => (v - mean) / sd),
      ),
    ).toBeLessThan(1e-5);
  });
});

describe('normalisation and mask', () => {
  it('gives background mean 0 and sd 1, inverts, and masks softly', async () => {
    const N = 24;
    const img = randomArray(3 * N * N, 9).map((v, i) => v * 3 + 7 + (i % 5));
    const radius = 8;
    const plain = await preprocessImages(img, { box: N, radius, mask: false, threads: 2 });
    for (let i = 0; i < 3; i++) {
      const { mean, sd } = backgroundStats(plain.subarray(i * N * N, (i + 1) * N * N), N, radius);
      expect(Math.abs(mean)).toBeLessThan(1e-5);
      expect(sd).toBeCloseTo(1, 4);
    }
    const inverted = await preprocessImages(img, { box: N, radius, mask: false, invert: true, threads: 2 });
    expect(
      maxAbsDiff(
        inverted,
        plain.map((v) => -v),
      ),
    ).toBeLessThan(1e-5);
    const masked = await preprocessImages(img, { box: N, radius, edge: 3, threads: 2 });
    const c = N / 2;
    for (let y = 0; y < N; y++)
      for (let x = 0; x < N; x++) {
        const r = Math.hypot(x - c, y - c);
        const w = r <= radius ? 1 : r >= radius + 3 ? 0 : 0.5 * (1 + Math.cos((Math.PI * (r - radius)) / 3));
        expect(masked[y * N + x]).toBeCloseTo(plain[y * N + x] * w, 5);
      }
  });

  it('is the same for any thread count', async () => {
    const img = randomArray(40 * 100 * 100, 3);
    const a = await preprocessImages(img, { box: 100, radius: 20, threads: 1 });
    const b = await preprocessImages(img, { box: 100, radius: 20, threads: 2 });
    expect(a.length).toBe(40 * 64 * 64);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
  });

  it('rejects impossible sizes with RangeError', async () => {
    await expect(preprocessImages(new Float32Array(10), { box: 4, radius: 1 })).rejects.toThrow(RangeError);
    await expect(preprocessImages(new Float32Array(16), { box: 4, outBox: 5, radius: 1 })).rejects.toThrow(
      /outBox/,
    );
  });

  it('chooses the working box: up to 96 kept, bigger cropped to 64', () => {
    expect(defaultWorkingBox(65)).toBe(65);
    expect(defaultWorkingBox(96)).toBe(96);
    expect(defaultWorkingBox(200)).toBe(64);
  });
});

describe('screening', () => {
  it('quarantines non-finite, constant and out-of-range images', () => {
    const px = 16;
    const imgs = randomArray(5 * px, 1);
    imgs[px + 3] = NaN;
    imgs.fill(2.5, 2 * px, 3 * px);
    imgs[3 * px + 7] = 5e6;
    imgs[4 * px] = Infinity;
    expect(screenImages(imgs, px)).toEqual([
      undefined,
      'non-finite',
      'constant',
      'out-of-range',
      'non-finite',
    ]);
  });
});

describe('shifts', () => {
  it('translates by whole pixels exactly (circularly) before cropping', async () => {
    const N = 15;
    const img = randomArray(N * N, 12);
    const shifted = await preprocessImages(img, {
      box: N,
      radius: 0,
      mask: false,
      threads: 1,
      shifts: Float32Array.of(2, -3),
    });
    const plain = await preprocessImages(img, { box: N, radius: 0, mask: false, threads: 1 });
    // out(x, y) = in(x − 2, y + 3); compare away from the (excluded) centre pixel's effect on stats:
    // normalisation is over all pixels but the centre, so compare after re-standardising both.
    const std = (a: Float32Array): number[] => {
      const m = a.reduce((s, v) => s + v, 0) / a.length;
      const sd = Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / a.length);
      return Array.from(a, (v) => (v - m) / sd);
    };
    const moved = new Float32Array(N * N);
    for (let y = 0; y < N; y++)
      for (let x = 0; x < N; x++) moved[y * N + x] = img[((y + 3) % N) * N + ((x - 2 + N) % N)];
    expect(maxAbsDiff(std(shifted), std(moved))).toBeLessThan(1e-4);
    expect(maxAbsDiff(std(plain), std(img))).toBeLessThan(1e-4);
  });
});
