/**
 * The working stack: the fused native pass (screen + phase flip + shift + crop + normalise +
 * mask + float16) against the step-by-step reference, and the streamed (scratch file) stack
 * against the in-memory one — identical values, identical classification — and bad scratch
 * folders.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { phaseFlip } from '../../src/ctf.js';
import { decodeFloat16, encodeFloat16Bits } from '../../src/io/float16.js';
import { createStackWriter, openParticles } from '../../src/io/index.js';
import { classifyParticles } from '../../src/pipeline/classify.js';
import { particleInput } from '../../src/pipeline/particles.js';
import { resolveParams } from '../../src/pipeline/params.js';
import { preprocessImages } from '../../src/pipeline/preprocess.js';
import { screenImages } from '../../src/pipeline/quarantine.js';
import { runClassification } from '../../src/pipeline/run.js';
import { type ImageProvider, imageBlocks } from '../../src/align/provider.js';
import { imageSpectra } from '../../src/align/candidates.js';
import {
  createScratchStack,
  decodeFloat16Native,
  encodeFloat16Native,
  scratchSpectra,
} from '../../src/pipeline/scratch.js';
import { type ParticleInput, prepareStack, stackImages } from '../../src/pipeline/stack.js';
import { randomArray } from '../helpers/random.js';
import { simulateStack } from './simulate.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ackmeans-stack-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Bit patterns of every half, and float16 values of random floats over many magnitudes. */
describe('float16 conversion (native)', () => {
  it('agrees with the JavaScript codec on every bit pattern and on random floats', async () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const decoded = await decodeFloat16Native(all);
    const re = await encodeFloat16Native(decoded);
    const js = new Float32Array(65536);
    decodeFloat16(all, js);
    expect(js).toEqual(decoded); // toEqual: NaN equals NaN
    for (let h = 0; h < 65536; h++) {
      const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (isNaN) expect(Number.isNaN(decoded[h])).toBe(true);
      else expect(re[h]).toBe(h); // every half round-trips exactly
    }
    const values = randomArray(20000, 3).map((v, i) => v * 2 ** ((i % 40) - 25));
    values[0] = 65520; // rounds to infinity
    values[1] = 65519; // the largest finite half
    values[2] = 2 ** -25; // a tie below the smallest subnormal: to even (0)
    values[3] = 3 * 2 ** -25; // a tie between subnormals: to even
    const bits = await encodeFloat16Native(values);
    for (let i = 0; i < values.length; i++) expect(bits[i]).toBe(encodeFloat16Bits(values[i]));
  });
});

