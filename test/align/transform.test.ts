import { describe, expect, it } from 'vitest';
import { align } from '../../src/align/align.js';
import { applyAlignment, applyPoses } from '../../src/align/apply.js';
import { setSimd, simdEnabled } from '../../src/native.js';
import { randomArray } from '../helpers/random.js';
import { slowApply } from './reference.js';
import { randomBlobs, renderTransformed } from './synthetic.js';

function relativeError(a: Float32Array, b: Float32Array, box: number, radius: number): number {
  const c = Math.floor(box / 2);
  let num = 0;
  let den = 0;
  for (let y = 0; y < box; y++)
    for (let x = 0; x < box; x++)
      if ((x - c) ** 2 + (y - c) ** 2 <= radius ** 2) {
        num += (a[y * box + x] - b[y * box + x]) ** 2;
        den += b[y * box + x] ** 2;
      }
  return Math.sqrt(num / den);
}

describe('applyAlignment', () => {
  it('follows the documented formula (bilinear, zero outside)', () => {
    const box = 20;
    const image = randomArray(box * box, 3);
    for (const p of [
      { psi: 0, shiftX: 0, shiftY: 0, mirror: false },
      { psi: 33.3, shiftX: 1.5, shiftY: -2, mirror: false },
      { psi: 271, shiftX: -3, shiftY: 0.25, mirror: true },
    ]) {
      const got = applyAlignment(image, box, p);
      const want = slowApply(image, box, p);
      for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(want[i], 5);
    }
  });

  // The AVX2 copy does the scalar definition's operations in the same order, 4 pixels at a time,
  // with masked gathers for the taps: the same bits, at the image's edges and past them too.
  it('gives the same bits with SIMD on and off (edges, far shifts, odd boxes)', () => {
    for (const box of [16, 19, 22]) {
      const image = randomArray(box * box, box);
      for (const p of [
        { psi: 0, shiftX: 0, shiftY: 0, mirror: false },
        { psi: 33.3, shiftX: 1.5, shiftY: -2, mirror: false },
        { psi: 271, shiftX: -3, shiftY: 0.25, mirror: true },
        { psi: 123.4, shiftX: box - 0.5, shiftY: -box + 1.25, mirror: true },
        { psi: 7, shiftX: 1e10, shiftY: -3e9, mirror: false },
      ]) {
        const before = simdEnabled();
        setSimd(false);
        const plain = applyAlignment(image, box, p);
        setSimd(true);
        const fast = applyAlignment(image, box, p);
        setSimd(before);
        expect(fast, `box ${box}, pose ${JSON.stringify(p)}`).toEqual(plain);
      }
    }
  });

  it('applyPoses: every image of a stack with its own pose, as the formula, for any thread count', async () => {
    const box = 18;
    const poses = [
      { psi: 0, shiftX: 0, shiftY: 0, mirror: false },
      { psi: 33.3, shiftX: 1.5, shiftY: -2, mirror: false },
      { psi: 271, shiftX: -3, shiftY: 0.25, mirror: true },
      { psi: -140, shiftX: 0.7, shiftY: 2.9, mirror: true },
    ];
    const n = 40;
    const images = randomArray(n * box * box, 8);
    const pick = (i: number) => poses[i % poses.length];
    const arrays = {
      psi: Float32Array.from({ length: n }, (_, i) => pick(i).psi),
      shiftX: Float32Array.from({ length: n }, (_, i) => pick(i).shiftX),
      shiftY: Float32Array.from({ length: n }, (_, i) => pick(i).shiftY),
      mirror: Uint8Array.from({ length: n }, (_, i) => (pick(i).mirror ? 1 : 0)),
    };
    const one = await applyPoses(images, box, arrays, { threads: 1 });
    expect(await applyPoses(images, box, arrays, { threads: 2 })).toEqual(one);
    for (let i = 0; i < n; i++) {
      const want = slowApply(images.subarray(i * box * box, (i + 1) * box * box), box, pick(i));
      for (let p = 0; p < box * box; p++) expect(one[i * box * box + p]).toBeCloseTo(want[p], 5);
    }
  });

  it('is exact for the identity and for a quarter turn (pixels map onto pixels)', () => {
    const box = 16;
    const image = randomArray(box * box, 4);
    expect(applyAlignment(image, box, { psi: 0, shiftX: 0, shiftY: 0, mirror: false })).toEqual(image);
    const turned = applyAlignment(image, box, { psi: 90, shiftX: 0, shiftY: 0, mirror: false });
    const c = box / 2;
    // aligned(x, y) = image(c + (y − c), c − (x − c)) for ψ = 90°
    for (let y = 1; y < box; y++)
      for (let x = 1; x < box; x++)
        expect(turned[y * box + x]).toBeCloseTo(image[(c - (x - c)) * box + (c + (y - c))], 5);
  });

  it('inverts what align reports: the aligned raw image matches the reference', async () => {
    const box = 48;
    const blobs = randomBlobs(6, 12, 11);
    const reference = renderTransformed(blobs, box);
    for (const p of [
      { psi: 57.7, shiftX: 2, shiftY: -1, mirror: false },
      { psi: 203.3, shiftX: -1, shiftY: 2, mirror: true },
    ]) {
      const raw = renderTransformed(blobs, box, p);
      // The analytic inverse and the reported parameters both bring the raw image onto the reference.
      expect(relativeError(applyAlignment(raw, box, p), reference, box, 18)).toBeLessThan(0.02);
      const found = await align(raw, reference, { box, shiftRange: 2 });
      const reported = {
        psi: found.psi[0],
        shiftX: found.shiftX[0],
        shiftY: found.shiftY[0],
        mirror: found.mirror[0] === 1,
      };
      expect(relativeError(applyAlignment(raw, box, reported), reference, box, 18)).toBeLessThan(0.02);
    }
  });

  it('rejects a wrong-sized image', () => {
    expect(() =>
      applyAlignment(new Float32Array(10), 4, { psi: 0, shiftX: 0, shiftY: 0, mirror: false }),
    ).toThrow(/box²/);
  });
});
