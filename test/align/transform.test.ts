import { describe, expect, it } from 'vitest';
import { align } from '../../src/align/align.js';
import { applyAlignment } from '../../src/align/apply.js';
import { randomArray } from '../helpers/random.js';
import { bilinear } from './reference.js';
import { type Params, randomBlobs, renderTransformed } from './synthetic.js';

/** The documented formula, literally: aligned(p) = x(c + R(−ψ)·F^m·(p − c) − t). */
function slowApply(image: Float32Array, box: number, p: Params): Float32Array {
  const c = Math.floor(box / 2);
  const a = (p.psi * Math.PI) / 180;
  const out = new Float32Array(box * box);
  for (let y = 0; y < box; y++)
    for (let x = 0; x < box; x++) {
      const u = x - c;
      const v = p.mirror ? c - y : y - c;
      out[y * box + x] = bilinear(
        image,
        box,
        c + Math.cos(a) * u + Math.sin(a) * v - p.shiftX,
        c - Math.sin(a) * u + Math.cos(a) * v - p.shiftY,
      );
    }
  return out;
}

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