describe('fused preprocessing', () => {
  const pixelSize = 2.5;
  const ctfColumns = (n: number) => ({
    defocusU: Float64Array.from({ length: n }, (_, i) => 9000 + 700 * i),
    defocusV: Float64Array.from({ length: n }, (_, i) => 8800 + 650 * i),
    defocusAngle: Float64Array.from({ length: n }, (_, i) => 10 * i),
    voltage: new Float64Array(n).fill(300),
    cs: new Float64Array(n).fill(2.7),
    amplitudeContrast: new Float64Array(n).fill(0.1),
    phaseShift: new Float64Array(n),
  });

  /** A ParticleInput over images in memory. */
  function memoryInput(images: Float32Array, box: number, extra: Partial<ParticleInput> = {}): ParticleInput {
    return {
      count: images.length / (box * box),
      box,
      pixelSize,
      readBatch: async (start, count) => images.slice(start * box * box, (start + count) * box * box),
      ...extra,
    };
  }

  const params = (box: number, outBox: number, phaseFlip: boolean) => ({
    box: outBox,
    radius: outBox * 0.35,
    invert: true,
    phaseFlip,
    workingPixelSize: (pixelSize * box) / outBox,
  });

  for (const [N, m] of [
    [40, 24],
    [33, 33],
    [32, 32],
  ] as const)
    it(`equals screening, then phase flip, shift and crop one after another (${N} -> ${m})`, async () => {
      const n = 7;
      const images = randomArray(n * N * N, N + m);
      images.fill(1.5, 2 * N * N, 3 * N * N); // constant
      images[4 * N * N + 17] = NaN;
      const ctf = ctfColumns(n);
      const ox = Float64Array.from({ length: n }, (_, i) => (i - 3) * 1.7 * pixelSize);
      const oy = Float64Array.from({ length: n }, (_, i) => (2 - i) * 0.6 * pixelSize);
      const input = memoryInput(images, N, { ctf, poses: { originXAngst: ox, originYAngst: oy } });
      const stack = await prepareStack(input, params(N, m, true), { threads: 2 });
      // reference: the JS screening, phaseFlip (its own FFT round trip at N), then preprocessImages
      const reasons = screenImages(images, N * N);
      expect(stack.quarantined).toEqual(reasons.flatMap((r, index) => (r ? [{ index, reason: r }] : [])));
      const good = reasons.flatMap((r, i) => (r ? [] : [i]));
      expect(Array.from(stack.kept)).toEqual(good);
      const picked = new Float32Array(good.length * N * N);
      good.forEach((i, r) => picked.set(images.subarray(i * N * N, (i + 1) * N * N), r * N * N));
      const pick = (a: Float64Array) => Float64Array.from(good, (i) => a[i]);
      const flipped = await phaseFlip(picked, N, pixelSize, {
        defocusU: pick(ctf.defocusU),
        defocusV: pick(ctf.defocusV),
        defocusAngle: pick(ctf.defocusAngle),
        voltage: 300,
        cs: 2.7,
        amplitudeContrast: 0.1,
      });
      const centre = (Math.floor(m / 2) * N) / m - Math.floor(N / 2);
      const shifts = new Float32Array(good.length * 2);
      good.forEach((i, r) => {
        shifts[2 * r] = ox[i] / pixelSize + centre;
        shifts[2 * r + 1] = oy[i] / pixelSize + centre;
      });
      const expected = await preprocessImages(flipped, {
        box: N,
        outBox: m,
        radius: m * 0.35,
        invert: true,
        shifts,
        threads: 1,
      });
      const got = await stackImages(stack);
      expect(got.length).toBe(expected.length);
      let worst = 0;
      for (let i = 0; i < got.length; i++) {
        // float16 rounding: half an ulp of the value (2^-11 relative), plus float32 noise
        const tol = Math.abs(expected[i]) * 2 ** -10 + 1e-4;
        worst = Math.max(worst, Math.abs(got[i] - expected[i]) / tol);
      }
      expect(worst).toBeLessThan(1);
      // every value is a float16 value
      const bits = await encodeFloat16Native(got);
      expect(await decodeFloat16Native(bits)).toEqual(got);
    });

  it('decodes float16 stacks natively: the same working stack as decoding in JavaScript', async () => {
    const dir = tempDir();
    const N = 36;
    const n = 9;
    const images = randomArray(n * N * N, 77);
    const write = async (name: string, mode: 2 | 12) => {
      const w = await createStackWriter(join(dir, name), { nx: N, ny: N, pixelSize, mode });
      await w.append(images);
      await w.close();
      return openParticles(join(dir, name));
    };
    const half = await write('half.mrcs', 12);
    const single = await write('single.mrcs', 2);
    expect(await single.readBatchFloat16(0, 2)).toBeUndefined();
    const bits = await half.readBatchFloat16(3, 4);
    const decoded = new Float32Array(bits?.length ?? 0);
    decodeFloat16(bits as Uint16Array, decoded);
    expect(decoded).toEqual(await half.readBatch(3, 4));
    // into a caller's buffer: the same bits
    const into = new Uint16Array(6 * N * N).fill(7);
    const view = await half.readBatchFloat16(3, 4, into);
    expect(view).toEqual(bits);
    expect(into.subarray(4 * N * N).every((v) => v === 7)).toBe(true);
    const input = particleInput(half);
    // batches of 4 (the last one short) read into two reused buffers
    const viaNative = await prepareStack(input, params(N, 24, false), { threads: 2, batch: 4 });
    const viaJs = await prepareStack({ ...input, readBatchFloat16: undefined }, params(N, 24, false), {
      threads: 2,
      batch: 4,
    });
    expect(viaJs.images).toEqual((await prepareStack(input, params(N, 24, false), { threads: 2 })).images);
    expect(viaNative.images).toEqual(viaJs.images);
    expect(viaNative.kept).toEqual(viaJs.kept);
    await half.close();
    await single.close();
  });

  it('streams through a scratch file with exactly the in-memory values, for any thread count', async () => {
    const N = 36;
    const m = 20;
    const n = 150;
    const images = randomArray(n * N * N, 9);
    images[5 * N * N] = Infinity;
    const input = memoryInput(images, N, { ctf: ctfColumns(n) });
    const p = params(N, m, true);
    const memory = await prepareStack(input, p, { threads: 1, batch: 17 });
    const dir = tempDir();
    const streamed = await prepareStack(input, p, { threads: 2, scratch: dir, inMemoryLimit: 0, batch: 16 });
    try {
      expect(memory.images).toBeInstanceOf(Float32Array);
      expect(streamed.images).not.toBeInstanceOf(Float32Array);
      expect(streamed.scratchBytes).toBe((n - 1) * m * m * 2);
      expect(readdirSync(dir)).toEqual([]); // the scratch file is unlinked at once
      expect(Array.from(streamed.kept)).toEqual(Array.from(memory.kept));
      expect(await stackImages(streamed)).toEqual(memory.images);
      // the largest |value|, kept while writing: that of the images read back
      let most = 0;
      for (const v of memory.images as Float32Array) most = Math.max(most, Math.abs(v));
      expect((streamed.images as ImageProvider).maxAbs).toBe(most);
      // tiles read back equal the same rows
      const provider = streamed.images as { read(s: number, c: number): Promise<Float32Array> };
      const tile = await provider.read(37, 11);
      expect(tile).toEqual((memory.images as Float32Array).subarray(37 * m * m, 48 * m * m));
      const scratch = streamed.images as ImageProvider;
      const out = new Float32Array(20 * m * m);
      expect(await scratch.readInto?.(37, 11, out)).toEqual(tile);
      expect(await decodeFloat16Native(new Uint16Array([0x3c00, 0xc000]), out)).toEqual(
        new Float32Array([1, -2]),
      );
      // blocks through two reused buffers: each equals its rows; block b and b + 2 share memory
      const seen: ArrayBufferLike[] = [];
      for await (const block of imageBlocks(scratch, m, 16)) {
        expect(block.images).toEqual(
          (memory.images as Float32Array).subarray(block.start * m * m, (block.start + block.count) * m * m),
        );
        seen.push(block.images.buffer);
      }
      expect(seen.length).toBe(Math.ceil((n - 1) / 16));
      expect(seen[2]).toBe(seen[0]);
      expect(seen[1]).not.toBe(seen[0]);
      // chosen images (runs and single ones, the last one) gathered: the same rows, in order
      const items = Int32Array.from([0, 1, 2, 30, 31, 77, 100, 101, 102, 103, n - 2]);
      const rows = new Float32Array(items.length * m * m);
      items.forEach((i, r) =>
        rows.set((memory.images as Float32Array).subarray(i * m * m, (i + 1) * m * m), r * m * m),
      );
      expect(await scratch.gather?.(items)).toEqual(rows);
      const into = await scratch.gather?.(items, out);
      expect(into?.buffer).toBe(out.buffer);
      expect(into).toEqual(rows);
      expect(await scratch.gather?.(new Int32Array(0))).toEqual(new Float32Array(0));
      await expect(scratch.gather?.(Int32Array.from([n - 1]))).rejects.toThrow(RangeError);
      await expect(scratch.gather?.(Int32Array.from([-1]))).rejects.toThrow(RangeError);
      await expect(scratch.gather?.(items, new Float32Array(3))).rejects.toThrow(RangeError);
      // closing while a gather runs waits for it: the gather completes with the rows
      const inFlight = scratch.gather?.(items);
      await streamed.close();
      expect(await inFlight).toEqual(rows);
    } finally {
      await streamed.close();
    }
    await expect((streamed.images as ImageProvider).gather?.(Int32Array.from([0]))).rejects.toThrow(/closed/);
  });
});

