import { existsSync, openSync, closeSync, readdirSync, writeSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createStackWriter, openStack, readMrc, writeMrc } from '../../src/io/index.js';
import { Rng } from '../../src/random.js';
import { expectSameFloats, mrcBytes, tempDir, writeRawMrc } from './fixtures.js';

const dir = tempDir();

function images(n: number, box: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n * box * box }, () => rng.normal());
}

describe('openStack', () => {
  it('reads any range lazily, async and sync, into supplied arrays', async () => {
    const data = images(9, 6, 1);
    const path = join(dir, 'a.mrcs');
    await writeMrc(path, data, { nx: 6, ny: 6, nz: 9, pixelSize: 2 });
    const stack = await openStack(path);
    try {
      expect([stack.n, stack.nx, stack.ny]).toEqual([9, 6, 6]);
      expect(stack.pixelSize).toBeCloseTo(2, 6);
      expect(await stack.get(4)).toEqual(data.subarray(4 * 36, 5 * 36));
      expect(await stack.readBatch(2, 5)).toEqual(data.subarray(2 * 36, 7 * 36));
      const out = new Float32Array(10 * 36).fill(7);
      expect(stack.readBatchSync(6, 3, out)).toBe(out);
      expect(out.subarray(0, 3 * 36)).toEqual(data.subarray(6 * 36, 9 * 36));
      expect(out[3 * 36]).toBe(7);
      expect((await stack.readBatch(3, 0)).length).toBe(0);
    } finally {
      await stack.close();
    }
  });

  it('decodes big-endian int16 stacks image by image', async () => {
    const values = Array.from({ length: 3 * 16 }, (_, k) => k * 100 - 2000);
    const path = writeRawMrc(join(dir, 'b.mrcs'), {
      nx: 4,
      ny: 4,
      nz: 3,
      mode: 1,
      littleEndian: false,
      values,
      ispg: 0,
    });
    const stack = await openStack(path);
    expect(Array.from(await stack.get(2))).toEqual(values.slice(32));
    expect(Array.from(stack.readBatchSync(0, 3))).toEqual(values);
    await stack.close();
  });

  it('an index past the end → ERR_INDEX_RANGE; a short output array → RangeError', async () => {
    const path = writeRawMrc(join(dir, 'c.mrcs'), { nx: 2, ny: 2, nz: 3, mode: 2, ispg: 0 });
    const stack = await openStack(path);
    await expect(stack.get(3)).rejects.toMatchObject({ code: 'ERR_INDEX_RANGE', file: path });
    await expect(stack.readBatch(2, 2)).rejects.toThrow(/past the end of the stack, which has 3 images/);
    expect(() => stack.readBatchSync(0, 2, new Float32Array(7))).toThrow(RangeError);
    await expect(stack.get(-1)).rejects.toThrow(RangeError);
    await stack.close();
  });

  it('reads an image beyond 4 GiB of a (sparse) file with positioned reads', async () => {
    const box = 1024;
    const n = 1100; // 1100 · 4 MiB ≈ 4.3 GiB
    const path = join(dir, 'huge.mrcs');
    const header = mrcBytes({ nx: box, ny: box, nz: n, mode: 2, values: [], ispg: 0 });
    const fd = openSync(path, 'w');
    try {
      writeSync(fd, header, 0, 1024, 0);
      ftruncateSync(fd, 1024 + n * box * box * 4);
      const last = new Float32Array(box * box).map((_, k) => k % 1000);
      writeSync(fd, new Uint8Array(last.buffer), 0, last.byteLength, 1024 + (n - 1) * box * box * 4);
      const stack = await openStack(path);
      expect(stack.n).toBe(n);
      expectSameFloats(await stack.get(n - 1), last);
      expect(stack.readBatchSync(n - 2, 1).every((v) => v === 0)).toBe(true);
      await stack.close();
    } finally {
      closeSync(fd);
    }
  });
});

describe('createStackWriter', () => {
  it('streams batches into one stack; header has n, statistics, pixel size', async () => {
    const path = join(dir, 'w.mrcs');
    const data = images(10, 8, 3);
    const writer = await createStackWriter(path, { nx: 8, ny: 8, pixelSize: 1.25 });
    await writer.append(data.subarray(0, 3 * 64));
    await writer.append(data.subarray(3 * 64, 10 * 64));
    expect(writer.count).toBe(10);
    expect(existsSync(path)).toBe(false); // not visible before close
    await writer.close();
    const m = await readMrc(path);
    expect(m.data).toEqual(data);
    expect(m.header).toMatchObject({ nx: 8, ny: 8, nz: 10, ispg: 0, mz: 1, mode: 2, isStack: true });
    expect(m.pixelSize).toBeCloseTo(1.25, 6);
    expect(m.header.dmax).toBe(Math.max(...data));
    expect(m.header.dmean).toBeCloseTo(data.reduce((a, b) => a + b, 0) / data.length, 5);
    await expect(writer.append(data)).rejects.toThrow(/closed/);
  });

  it('rejects partial images; abort leaves nothing behind', async () => {
    const path = join(dir, 'aborted.mrcs');
    const writer = await createStackWriter(path, { nx: 4, ny: 4 });
    await expect(writer.append(new Float32Array(15))).rejects.toThrow(RangeError);
    await writer.append(new Float32Array(16));
    await writer.abort();
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('writes float16 stacks', async () => {
    const path = join(dir, 'h.mrcs');
    const writer = await createStackWriter(path, { nx: 4, ny: 4, mode: 12 });
    await writer.append(Float32Array.from({ length: 32 }, (_, k) => k / 4));
    await writer.close();
    const m = await readMrc(path);
    expect(m.header.mode).toBe(12);
    expect(Array.from(m.data)).toEqual(Array.from({ length: 32 }, (_, k) => k / 4));
  });
});
