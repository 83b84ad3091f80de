import { describe, expect, it } from 'vitest';
import { eulerMatrix, transpose } from '../../src/sim/euler.js';
import { setSimd, simdEnabled } from '../../src/native.js';
import { project, projectMatrices } from '../../src/sim/project.js';
import { randomArray, rng } from '../helpers/random.js';

/** Trilinear sample of vol (size³, zero outside) at (x, y, z). */
function sample(vol: Float32Array, size: number, x: number, y: number, z: number): number {
  const at = (i: number, j: number, k: number) =>
    i < 0 || j < 0 || k < 0 || i >= size || j >= size || k >= size ? 0 : vol[(k * size + j) * size + i];
  const i = Math.floor(x);
  const j = Math.floor(y);
  const k = Math.floor(z);
  const fx = x - i;
  const fy = y - j;
  const fz = z - k;
  let s = 0;
  for (const [di, wx] of [
    [0, 1 - fx],
    [1, fx],
  ])
    for (const [dj, wy] of [
      [0, 1 - fy],
      [1, fy],
    ])
      for (const [dk, wz] of [
        [0, 1 - fz],
        [1, fz],
      ])
        s += wx * wy * wz * at(i + di, j + dj, k + dk);
  return s;
}

/** The projector's definition, written out slowly: Σ_t V(M·(x − c + sx, y − c + sy, t) + c). */
function slowProject(
  vol: Float32Array,
  size: number,
  m: number[],
  box: number,
  sx = 0,
  sy = 0,
): Float64Array {
  const c = Math.floor(size / 2);
  const ci = Math.floor(box / 2);
  const out = new Float64Array(box * box);
  for (let y = 0; y < box; y++)
    for (let x = 0; x < box; x++) {
      const px = x - ci + sx;
      const py = y - ci + sy;
      let s = 0;
      for (let k = -3 * size; k <= 3 * size; k++) {
        const t = k - c;
        s += sample(
          vol,
          size,
          m[0] * px + m[1] * py + m[2] * t + c,
          m[3] * px + m[4] * py + m[5] * t + c,
          m[6] * px + m[7] * py + m[8] * t + c,
        );
      }
      out[y * box + x] = s;
    }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

const angles = (rot: number[], tilt: number[], psi: number[]) => ({
  rot: Float64Array.from(rot),
  tilt: Float64Array.from(tilt),
  psi: Float64Array.from(psi),
});

describe('project', () => {
  const size = 11;
  const vol = randomArray(size ** 3, 11).map((v) => v + 1);

  it('matches the slow definition at random angles, with shifts and a larger box', async () => {
    const r = rng(5);
    const n = 6;
    const rot = Array.from({ length: n }, () => 360 * r());
    const tilt = Array.from({ length: n }, () => 180 * r());
    const psi = Array.from({ length: n }, () => 360 * r());
    const ox = Float64Array.from({ length: n }, () => 6 * r() - 3);
    const oy = Float64Array.from({ length: n }, () => 6 * r() - 3);
    const box = 14;
    const got = await project(vol, size, angles(rot, tilt, psi), {
      box,
      pixelSize: 1.5,
      originXAngst: ox,
      originYAngst: oy,
    });
    for (let i = 0; i < n; i++) {
      const m = transpose(eulerMatrix(rot[i], tilt[i], psi[i]));
      const want = slowProject(vol, size, m, box, ox[i] / 1.5, oy[i] / 1.5);
      expect(maxAbsDiff(got.subarray(i * box * box, (i + 1) * box * box), want)).toBeLessThan(
        1e-4 * size * 2,
      );
    }
  });

  it('at (0, 0, 0) is the plain sum over z', async () => {
    const got = await project(vol, size, angles([0], [0], [0]));
    const want = new Float64Array(size * size);
    for (let z = 0; z < size; z++) for (let p = 0; p < size * size; p++) want[p] += vol[z * size * size + p];
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-4);
  });

  it('turns the image by psi: psi = 90° gives img[y][x] = img0[x][2c − y]', async () => {
    const [a, b] = [
      await project(vol, size, angles([30], [50], [0])),
      await project(vol, size, angles([30], [50], [90])),
    ];
    const c = Math.floor(size / 2);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) expect(b[y * size + x]).toBeCloseTo(a[x * size + (2 * c - y)], 4);
  });

  it('moves the image by the origin: shifted(x, y) = centred(x + ox, y + oy)', async () => {
    const one = angles([10], [70], [200]);
    const a = await project(vol, size, one, { box: 21 });
    const b = await project(vol, size, one, {
      box: 21,
      pixelSize: 2,
      originXAngst: Float64Array.of(4),
      originYAngst: Float64Array.of(-6),
    });
    for (let y = 3; y < 18; y++)
      for (let x = 0; x < 18; x++) expect(b[y * 21 + x]).toBeCloseTo(a[(y - 3) * 21 + x + 2], 4);
  });

  it('gives bit-identical images with 1 and 2 threads', async () => {
    const r = rng(9);
    const n = 40;
    const m = new Float64Array(9 * n);
    for (let i = 0; i < n; i++) m.set(transpose(eulerMatrix(360 * r(), 180 * r(), 360 * r())), 9 * i);
    const a = await projectMatrices(vol, size, m, { threads: 1 });
    const b = await projectMatrices(vol, size, m, { threads: 2 });
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
  });

  it('gives bit-identical images with the AVX2 and the portable sampling kernels', async () => {
    const r = rng(13);
    const n = 20;
    const a = angles(
      Array.from({ length: n }, () => 360 * r()),
      Array.from({ length: n }, () => 180 * r()),
      Array.from({ length: n }, () => 360 * r()),
    );
    const simd = await project(vol, size, a, { box: 15 });
    const wasOn = simdEnabled();
    setSimd(false);
    try {
      expect(simdEnabled()).toBe(false);
      const portable = await project(vol, size, a, { box: 15 });
      expect(Buffer.from(simd.buffer).equals(Buffer.from(portable.buffer))).toBe(true);
    } finally {
      setSimd(wasOn);
    }
  });

  it('rejects bad arguments with errors naming them', async () => {
    const one = angles([0], [0], [0]);
    await expect(project(new Float32Array(10), size, one)).rejects.toThrow(/size³/);
    await expect(project([1] as unknown as Float32Array, 1, one)).rejects.toThrow(TypeError);
    await expect(project(vol, size, { rot: [0], tilt: [0], psi: [0] } as never)).rejects.toThrow(
      /angles.rot/,
    );
    await expect(project(vol, size, angles([0, 1], [0], [0]))).rejects.toThrow(/same length/);
    await expect(project(vol, size, angles([NaN], [0], [0]))).rejects.toThrow(/not finite/);
    await expect(project(vol, size, one, { box: 0 })).rejects.toThrow(/box/);
    await expect(project(vol, size, one, { pixelSize: 0 })).rejects.toThrow(/pixelSize/);
    await expect(project(vol, size, one, { originXAngst: new Float64Array(2) })).rejects.toThrow(
      /originXAngst/,
    );
    await expect(project(vol, size, one, { threads: 0 })).rejects.toThrow(/threads/);
    await expect(projectMatrices(vol, size, new Float64Array(8))).rejects.toThrow(/multiple of 9/);
    const controller = new AbortController();
    controller.abort();
    await expect(project(vol, size, one, { signal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
  });
});