describe('classification from a streamed working stack', () => {
  it('gives exactly the classes, poses and averages of the in-memory stack', async () => {
    const dir = tempDir();
    const sim = await simulateStack(dir, { box: 32, perView: 10, ctf: true, seed: 5 });
    const set = await openParticles(sim.star);
    try {
      const params = {
        k: 4,
        pipeline: 'mra' as const,
        method: 'ack' as const,
        seed: 3,
        maxIter: 4,
        threads: 2,
      };
      const memory = await classifyParticles(particleInput(set), params);
      const scratch = join(dir, 'scratch');
      mkdirSync(scratch);
      const streamed = await classifyParticles(particleInput(set), params, { scratch, inMemoryLimit: 0 });
      expect(Array.from(streamed.assignment)).toEqual(Array.from(memory.assignment));
      expect(streamed.poses).toEqual(memory.poses);
      expect(streamed.averages).toEqual(memory.averages);
      const untimed = (t: typeof memory.trace) => t.map(({ seconds: _, ...row }) => row);
      expect(untimed(streamed.trace)).toEqual(untimed(memory.trace));
      expect(readdirSync(scratch)).toEqual([]);
    } finally {
      await set.close();
    }
  }, 120_000);
});

describe('kept image spectra in a scratch file', () => {
  const box = 24;
  const settings = { box, lastRing: 10, shiftRange: 1, bandLimit: 0.3, shiftReferences: true, threads: 2 };
  it('holds the bits of the in-memory spectra, leaves nothing in the folder, and names bad folders', async () => {
    const n = 2500; // more than one block of 2,048
    const images = randomArray(n * box * box, 7);
    const dir = tempDir();
    const memory = await imageSpectra(images, settings);
    const file = await scratchSpectra(images, settings, dir);
    try {
      expect(readdirSync(dir)).toEqual([]); // unlinked at once
      expect(file.bytes).toBe(n * 4 * memory.floats);
      expect(file.norms).toEqual(memory.norms);
      expect(await file.read(0, n)).toEqual(await memory.read(0, n));
      const out = new Float32Array(10 * file.floats + 5);
      const part = await file.read(2040, 10, out);
      expect(part.buffer).toBe(out.buffer);
      expect(part).toEqual(await memory.read(2040, 10));
      await expect(file.read(n - 1, 2)).rejects.toThrow(RangeError);
      await expect(file.read(0, 2, new Float32Array(1))).rejects.toThrow(RangeError);
    } finally {
      await file.close();
      await file.close(); // idempotent
    }
    await expect(file.read(0, 1)).rejects.toThrow(/after close/);
    const missing = join(dir, 'missing');
    await expect(scratchSpectra(images, settings, missing)).rejects.toMatchObject({
      code: 'ERR_SCRATCH',
      message: expect.stringContaining(missing),
    });
  }, 60_000);
});

