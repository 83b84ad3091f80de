import { describe, expect, it } from 'vitest';
import { align } from '../../src/align/align.js';
import { alignCandidates } from '../../src/align/candidates.js';
import { localOffsets } from '../../src/align/options.js';
import { imageBlocks } from '../../src/align/provider.js';
import { setSimd, simdEnabled } from '../../src/native.js';
import { randomArray } from '../helpers/random.js';
import { referenceAlign, scoreError } from './reference.js';
import { addNoise, angleDiff, type Params, randomBlobs, renderTransformed, stack } from './synthetic.js';

const box = 48;
const blobs = randomBlobs(6, 12, 11);
const reference = renderTransformed(blobs, box);
// Angles off every sampling grid, shifts on the grid (±2 px, step 1), both mirror states.
const cases: Params[] = [
  { psi: 0, shiftX: 0, shiftY: 0, mirror: false },
  { psi: 13.37, shiftX: 1, shiftY: 0, mirror: false },
  { psi: 97.91, shiftX: -2, shiftY: 1, mirror: false },
  { psi: 181.25, shiftX: 0, shiftY: -1, mirror: true },
  { psi: 266.6, shiftX: 2, shiftY: 2, mirror: true },
  { psi: 359.4, shiftX: -1, shiftY: -2, mirror: false },
  { psi: 45.05, shiftX: 1, shiftY: 1, mirror: true },
];
const options = { box, shiftRange: 2, shiftStep: 1 };

function expectRecovered(result: Awaited<ReturnType<typeof align>>, tolerance: number): void {
  cases.forEach((p, i) => {
    expect(angleDiff(result.psi[i], p.psi), `psi of case ${i}`).toBeLessThan(tolerance);
    expect(result.shiftX[i], `shiftX of case ${i}`).toBe(p.shiftX);
    expect(result.shiftY[i], `shiftY of case ${i}`).toBe(p.shiftY);
    expect(result.mirror[i], `mirror of case ${i}`).toBe(p.mirror ? 1 : 0);
  });
}

