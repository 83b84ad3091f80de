import { describe, expect, it } from 'vitest';
import { align } from '../../src/align/align.js';
import {
  alignCandidates,
  emptyCandidateTable,
  coarseOptions,
  cropImages,
  imageSpectra,
  imageSpectraBytes,
  shortlist,
  topClasses,
} from '../../src/align/candidates.js';
import { randomArray } from '../helpers/random.js';
import { referenceAlign, scoreError } from './reference.js';
import { addNoise, angleDiff, randomBlobs, renderTransformed, stack } from './synthetic.js';

describe('alignCandidates', () => {
  const box = 32;
  const n = 23;
  const k = 7;
  const m = 4;
  const images = randomArray(n * box * box, 15);
  const refs = randomArray(k * box * box, 16);
  const o = { box, shiftRange: 1, bandLimit: 0.4 };
  // every image gets its own candidates, some slots empty (−1), some repeated
  const cand = Int32Array.from({ length: n * m }, (_, e) => (e % 5 === 3 ? -1 : (e * 7 + (e >> 2)) % k));

  it.each([false, true])(
    'gives align()’s entry for each (image, candidate) pair, and +inf with zero pose in empty slots (shifting references %s)',
    async (shiftReferences) => {
      const full = await align(images, refs, { ...o, shiftReferences });
      const sparse = await alignCandidates(images, refs, cand, m, { ...o, shiftReferences });
      expect(sparse.classes).toEqual(cand);
      for (let i = 0; i < n; i++)
        for (let c = 0; c < m; c++) {
          const e = i * m + c;
          const j = cand[e];
          if (j < 0) {
            expect(sparse.score[e]).toBe(Infinity);
            expect([sparse.psi[e], sparse.shiftX[e], sparse.shiftY[e], sparse.mirror[e]]).toEqual([
              0, 0, 0, 0,
            ]);
            continue;
          }
          const f = i * k + j;
          expect(Math.abs(sparse.score[e] - full.score[f])).toBeLessThanOrEqual(1e-5 * full.score[f]);
          expect(sparse.mirror[e]).toBe(full.mirror[f]);
          // shifting references, the shift is turned by the angle: equal up to its rounding
          expect(Math.abs(sparse.shiftX[e] - full.shiftX[f])).toBeLessThan(1e-4);
          expect(Math.abs(sparse.shiftY[e] - full.shiftY[f])).toBeLessThan(1e-4);
          expect(angleDiff(sparse.psi[e], full.psi[f])).toBeLessThan(1e-3);
        }
    },
  );

  it.each([false, true])(
    'is bit-identical with 1 and 2 threads and through an ImageProvider (shifting references %s)',
    async (shiftReferences) => {
      const one = await alignCandidates(images, refs, cand, m, { ...o, shiftReferences, threads: 1 });
      const two = await alignCandidates(images, refs, cand, m, { ...o, shiftReferences, threads: 2 });
      const dim = box * box;
      const provided = await alignCandidates(
        { n, read: async (s, c) => images.slice(s * dim, (s + c) * dim) },
        refs,
        cand,
        m,
        { ...o, shiftReferences, threads: 2 },
      );
      for (const t of [two, provided]) {
        expect(t.score).toEqual(one.score);
        expect(t.psi).toEqual(one.psi);
        expect(t.shiftX).toEqual(one.shiftX);
        expect(t.mirror).toEqual(one.mirror);
      }
    },
  );

  it('from the images’ kept spectra: bit-identical, the images unread; refused for other settings', async () => {
    const shifting = { ...o, shiftReferences: true, threads: 2 };
    const direct = await alignCandidates(images, refs, cand, m, shifting);
    const dim = box * box;
    const provided = { n, read: async (s: number, c: number) => images.slice(s * dim, (s + c) * dim) };
    const spectra = await imageSpectra(provided, { ...shifting, threads: 1 });
    expect((await spectra.read(0, n)).length).toBe(n * spectra.floats);
    expect(imageSpectraBytes(n, shifting)).toBe(n * (4 * spectra.floats + 8));
    let reads = 0;
    const counted = {
      n,
      read: async (s: number, c: number) => (reads++, images.slice(s * dim, (s + c) * dim)),
    };
    const kept = await alignCandidates(counted, refs, cand, m, shifting, undefined, spectra);
    expect(reads).toBe(0);
    for (const f of ['score', 'psi', 'shiftX', 'shiftY', 'mirror'] as const)
      expect(kept[f]).toEqual(direct[f]);
    // a whole-grid "local" search is the ordinary one; a real window, other settings or other n are refused
    const whole = { centreX: new Float32Array(n), centreY: new Float32Array(n), radius: 5 };
    expect((await alignCandidates(images, refs, cand, m, shifting, whole, spectra)).score).toEqual(
      direct.score,
    );
    const window = { ...whole, radius: 0 };
    await expect(alignCandidates(images, refs, cand, m, shifting, window, spectra)).rejects.toThrow(
      /spectra/,
    );
    await expect(
      alignCandidates(images, refs, cand, m, { ...shifting, bandLimit: 0.3 }, undefined, spectra),
    ).rejects.toThrow(/spectra/);
    await expect(
      alignCandidates(images.subarray(dim), refs, cand.subarray(m), m, shifting, undefined, spectra),
    ).rejects.toThrow(/spectra/);
    // without the shifts on the references' side there is nothing to keep
    expect(imageSpectraBytes(n, { ...o, shiftReferences: false })).toBeUndefined();
    expect(imageSpectraBytes(n, { ...o, shiftReferences: true, shiftRange: 0 })).toBeUndefined();
    await expect(imageSpectra(images, { ...o, shiftReferences: false })).rejects.toThrow(/references' side/);
  });

  it('agrees with the slow reference implementation', async () => {
    const small = 24;
    const s = {
      box: small,
      firstRing: 2,
      lastRing: 10,
      shiftRange: 1,
      shiftStep: 1,
      mirror: true,
      bandLimit: 0.3,
    };
    const imgs = [0, 1].map((q) =>
      renderTransformed(randomBlobs(4, 7, 50 + q), small, {
        psi: 40 * q + 11,
        shiftX: 1,
        shiftY: 0,
        mirror: q === 1,
      }),
    );
    const rs = [0, 1, 2].map((q) => renderTransformed(randomBlobs(4, 7, 60 + q), small));
    const c = Int32Array.from([2, -1, 0, 1]); // image 0 → ref 2; image 1 → refs 0 and 1
    const got = await alignCandidates(stack(imgs), stack(rs), c, 2, s);
    for (const [e, i] of [
      [0, 0],
      [2, 1],
      [3, 1],
    ]) {
      const want = referenceAlign(imgs[i], rs[c[e]], s);
      expect(scoreError(got.score[e], want), `pair ${e}`).toBeLessThan(1e-3);
      expect(got.mirror[e]).toBe(want.mirror ? 1 : 0);
      expect(got.shiftX[e]).toBe(want.shiftX);
      expect(got.shiftY[e]).toBe(want.shiftY);
      expect(angleDiff(got.psi[e], want.psi)).toBeLessThan(0.2);
    }
  }, 300_000);

  it('rejects candidates outside [−1, k) and tables of the wrong size', async () => {
    await expect(alignCandidates(images, refs, new Int32Array(n * m).fill(k), m, o)).rejects.toThrow(
      /outside/,
    );
    await expect(alignCandidates(images, refs, new Int32Array(3), m, o)).rejects.toThrow(/n·m/);
  });
});

describe('topClasses', () => {
  it('keeps the m smallest scores of each row, in order, ties to the lower class', () => {
    const k = 9;
    const rows = 50;
    const scores = Float32Array.from(randomArray(rows * k, 3), (v) => Math.round(v * 4)); // many ties
    const got = topClasses(scores, rows, k, 4);
    for (let i = 0; i < rows; i++) {
      const want = Array.from({ length: k }, (_, j) => j)
        .sort((a, b) => scores[i * k + a] - scores[i * k + b] || a - b)
        .slice(0, 4);
      expect(Array.from(got.subarray(i * 4, i * 4 + 4))).toEqual(want);
    }
    expect(Array.from(topClasses(Float32Array.from([3, 1]), 1, 2, 3))).toEqual([1, 0, -1]);
  });

  it('on a sparse table: each column’s class, ties to the lower class, −1 when short', () => {
    const t = emptyCandidateTable(3, 4);
    t.classes.set([5, 2, 7, -1, 1, 3, 0, 2, 4, -1, -1, -1]);
    t.score.set([3, 1, 2, Infinity, 2, 1, 2, 0.5, Infinity, Infinity, Infinity, Infinity]);
    const best = (keep: number) => Array.from(topClasses(t.score, t.n, t.m, keep, t.classes));
    expect(best(2)).toEqual([2, 7, 2, 3, 4, -1]);
    expect(best(3)).toEqual([2, 7, 5, 2, 3, 0, 4, -1, -1]);
  });
});

describe('shortlist', () => {
  it('holds the exhaustive best class of nearly every image (recall on a noisy simulated set)', async () => {
    const box = 32;
    const k = 12;
    const per = 10;
    const views = Array.from({ length: k }, (_, j) => randomBlobs(5, 11, 300 + j));
    const refs = stack(views.map((b) => renderTransformed(b, box)));
    const imgs: Float32Array[] = [];
    for (let j = 0; j < k; j++)
      for (let r = 0; r < per; r++)
        imgs.push(
          addNoise(
            renderTransformed(views[j], box, {
              psi: (97 * r + 13 * j) % 360,
              shiftX: (r % 3) - 1,
              shiftY: 0,
              mirror: r % 2 === 1,
            }),
            0.5,
            1000 + j * per + r,
          ),
        );
    const images = stack(imgs);
    const o = { box, shiftRange: 1, bandLimit: 0.25 };
    const full = await align(images, refs, o);
    const n = k * per;
    for (const m of [2, 4]) {
      const top = await shortlist(images, refs, m, { ...o, shiftRange: 0, bandLimit: 0.125 });
      let hit = 0;
      for (let i = 0; i < n; i++) {
        let best = 0;
        for (let j = 1; j < k; j++) if (full.score[i * k + j] < full.score[i * k + best]) best = j;
        if (top.subarray(i * m, (i + 1) * m).includes(best)) hit++;
      }
      expect(hit / n, `recall at m = ${m}`).toBeGreaterThanOrEqual(0.95);
      // the scale engine's coarse stage: half the box, the shift range at half resolution
      const half = await shortlist(images, refs, m, coarseOptions(o, 0.125), box);
      let halfHit = 0;
      for (let i = 0; i < n; i++) {
        let best = 0;
        for (let j = 1; j < k; j++) if (full.score[i * k + j] < full.score[i * k + best]) best = j;
        if (half.subarray(i * m, (i + 1) * m).includes(best)) halfHit++;
      }
      expect(halfHit / n, `recall at m = ${m}, half box`).toBeGreaterThanOrEqual(0.95);
    }
  }, 120_000);
});

describe('the coarse stage', () => {
  it('is the working search at half resolution when the band allows', () => {
    expect(
      coarseOptions({ box: 64, particleRadius: 28, shiftRange: 2, shiftStep: 1, bandLimit: 0.18 }, 0.09),
    ).toEqual({
      box: 32,
      particleRadius: 14,
      shiftRange: 1,
      shiftStep: 1,
      bandLimit: 0.18,
    });
    // ±1 px becomes ±0.5 coarse px in steps of 0.5; a band above 0.25 keeps the working box
    expect(coarseOptions({ box: 32, shiftRange: 1 }, 0.125)).toMatchObject({
      box: 16,
      shiftRange: 0.5,
      shiftStep: 0.5,
    });
    expect(coarseOptions({ box: 64, shiftRange: 2, bandLimit: 0.4 }, 0.3)).toMatchObject({
      box: 64,
      shiftRange: 2,
      shiftStep: 1,
      bandLimit: 0.3,
    });
    expect(coarseOptions({ box: 24, shiftRange: 0 }, 0.1)).toMatchObject({
      box: 24,
      shiftRange: 0,
      shiftStep: 1,
    });
  });

  it('crops linearly: a band-limited image becomes its samples at half resolution, a constant stays', async () => {
    const box = 64;
    const f = (x: number, y: number, scale: number) =>
      Math.cos((2 * Math.PI * (3 * x + 2 * y) * scale) / box + 0.3) +
      0.5 * Math.sin((2 * Math.PI * (5 * y - x) * scale) / box);
    const img = new Float32Array(2 * box * box);
    for (let y = 0; y < box; y++)
      for (let x = 0; x < box; x++) {
        img[y * box + x] = 1.5 + f(x, y, 1);
        img[box * box + y * box + x] = -2;
      }
    const out = await cropImages(img, box, 32);
    let err = 0;
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 32; x++) {
        err = Math.max(err, Math.abs(out[y * 32 + x] - (1.5 + f(x, y, 2))));
        err = Math.max(err, Math.abs(out[32 * 32 + y * 32 + x] + 2));
      }
    expect(err).toBeLessThan(1e-4);
    expect(await cropImages(img, box, box)).toBe(img);
  });
});
