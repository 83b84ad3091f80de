import { describe, expect, it } from 'vitest';
import { applyAlignment } from '../../src/align/apply.js';
import { type AverageCorrection, ctfCorrectedAverages } from '../../src/align/average.js';
import { type CtfParameters, ctfImageFull, packCtfBatch } from '../../src/ctf.js';
import { dft2, freq, idft2Real } from '../helpers/dft.js';
import { randomArray, rng } from '../helpers/random.js';

// An odd box: every frequency has its negative on the grid (no Nyquist row to disagree about),
// and 90° rotations map the frequency lattice onto itself, so the reference can look the CTF up
// at the raw-frame frequency by index instead of evaluating the formula the kernel uses.
const BOX = 9;
const PIXEL = 3;
const N = 10;
const K = 2;

function particleCtf(i: number): CtfParameters {
  return {
    defocusU: 9000 + 1500 * i,
    defocusV: 7000 + 1100 * i,
    defocusAngle: 25 * i,
    voltage: 300,
    cs: 2.7,
    amplitudeContrast: 0.1,
    phaseShift: 0,
  };
}

/**
 * The slow reference: each image aligned with the one applier, its full-plane DFT weighted by
 * its CTF at the raw-frame frequency M·k (M = R(−ψ)·F^mirror, a lattice point for ψ ∈ 90°·ℤ),
 * the class sums, the half-sum FRC per shell, 1/τ² = a(1 − F)/F and the inverse DFT.
 */
function slowAverages(
  images: Float32Array,
  assignment: Int32Array,
  poses: { psi: Float32Array; mirror: Uint8Array },
  correction: AverageCorrection,
) {
  const D = BOX * BOX;
  const c = Math.floor(BOX / 2);
  const shells = c + 1;
  const sums = Array.from({ length: K }, () => ({
    re: [new Float64Array(D), new Float64Array(D)],
    im: [new Float64Array(D), new Float64Array(D)],
    w: [new Float64Array(D), new Float64Array(D)],
    n: 0,
  }));
  for (let i = 0; i < N; i++) {
    const j = assignment[i];
    if (j < 0) continue;
    const aligned = applyAlignment(images.subarray(i * D, (i + 1) * D), BOX, {
      psi: poses.psi[i],
      shiftX: 0,
      shiftY: 0,
      mirror: poses.mirror[i] === 1,
    });
    const X = dft2(aligned, BOX);
    const ctf = ctfImageFull(particleCtf(i), BOX, PIXEL);
    const a = (poses.psi[i] * Math.PI) / 180;
    const half = sums[j].n % 2;
    for (let ky = 0; ky < BOX; ky++)
      for (let kx = 0; kx < BOX; kx++) {
        const fx = freq(kx, BOX);
        const fy = poses.mirror[i] ? -freq(ky, BOX) : freq(ky, BOX);
        const rx = Math.round(Math.cos(a) * fx + Math.sin(a) * fy);
        const ry = Math.round(-Math.sin(a) * fx + Math.cos(a) * fy);
        let w = ctf[(ry + c) * BOX + (rx + c)];
        if (correction === 'phase-flip') w = w < 0 ? -1 : 1;
        if (correction === 'none') w = 1;
        const g = ky * BOX + kx;
        sums[j].re[half][g] += w * X.re[g];
        sums[j].im[half][g] += w * X.im[g];
        sums[j].w[half][g] += w * w;
      }
    sums[j].n++;
  }
  const shellOf = (g: number): number =>
    Math.round(Math.hypot(freq(g % BOX, BOX), freq(Math.floor(g / BOX), BOX)));
  return sums.map((s) => {
    const cross = new Float64Array(shells);
    const ne = new Float64Array(shells);
    const no = new Float64Array(shells);
    const wsum = new Float64Array(shells);
    const cnt = new Float64Array(shells);
    for (let g = 0; g < D; g++) {
      const sh = shellOf(g);
      if (sh >= shells) continue;
      cross[sh] += s.re[0][g] * s.re[1][g] + s.im[0][g] * s.im[1][g];
      ne[sh] += s.re[0][g] ** 2 + s.im[0][g] ** 2;
      no[sh] += s.re[1][g] ** 2 + s.im[1][g] ** 2;
      wsum[sh] += (s.w[0][g] + s.w[1][g]) / 2;
      cnt[sh]++;
    }
    const frc = Array.from(cross, (x, sh) => x / Math.sqrt(ne[sh] * no[sh]));
    const reg = frc.map((f, sh) => {
      const fc = Math.min(1 - 1e-6, Math.max(1e-3, f));
      return correction === 'wiener' ? ((wsum[sh] / cnt[sh]) * (1 - fc)) / fc : 0;
    });
    const re = new Float64Array(D);
    const im = new Float64Array(D);
    for (let g = 0; g < D; g++) {
      const den = s.w[0][g] + s.w[1][g] + reg[Math.min(shellOf(g), shells - 1)];
      re[g] = (s.re[0][g] + s.re[1][g]) / den;
      im[g] = (s.im[0][g] + s.im[1][g]) / den;
    }
    return { average: idft2Real(re, im, BOX), frc };
  });
}