describe('align', () => {
  it('recovers known rotations (within 1°), grid shifts and mirrors exactly, without noise', async () => {
    const images = stack(cases.map((p) => renderTransformed(blobs, box, p)));
    const result = await align(images, reference, options);
    expectRecovered(result, 1);
    expect(result.psi.every((v) => v >= 0 && v < 360)).toBe(true);
  });

  it('recovers them with noise at SNR 3 (signal variance / noise variance)', async () => {
    const images = stack(cases.map((p, i) => addNoise(renderTransformed(blobs, box, p), 3, 100 + i)));
    expectRecovered(await align(images, reference, options), 1);
  });

  // The shift grid on the references' side: the found offset d turned by the angle, so the
  // recovered shift is a point of a turned grid (within half a diagonal step of the truth), and
  // the angle is off by what an off-grid shift costs (the image-side search finds a true shift of
  // (1.5, −0.5) within 1.9°).
  it('recovers them shifting the references (angles within 2°, shifts within 0.71 px)', async () => {
    const images = stack(cases.map((p) => renderTransformed(blobs, box, p)));
    const result = await align(images, reference, { ...options, shiftReferences: true });
    expect(result.stats.correlations).toBe(2 * cases.length * 25);
    cases.forEach((p, i) => {
      expect(angleDiff(result.psi[i], p.psi), `psi of case ${i}`).toBeLessThan(2);
      expect(
        Math.hypot(result.shiftX[i] - p.shiftX, result.shiftY[i] - p.shiftY),
        `shift of case ${i}`,
      ).toBeLessThan(Math.SQRT1_2);
      expect(result.mirror[i], `mirror of case ${i}`).toBe(p.mirror ? 1 : 0);
    });
  });

  it('recovers them with a band limit (shorter inverse FFTs, parabolic refinement)', async () => {
    const images = stack(cases.map((p) => renderTransformed(blobs, box, p)));
    const result = await align(images, reference, { ...options, bandLimit: 0.2 });
    expect(result.stats.ifftLength).toBeLessThan(100);
    expectRecovered(result, 1);
  });

  // Whole-pixel steps share one sampling table (moved by a pixel delta); a half-pixel step has
  // one table per offset.
  // With shiftReferences the references are resampled at the offsets and the images once; the
  // pose shift is the offset turned by the angle, so it is compared within 0.02 px.
  it.each([
    [1, true, false],
    [0.5, true, false],
    [1, false, false],
    [1, true, true],
    [0.5, true, true],
    [1, false, true],
  ])(
    'agrees with the slow reference implementation at shift step %s, mirror %s, shifting references %s (scores within 1e-3)',
    async (step, mirror, shiftReferences) => {
      const small = 24;
      const o = {
        box: small,
        firstRing: 2,
        lastRing: 10,
        shiftRange: step,
        shiftStep: step,
        mirror,
        bandLimit: 0.3,
        shiftReferences,
      };
      const imgs = [0, 1, 2].map((s) =>
        renderTransformed(randomBlobs(4, 7, 20 + s), small, {
          psi: 31 * s + 7,
          shiftX: 0,
          shiftY: 0,
          mirror: s === 1, // with mirror false, the search must still score it against the reference
        }),
      );
      const refs = [0, 1].map((s) => renderTransformed(randomBlobs(4, 7, 40 + s), small));
      const result = await align(stack(imgs), stack(refs), o);
      for (let i = 0; i < imgs.length; i++)
        for (let j = 0; j < refs.length; j++) {
          const want = referenceAlign(imgs[i], refs[j], o);
          const got = result.score[i * 2 + j];
          expect(scoreError(got, want), `score (${i}, ${j})`).toBeLessThan(1e-3);
          expect(result.mirror[i * 2 + j]).toBe(want.mirror ? 1 : 0);
          if (shiftReferences) {
            expect(Math.abs(result.shiftX[i * 2 + j] - want.shiftX), `shiftX (${i}, ${j})`).toBeLessThan(
              0.02,
            );
            expect(Math.abs(result.shiftY[i * 2 + j] - want.shiftY), `shiftY (${i}, ${j})`).toBeLessThan(
              0.02,
            );
          } else {
            expect(result.shiftX[i * 2 + j]).toBe(want.shiftX);
            expect(result.shiftY[i * 2 + j]).toBe(want.shiftY);
          }
          expect(angleDiff(result.psi[i * 2 + j], want.psi)).toBeLessThan(0.2);
        }
    },
  );

  it('gives a score of 0 for an image against itself and the squared distance scale otherwise', async () => {
    const other = renderTransformed(randomBlobs(6, 12, 12), box);
    const result = await align(stack([reference, other]), stack([reference, other]), options);
    expect(result.score[0]).toBeLessThan(1e-4 * result.score[1]);
    expect(result.score[3]).toBeLessThan(1e-4 * result.score[2]);
    expect(result.psi[0] < 1e-3 || result.psi[0] > 360 - 1e-3).toBe(true);
  });

  it('is bit-identical with 1 and 2 threads, with an ImageProvider, and with SIMD off', async () => {
    const n = 37;
    const images = randomArray(n * 32 * 32, 5);
    const refs = randomArray(5 * 32 * 32, 6);
    const o = { box: 32, shiftRange: 1 };
    const one = await align(images, refs, { ...o, threads: 1 });
    const two = await align(images, refs, { ...o, threads: 2 });
    const provided = await align(
      { n, read: async (start, count) => images.slice(start * 1024, (start + count) * 1024) },
      refs,
      { ...o, threads: 2 },
    );
    const wasOn = simdEnabled();
    setSimd(false); // the baseline copies of the transposition and the arg-max
    const plain = await align(images, refs, { ...o, threads: 2 }).finally(() => setSimd(wasOn));
    for (const r of [two, provided, plain])
      for (const key of ['score', 'psi', 'shiftX', 'shiftY', 'mirror'] as const)
        expect(r[key]).toEqual(one[key]);
  });

  // The references' spectra are kept for the next call with the same references byte for byte
  // (a pass calls once per block): a caller that changes its array in place must not get the old.
  it('reuses the references’ spectra only for the same references', async () => {
    const images = randomArray(6 * 32 * 32, 21);
    const refs = randomArray(3 * 32 * 32, 22);
    for (const shiftReferences of [false, true]) {
      const o = { box: 32, shiftRange: 1, shiftReferences };
      const before = await align(images, refs, o);
      const again = await align(images, refs, o);
      expect(again.score).toEqual(before.score);
      refs[500] += 3; // in place: the same array, other values
      const after = await align(images, refs, o);
      const fresh = await align(images, refs.slice(), o);
      expect(after.score).toEqual(fresh.score);
      expect(after.score).not.toEqual(before.score);
    }
  });

  it('reports progress and can be cancelled', async () => {
    const images = randomArray(3000 * 64 * 64, 7);
    const refs = randomArray(50 * 64 * 64, 8);
    const controller = new AbortController();
    const seen: number[] = [];
    const job = align(images, refs, {
      box: 64,
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p.done);
        if (p.done > 0) controller.abort();
      },
    });
    await expect(job).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen.length).toBeGreaterThan(0);
  });

  it('rejects bad options and inputs with errors naming them', async () => {
    await expect(align(reference, reference, { box: 48, lastRing: 24 })).rejects.toThrow(/lastRing/);
    await expect(align(reference, reference, { box: 5 })).rejects.toThrow(/box/);
    await expect(align(reference.subarray(1), reference, { box })).rejects.toThrow(/images\.length/);
    await expect(
      align({ n: 2, read: async () => new Float32Array(3) }, reference, { box }),
    ).rejects.toMatchObject({
      code: 'ERR_PROVIDER',
    });
  });
});

