import { describe, expect, it } from 'vitest';
import { applyCtf, ctfImage, ctfImageFull, phaseFlip, type CtfParameters } from '../src/ctf.js';
import { dft2, freq, idft2Real } from './helpers/dft.js';
import { randomArray } from './helpers/random.js';

/** Relativistic electron wavelength in Å from physical constants (independent of RELION's fit). */
function wavelength(kV: number): number {
  const h = 6.62607015e-34;
  const m = 9.1093837015e-31;
  const e = 1.602176634e-19;
  const c = 299792458;
  const V = kV * 1e3;
  return (h / Math.sqrt(2 * m * e * V * (1 + (e * V) / (2 * m * c * c)))) * 1e10;
}

/** RELION's fit of the relativistic wavelength (Å); within 1e-5 of the exact formula. */
function relionWavelength(kV: number): number {
  const V = kV * 1e3;
  return 12.2643247 / Math.sqrt(V * (1 + V * 0.978466e-6));
}

/** RELION's CTF written out slowly (ctf.h: −sin γ), frequencies in 1/Å. */
function slowCtf(p: CtfParameters, fx: number, fy: number): number {
  const lambda = relionWavelength(p.voltage);
  const u2 = fx * fx + fy * fy;
  const theta = Math.atan2(fy, fx);
  const a = (p.defocusAngle * Math.PI) / 180;
  const df =
    u2 === 0
      ? -(p.defocusU + p.defocusV) / 2
      : -((p.defocusU + p.defocusV) / 2 + ((p.defocusU - p.defocusV) / 2) * Math.cos(2 * (theta - a)));
  const q = p.amplitudeContrast;
  const gamma =
    Math.PI * lambda * df * u2 +
    (Math.PI / 2) * p.cs * 1e7 * lambda ** 3 * u2 * u2 -
    ((p.phaseShift ?? 0) * Math.PI) / 180 -
    Math.atan(q / Math.sqrt(1 - q * q));
  return -Math.sin(gamma);
}

const astig: CtfParameters = {
  defocusU: 15000,
  defocusV: 12000,
  defocusAngle: 30,
  voltage: 300,
  cs: 2.7,
  amplitudeContrast: 0.1,
  phaseShift: 10,
};

describe('ctfImage', () => {
  it("matches RELION's formula at every bin of the rfft half-plane (odd and even boxes)", () => {
    for (const box of [32, 33]) {
      const pix = 1.7;
      const got = ctfImage(astig, box, pix);
      const w = (box >> 1) + 1;
      expect(got.length).toBe(box * w);
      let worst = 0;
      for (let ky = 0; ky < box; ky++)
        for (let kx = 0; kx < w; kx++) {
          const want = slowCtf(astig, kx / (box * pix), freq(ky, box) / (box * pix));
          worst = Math.max(worst, Math.abs(got[ky * w + kx] - want));
        }
      expect(worst).toBeLessThan(1e-4);
    }
  });

  it("uses a wavelength within 1e-5 of the exact relativistic one (RELION's fit)", () => {
    for (const kV of [100, 200, 300])
      expect(Math.abs(relionWavelength(kV) / wavelength(kV) - 1)).toBeLessThan(1e-5);
  });

  it('is Q0 at zero frequency (positive contrast transfer) and −sin(phase) with a phase plate', () => {
    expect(ctfImage({ ...astig, phaseShift: 0 }, 16, 1)[0]).toBeCloseTo(0.1, 6);
    expect(ctfImage({ ...astig, amplitudeContrast: 0, phaseShift: 90 }, 16, 1)[0]).toBeCloseTo(1, 6);
  });

  it('has its zeros where the formula puts them, along the U and the V axis', () => {
    // Cs = 0, Q0 = 0: zeros at π·λ·Δf·u² = kπ. Choose box/pixel so the first zero along U and
    // the second along V fall on bin 10 of a 100-px box.
    const box = 100;
    const pix = 2;
    const u = 10 / (box * pix);
    const lambda = wavelength(200);
    const p: CtfParameters = {
      defocusU: 1 / (lambda * u * u),
      defocusV: 2 / (lambda * u * u),
      defocusAngle: 0,
      voltage: 200,
      cs: 0,
      amplitudeContrast: 0,
    };
    const half = ctfImage(p, box, pix);
    const w = box / 2 + 1;
    expect(Math.abs(half[10])).toBeLessThan(1e-4); // (kx, ky) = (10, 0): along U
    expect(Math.abs(half[9])).toBeGreaterThan(0.1);
    expect(Math.abs(half[10 * w])).toBeLessThan(1e-4); // (0, 10): along V, second zero
    expect(Math.sign(half[9 * w])).not.toBe(Math.sign(half[11 * w]));
    // Rotating the astigmatism by 90° swaps the two axes.
    const turned = ctfImage({ ...p, defocusAngle: 90 }, box, pix);
    expect(turned[10 * w]).toBeCloseTo(half[10], 5);
    expect(turned[9]).toBeCloseTo(half[9 * w], 5);
  });

  it('ctfImageFull is centred and even: C(−f) = C(f)', () => {
    for (const box of [16, 17]) {
      const full = ctfImageFull(astig, box, 1.3);
      const c = box >> 1;
      expect(full[c * box + c]).toBeCloseTo(slowCtf(astig, 0, 0), 5);
      for (let y = 1; y < box; y++)
        for (let x = 1; x < box; x++) {
          const my = 2 * c - y;
          const mx = 2 * c - x;
          if (my < box && mx < box) expect(full[y * box + x]).toBeCloseTo(full[my * box + mx], 6);
          expect(full[y * box + x]).toBeCloseTo(
            slowCtf(astig, (x - c) / (box * 1.3), (y - c) / (box * 1.3)),
            4,
          );
        }
    }
  });

  it('rejects bad parameters, naming them', () => {
    expect(() => ctfImage({ ...astig, amplitudeContrast: 1 }, 16, 1)).toThrow(/amplitudeContrast/);
    expect(() => ctfImage({ ...astig, voltage: 0 }, 16, 1)).toThrow(/voltage/);
    expect(() => ctfImage({ ...astig, defocusU: NaN }, 16, 1)).toThrow(/defocusU/);
    expect(() => ctfImage(astig, 1, 1)).toThrow(/box/);
    expect(() => ctfImage(astig, 16, 0)).toThrow(/pixelSize/);
  });
});

