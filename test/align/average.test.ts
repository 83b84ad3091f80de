import { describe, expect, it } from 'vitest';
import { applyAlignment } from '../../src/align/apply.js';
import { classAverages } from '../../src/align/average.js';
import { rng, randomArray } from '../helpers/random.js';

/** FRC between two images by a naive 2-D DFT over the full plane, shells round(|f|·box). */
function slowFrc(a: Float32Array, b: Float32Array, box: number): number[] {
  const shells = box / 2 + 1;
  const cross = new Array(shells).fill(0);
  const na = new Array(shells).fill(0);
  const nb = new Array(shells).fill(0);
  for (let ky = 0; ky < box; ky++)
    for (let kx = 0; kx < box; kx++) {
      let ar = 0;
      let ai = 0;
      let br = 0;
      let bi = 0;
      for (let y = 0; y < box; y++)
        for (let x = 0; x < box; x++) {
          const ph = (-2 * Math.PI * (kx * x + ky * y)) / box;
          ar += a[y * box + x] * Math.cos(ph);
          ai += a[y * box + x] * Math.sin(ph);
          br += b[y * box + x] * Math.cos(ph);
          bi += b[y * box + x] * Math.sin(ph);
        }
      const fx = kx <= box / 2 ? kx : kx - box;
      const fy = ky <= box / 2 ? ky : ky - box;
      const s = Math.round(Math.hypot(fx, fy));
      if (s >= shells) continue;
      cross[s] += ar * br + ai * bi;
      na[s] += ar * ar + ai * ai;
      nb[s] += br * br + bi * bi;
    }
  return cross.map((c, s) => c / Math.sqrt(na[s] * nb[s]));
}

const box = 16;
const n = 23;
const k = 3;
const images = randomArray(n * box * box, 9);
const r = rng(10);
const assignment = Int32Array.from({ length: n }, (_, i) =>
  i === 5 ? -1 : i % k === 2 && i > 3 ? 1 : i % k,
);
const params = {
  psi: Float32Array.from({ length: n }, () => 360 * r()),
  shiftX: Float32Array.from({ length: n }, () => Math.round(4 * r() - 2)),
  shiftY: Float32Array.from({ length: n }, () => Math.round(4 * r() - 2)),
  mirror: Uint8Array.from({ length: n }, () => (r() < 0.5 ? 1 : 0)),
};

describe('classAverages', () => {
  it('averages each class of aligned members, even/odd halves in image order, FRC by a naive DFT', async () => {
    const got = await classAverages(images, box, assignment, k, params, { threads: 2 });
    const D = box * box;
    for (let j = 0; j < k; j++) {
      const members = [...assignment.keys()].filter((i) => assignment[i] === j);
      expect(got.sizes[j]).toBe(members.length);
      const aligned = members.map((i) =>
        applyAlignment(images.subarray(i * D, (i + 1) * D), box, {
          psi: params.psi[i],
          shiftX: params.shiftX[i],
          shiftY: params.shiftY[i],
          mirror: params.mirror[i] === 1,
        }),
      );
      // The mean of no images is documented as 0 (an empty half of a 1-member class).
      const mean = (list: Float32Array[], p: number): number =>
        list.length === 0 ? 0 : list.reduce((s, a) => s + a[p], 0) / list.length;
      const even = aligned.filter((_, t) => t % 2 === 0);
      const odd = aligned.filter((_, t) => t % 2 === 1);
      for (let p = 0; p < D; p++) {
        expect(got.averages[j * D + p]).toBeCloseTo(mean(aligned, p), 5);
        expect(got.even[j * D + p]).toBeCloseTo(mean(even, p), 5);
        expect(got.odd[j * D + p]).toBeCloseTo(mean(odd, p), 5);
      }
      const frc =
        members.length < 2
          ? new Array(got.shells).fill(NaN)
          : slowFrc(got.even.subarray(j * D, (j + 1) * D), got.odd.subarray(j * D, (j + 1) * D), box);
      for (let s = 0; s < got.shells; s++)
        if (Number.isNaN(frc[s])) expect(got.frc[j * got.shells + s]).toBeNaN();
        else expect(got.frc[j * got.shells + s]).toBeCloseTo(frc[s], 4);
    }
  });

  it('gives FRC 1 and Nyquist resolution for identical halves, NaN for classes under 2 members', async () => {
    const one = randomArray(box * box, 11);
    const twice = new Float32Array(2 * box * box);
    twice.set(one);
    twice.set(one, box * box);
    const zero = {
      psi: new Float32Array(2),
      shiftX: new Float32Array(2),
      shiftY: new Float32Array(2),
      mirror: new Uint8Array(2),
    };
    const got = await classAverages(twice, box, Int32Array.from([0, 0]), 2, zero);
    for (let s = 0; s < got.shells; s++) expect(got.frc[s]).toBeCloseTo(1, 5);
    expect(got.resolution[0]).toBe(2);
    expect(got.sizes[1]).toBe(0);
    expect(Number.isNaN(got.resolution[1])).toBe(true);
    expect(got.averages.subarray(box * box).every((v) => v === 0)).toBe(true);
  });

  it('finds a resolution where the halves decorrelate (smooth signal + independent noise)', async () => {
    const D = box * box;
    const m = 40;
    const data = new Float32Array(m * D);
    const noise = randomArray(m * D, 12);
    for (let i = 0; i < m; i++)
      for (let y = 0; y < box; y++)
        for (let x = 0; x < box; x++)
          data[i * D + y * box + x] =
            5 * Math.exp(-((x - 8) ** 2 + (y - 7) ** 2) / 8) + 0.5 * noise[i * D + y * box + x];
    const zero = {
      psi: new Float32Array(m),
      shiftX: new Float32Array(m),
      shiftY: new Float32Array(m),
      mirror: new Uint8Array(m),
    };
    const got = await classAverages(data, box, new Int32Array(m), 1, zero);
    expect(got.frc[0]).toBeGreaterThan(0.99);
    expect(got.resolution[0]).toBeGreaterThan(2);
    expect(got.resolution[0]).toBeLessThan(box);
  });

  it('is identical with 1 and 2 threads and from a provider', async () => {
    const one = await classAverages(images, box, assignment, k, params, { threads: 1 });
    const two = await classAverages(
      { n, read: async (s, c) => images.slice(s * box * box, (s + c) * box * box) },
      box,
      assignment,
      k,
      params,
      { threads: 2 },
    );
    expect(two.averages).toEqual(one.averages);
    expect(two.frc).toEqual(one.frc);
  });

  it('rejects an assignment outside [−1, k)', async () => {
    await expect(classAverages(images, box, new Int32Array(n).fill(3), k, params)).rejects.toThrow(
      /assignment\[0\]/,
    );
  });
});