describe('imageBlocks', () => {
  it('reads a provider in consecutive blocks, covering every image once', async () => {
    const data = randomArray(10 * 4, 1);
    const blocks = [];
    for await (const b of imageBlocks({ n: 10, read: async (s, c) => data.slice(s * 4, (s + c) * 4) }, 2, 3))
      blocks.push(b);
    expect(blocks.map((b) => [b.start, b.count])).toEqual([
      [0, 3],
      [3, 3],
      [6, 3],
      [9, 1],
    ]);
    expect(blocks[3].images).toEqual(data.slice(36));
  });
});

describe('local shift search', () => {
  it('equals the slow reference searched over the same window, clamped inside the grid', async () => {
    const small = 24;
    const o = {
      box: small,
      firstRing: 2,
      lastRing: 9,
      shiftRange: 2,
      shiftStep: 1,
      mirror: true,
      bandLimit: 0.3,
    };
    const ref = renderTransformed(randomBlobs(4, 7, 41), small);
    const imgs = [
      renderTransformed(randomBlobs(4, 7, 41), small, { psi: 40, shiftX: 1, shiftY: -1, mirror: false }),
      addNoise(
        renderTransformed(randomBlobs(4, 7, 41), small, { psi: 200, shiftX: -2, shiftY: 2, mirror: true }),
        5,
        3,
      ),
    ];
    // pose shifts to search around: the second lies outside the grid and is clamped
    const centreX = Float32Array.of(1, -5);
    const centreY = Float32Array.of(0, 3);
    const got = await align(stack(imgs), ref, o, { centreX, centreY, radius: 1 });
    // the windows by hand: sampling offset −shift, rounded, clamped to [−1, 1] so ±1 stays in ±2
    const windows: Array<Array<[number, number]>> = [
      [-1, 0],
      [1, -1],
    ].map(([cx, cy]) => {
      const w: Array<[number, number]> = [];
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) w.push([cx + dx, cy + dy]);
      return w;
    });
    for (let i = 0; i < imgs.length; i++) {
      const want = referenceAlign(imgs[i], ref, o, windows[i]);
      expect(scoreError(got.score[i], want), `score ${i}`).toBeLessThan(1e-3);
      expect(got.shiftX[i]).toBe(want.shiftX);
      expect(got.shiftY[i]).toBe(want.shiftY);
      expect(got.mirror[i]).toBe(want.mirror ? 1 : 0);
      expect(angleDiff(got.psi[i], want.psi)).toBeLessThan(0.2);
    }
    // the true pose of image 1 (shift (−2, 2)) is inside its clamped window: recovered
    expect([got.shiftX[1], got.shiftY[1], got.mirror[1]]).toEqual([-2, 2, 1]);
  });

  it('recovers known poses around shifts one step off, and is the full search at a wide radius', async () => {
    const imgs = stack(cases.map((p) => renderTransformed(blobs, box, p)));
    const centreX = Float32Array.from(cases, (p) => p.shiftX + (p.shiftX > 0 ? -1 : 1));
    const centreY = Float32Array.from(cases, (p) => p.shiftY);
    expectRecovered(await align(imgs, reference, options, { centreX, centreY, radius: 1 }), 0.5);
    const full = await align(imgs, reference, options);
    const wide = await align(imgs, reference, options, { centreX, centreY, radius: 2 });
    expect(wide.score).toEqual(full.score);
    expect(wide.psi).toEqual(full.psi);
  });

  it('gives the sparse and the dense engine the same local results', async () => {
    const imgs = stack(cases.map((p) => renderTransformed(blobs, box, p)));
    const refs = stack([reference, renderTransformed(randomBlobs(6, 12, 5), box)]);
    const local = {
      centreX: Float32Array.from(cases, (p) => p.shiftX),
      centreY: Float32Array.from(cases, (p) => -p.shiftY),
      radius: 1,
    };
    const dense = await align(imgs, refs, options, local);
    const candidates = Int32Array.from({ length: cases.length * 2 }, (_, e) => 1 - (e % 2));
    const sparse = await alignCandidates(imgs, refs, candidates, 2, options, local);
    for (let i = 0; i < cases.length; i++)
      for (let c = 0; c < 2; c++) {
        const j = candidates[i * 2 + c];
        const d = dense.score[i * 2 + j];
        expect(Math.abs(sparse.score[i * 2 + c] - d) / d).toBeLessThan(1e-4);
        expect(sparse.shiftX[i * 2 + c]).toBe(dense.shiftX[i * 2 + j]);
        expect(sparse.shiftY[i * 2 + c]).toBe(dense.shiftY[i * 2 + j]);
      }
  });

  it('checks its window', () => {
    const settings = {
      box,
      firstRing: 1,
      lastRing: 20,
      shiftRange: 2,
      shiftStep: 1,
      mirror: true,
      bandLimit: 0.5,
      shiftReferences: false,
    };
    expect(
      localOffsets(settings, { centreX: new Float32Array(3), centreY: new Float32Array(3), radius: 2 }, 3),
    ).toBe(null);
    const w = localOffsets(
      settings,
      { centreX: Float32Array.of(-9), centreY: Float32Array.of(0), radius: 0 },
      1,
    );
    expect(w).toEqual({ offsets: Int32Array.of(2 * 5 + 4), perImage: 1 }); // sampling offset (+2, 0)
    expect(() =>
      localOffsets(settings, { centreX: new Float32Array(2), centreY: new Float32Array(3), radius: 1 }, 3),
    ).toThrow(RangeError);
    expect(() =>
      localOffsets(
        settings,
        { centreX: Float32Array.of(Number.NaN), centreY: new Float32Array(1), radius: 1 },
        1,
      ),
    ).toThrow(/finite/);
  });
});