describe('bad scratch folders', () => {
  it('a missing folder: one error naming it, before any image is read', async () => {
    const missing = join(tempDir(), 'no-such-folder');
    let reads = 0;
    const input: ParticleInput = {
      count: 4,
      box: 16,
      pixelSize: 1,
      readBatch: async (_s, c) => {
        reads++;
        return randomArray(c * 256, 1);
      },
    };
    const p = resolveParams({ k: 2 }, { count: 4, box: 16, pixelSize: 1, hasCtf: false });
    await expect(prepareStack(input, p, { scratch: missing, inMemoryLimit: 0 })).rejects.toMatchObject({
      code: 'ERR_SCRATCH',
      message: expect.stringContaining(missing),
    });
    expect(reads).toBe(0);
  });

  it('too little free space: refused up front with the sizes', async () => {
    const dir = tempDir();
    await expect(createScratchStack(dir, 256, 1e12)).rejects.toMatchObject({
      code: 'ERR_SCRATCH',
      message: expect.stringMatching(/needs .* only .* free/),
    });
  });

  it('a run with a bad scratch folder fails with one error and leaves no output folder', async () => {
    const dir = tempDir();
    const sim = await simulateStack(dir, { box: 24, perView: 4, seed: 2 });
    const out = join(dir, 'out');
    for (const scratch of [join(dir, 'missing'), join(sim.stack, 'under-a-file')]) {
      await expect(
        runClassification(sim.star, out, { k: 2, maxIter: 2 }, { scratch, inMemoryLimit: 0 }),
      ).rejects.toMatchObject({ code: 'ERR_SCRATCH', message: expect.stringContaining(scratch) });
      expect(existsSync(out)).toBe(false);
    }
  }, 120_000);

  // Read-only and full file systems need a mount (root with CAP_SYS_ADMIN); skipped otherwise.
  const mountTmpfs = (options: string): string | undefined => {
    const dir = tempDir();
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' });
      return dir;
    } catch {
      return undefined;
    }
  };
  const unmount = (dir: string) => execFileSync('umount', [dir], { stdio: 'ignore' });
  const canMount = (() => {
    const d = mountTmpfs('size=64k');
    if (d) unmount(d);
    return d !== undefined;
  })();
  if (!canMount)
    console.warn('stack.test: cannot mount a tmpfs here (needs root); read-only and full-disk cases skipped');

  it.skipIf(!canMount)('a read-only folder: one error naming it', async () => {
    const dir = mountTmpfs('ro,size=1m') as string;
    try {
      await expect(createScratchStack(dir, 32)).rejects.toMatchObject({
        code: 'ERR_SCRATCH',
        message: expect.stringMatching(new RegExp(`${dir}: not writable`)),
      });
    } finally {
      unmount(dir);
    }
  });

  it.skipIf(!canMount)(
    'a disk that fills while writing: one error naming the folder, space freed',
    async () => {
      const dir = mountTmpfs('size=256k') as string;
      try {
        const stack = await createScratchStack(dir, 64); // no size given: no up-front check
        const tile = new Float32Array(40 * 64 * 64); // 320 KiB of float16 > 256 KiB
        await expect(stack.append(tile)).rejects.toMatchObject({
          code: 'ERR_SCRATCH',
          message: expect.stringContaining(`${dir}: no space left`),
        });
        await stack.close();
        expect(readdirSync(dir)).toEqual([]);
      } finally {
        unmount(dir);
      }
    },
  );
});