describe('applyCtf and phaseFlip', () => {
  // An odd box has no Nyquist column, whose two halves an astigmatic CTF treats differently (so
  // any even-box result there is a convention, RELION's included).
  const box = 13;
  const pix = 3;
  const n = 3;
  const images = randomArray(n * box * box, 21);
  const batch = {
    defocusU: Float64Array.of(9000, 15000, 22000),
    defocusV: Float64Array.of(8000, 15000, 20000),
    defocusAngle: Float64Array.of(10, 0, 75),
    voltage: 300,
    cs: 2.7,
    amplitudeContrast: 0.07,
  };
  const paramsOf = (i: number): CtfParameters => ({
    defocusU: batch.defocusU[i],
    defocusV: batch.defocusV[i],
    defocusAngle: batch.defocusAngle[i],
    voltage: 300,
    cs: 2.7,
    amplitudeContrast: 0.07,
  });

  /** IDFT(DFT(image) · g(CTF)) computed slowly. */
  function slowFilter(i: number, g: (c: number) => number): Float64Array {
    const { re, im } = dft2(images.subarray(i * box * box, (i + 1) * box * box), box);
    for (let ky = 0; ky < box; ky++)
      for (let kx = 0; kx < box; kx++) {
        const c = g(slowCtf(paramsOf(i), freq(kx, box) / (box * pix), freq(ky, box) / (box * pix)));
        re[ky * box + kx] *= c;
        im[ky * box + kx] *= c;
      }
    return idft2Real(re, im, box);
  }

  it('applyCtf equals IDFT(DFT(image)·CTF), each image with its own CTF', async () => {
    const got = await applyCtf(images, box, pix, batch);
    for (let i = 0; i < n; i++) {
      const want = slowFilter(i, (c) => c);
      for (let p = 0; p < box * box; p++) expect(got[i * box * box + p]).toBeCloseTo(want[p], 4);
    }
  });

  it('phaseFlip equals IDFT(DFT(image)·sign(CTF)); twice is the identity', async () => {
    const once = await phaseFlip(images, box, pix, batch);
    for (let i = 0; i < n; i++) {
      const want = slowFilter(i, (c) => (c < 0 ? -1 : 1));
      for (let p = 0; p < box * box; p++) expect(once[i * box * box + p]).toBeCloseTo(want[p], 4);
    }
    const twice = await phaseFlip(once, box, pix, batch);
    for (let p = 0; p < images.length; p++) expect(twice[p]).toBeCloseTo(images[p], 5);
  });

  it('phase flipping a CTF-modulated image restores positive transfer: spectrum = |CTF|·original', async () => {
    const flipped = await phaseFlip(await applyCtf(images, box, pix, batch), box, pix, batch);
    for (let i = 0; i < n; i++) {
      const a = dft2(images.subarray(i * box * box, (i + 1) * box * box), box);
      const b = dft2(flipped.subarray(i * box * box, (i + 1) * box * box), box);
      for (let ky = 0; ky < box; ky++)
        for (let kx = 0; kx < box; kx++) {
          const k = ky * box + kx;
          const c = Math.abs(slowCtf(paramsOf(i), freq(kx, box) / (box * pix), freq(ky, box) / (box * pix)));
          expect(b.re[k]).toBeCloseTo(c * a.re[k], 3);
          expect(b.im[k]).toBeCloseTo(c * a.im[k], 3);
        }
    }
  });

  it('gives bit-identical results with 1 and 2 threads, and does not modify its input', async () => {
    const big = randomArray(200 * 32 * 32, 5);
    const copy = big.slice();
    const many = {
      defocusU: Float64Array.from({ length: 200 }, (_, i) => 10000 + 50 * i),
      defocusV: Float64Array.from({ length: 200 }, (_, i) => 9000 + 50 * i),
      defocusAngle: new Float64Array(200).fill(20),
      voltage: 300,
      cs: 2.7,
      amplitudeContrast: 0.1,
    };
    const a = await phaseFlip(big, 32, 1.5, many, { threads: 1 });
    const b = await phaseFlip(big, 32, 1.5, many, { threads: 2 });
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(Buffer.from(big.buffer).equals(Buffer.from(copy.buffer))).toBe(true);
  });

  it('rejects bad arguments with errors naming them', async () => {
    await expect(phaseFlip(images, 12, pix, batch)).rejects.toThrow(/multiple of box/);
    await expect(phaseFlip(images, box, pix, { ...batch, defocusU: new Float64Array(2) })).rejects.toThrow(
      /defocusU has 2 values/,
    );
    await expect(phaseFlip(images, box, pix, { ...batch, cs: -1 })).rejects.toThrow(/cs/);
    await expect(
      phaseFlip(images, box, pix, { ...batch, voltage: '300' as unknown as number }),
    ).rejects.toThrow(TypeError);
    const nan = images.slice();
    nan[7] = NaN;
    await expect(phaseFlip(nan, box, pix, batch)).rejects.toThrow(/images\[7\]/);
    await expect(phaseFlip(images, box, pix, batch, { threads: 0 })).rejects.toThrow(/threads/);
  });
});