describe('ctfCorrectedAverages', () => {
  const images = randomArray(N * BOX * BOX, 11);
  const r = rng(5);
  const assignment = Int32Array.from({ length: N }, (_, i) => (i === 3 ? -1 : i % K));
  const psi = Float32Array.from({ length: N }, () => 90 * Math.floor(4 * r()));
  const mirror = Uint8Array.from({ length: N }, () => (r() < 0.5 ? 1 : 0));
  const zeros = new Float32Array(N);
  const ctfs = Array.from({ length: N }, (_, i) => particleCtf(i));
  const ctf = packCtfBatch(
    Object.fromEntries(
      (Object.keys(ctfs[0]) as (keyof CtfParameters)[]).map((f) => [
        f,
        Float64Array.from(ctfs, (p) => p[f] ?? 0),
      ]),
    ) as never,
    N,
  );

  for (const correction of ['wiener', 'phase-flip', 'none'] as const)
    it(`matches a direct DFT computation (${correction})`, async () => {
      const got = await ctfCorrectedAverages(
        images,
        BOX,
        assignment,
        K,
        { psi, shiftX: zeros, shiftY: zeros, mirror },
        { pixelSize: PIXEL, ctf, correction, threads: 2 },
      );
      const want = slowAverages(images, assignment, { psi, mirror }, correction);
      expect(Array.from(got.sizes)).toEqual([5, 4]);
      for (let j = 0; j < K; j++) {
        const avg = got.averages.subarray(j * BOX * BOX, (j + 1) * BOX * BOX);
        const scale = Math.max(...Array.from(want[j].average, Math.abs));
        want[j].average.forEach((v, p) => expect(Math.abs(avg[p] - v)).toBeLessThan(1e-4 * scale));
        want[j].frc.forEach((f, s) => expect(got.frc[j * got.shells + s]).toBeCloseTo(f, 4));
      }
    });

  it('is the same for any thread count and crops to a smaller box', async () => {
    const run = (threads: number, outBox?: number) =>
      ctfCorrectedAverages(
        images,
        BOX,
        assignment,
        K,
        { psi, shiftX: zeros, shiftY: zeros, mirror },
        {
          pixelSize: PIXEL,
          ctf,
          threads,
          ...(outBox ? { outBox } : {}),
        },
      );
    const [a, b] = [await run(1), await run(2)];
    expect(Array.from(a.averages)).toEqual(Array.from(b.averages));
    const small = await run(2, 5);
    expect(small.box).toBe(5);
    expect(small.pixelSize).toBeCloseTo((PIXEL * BOX) / 5, 10);
    expect(small.averages.length).toBe(K * 25);
  });

  it('rejects a missing CTF', async () => {
    await expect(
      ctfCorrectedAverages(
        images,
        BOX,
        assignment,
        K,
        { psi, shiftX: zeros, shiftY: zeros, mirror },
        {
          pixelSize: PIXEL,
          correction: 'wiener',
        },
      ),
    ).rejects.toThrow(/ctf must be a Float64Array/);
  });
});
