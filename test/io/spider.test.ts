import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FormatError,
  openStack,
  readSpider,
  readSpiderDoc,
  writeSpider,
  writeSpiderDoc,
} from '../../src/io/index.js';
import { Rng } from '../../src/random.js';
import { tempDir } from './fixtures.js';

const dir = tempDir();
const rng = new Rng(11);
const random = (n: number) => Float32Array.from({ length: n }, () => rng.normal());

/** A big-endian SPIDER image written word by word from the manual's layout (independent of the writer). */
function bigEndianSpider(nx: number, ny: number, values: number[]): Uint8Array {
  const labrec = Math.ceil(1024 / (nx * 4));
  const labbyt = labrec * nx * 4;
  const out = new Uint8Array(labbyt + nx * ny * 4);
  const dv = new DataView(out.buffer);
  const w = (k: number, v: number) => dv.setFloat32(4 * (k - 1), v, false);
  w(1, 1);
  w(2, ny);
  w(5, 1);
  w(12, nx);
  w(13, labrec);
  w(22, labbyt);
  w(23, nx * 4);
  values.forEach((v, k) => dv.setFloat32(labbyt + 4 * k, v, false));
  return out;
}

describe('SPIDER images and stacks', () => {
  it('round-trips an image, a volume and a stack exactly', async () => {
    const image = random(7 * 5);
    await writeSpider(join(dir, 'i.spi'), image, { nx: 7, ny: 5, pixelSize: 2.5 });
    const a = await readSpider(join(dir, 'i.spi'));
    expect([a.nx, a.ny, a.nz, a.n, a.header.iform, a.header.isStack]).toEqual([7, 5, 1, 1, 1, false]);
    expect(a.data).toEqual(image);
    expect(a.header.pixelSize).toBe(2.5);
    expect(a.header.fmax).toBe(Math.max(...image));
    // header: LABBYT is a whole number of records ≥ 1024 bytes, data follows it
    expect(readFileSync(join(dir, 'i.spi')).length).toBe(Math.ceil(1024 / 28) * 28 + 35 * 4);

    const volume = random(4 * 3 * 2);
    await writeSpider(join(dir, 'v.spi'), volume, { nx: 4, ny: 3, nz: 2 });
    const v = await readSpider(join(dir, 'v.spi'));
    expect([v.nx, v.ny, v.nz, v.header.iform]).toEqual([4, 3, 2, 3]);
    expect(v.data).toEqual(volume);

    const images = random(6 * 6 * 5);
    await writeSpider(join(dir, 's.stk'), images, { nx: 6, ny: 6, stack: true });
    const s = await readSpider(join(dir, 's.stk'));
    expect([s.n, s.header.isStack]).toEqual([5, true]);
    expect(s.data).toEqual(images);
    const stack = await openStack(join(dir, 's.stk'));
    expect(stack.n).toBe(5);
    expect(await stack.readBatch(1, 3)).toEqual(images.subarray(36, 4 * 36));
    expect(stack.readBatchSync(4, 1)).toEqual(images.subarray(4 * 36));
    await stack.close();
  });

  it('reads big-endian files', async () => {
    const values = Array.from({ length: 300 }, (_, k) => k - 150.5);
    writeFileSync(join(dir, 'be.spi'), bigEndianSpider(20, 15, values));
    const s = await readSpider(join(dir, 'be.spi'));
    expect(s.header.littleEndian).toBe(false);
    expect(Array.from(s.data)).toEqual(values);
  });

  it('bad input → FormatError with a code', async () => {
    writeFileSync(join(dir, 'junk.spi'), Buffer.alloc(2048, 7));
    await expect(readSpider(join(dir, 'junk.spi'))).rejects.toMatchObject({
      code: 'ERR_SPIDER_HEADER',
      message: /junk\.spi: not a SPIDER file/,
    });
    const ok = bigEndianSpider(20, 15, new Array(300).fill(1));
    writeFileSync(join(dir, 'short.spi'), ok.subarray(0, ok.length - 4));
    const err = await readSpider(join(dir, 'short.spi')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FormatError);
    expect(err).toMatchObject({ code: 'ERR_SPIDER_TRUNCATED' });
    writeFileSync(join(dir, 'tiny.spi'), Buffer.alloc(10));
    await expect(readSpider(join(dir, 'tiny.spi'))).rejects.toMatchObject({ code: 'ERR_SPIDER_TRUNCATED' });
    await expect(writeSpider(join(dir, 'x.spi'), new Float32Array(5), { nx: 2, ny: 2 })).rejects.toThrow(
      RangeError,
    );
  });
});

describe('SPIDER document files', () => {
  it('round-trips rows (10 significant digits) with a comment', async () => {
    const rows = [
      [1, 2.5, -3.25],
      [12, 0.000123456789, 123456789],
      [3, -1e-12, 7],
    ];
    const path = join(dir, 'doc.dat');
    await writeSpiderDoc(path, rows, { comment: 'class alignment' });
    const text = readFileSync(path, 'utf8');
    expect(text.split('\n')[0]).toBe(' ; class alignment');
    expect(text.split('\n')[1]).toMatch(/^ {4}1 {2}3 /);
    const doc = await readSpiderDoc(path);
    expect(doc.keys).toEqual([1, 2, 3]);
    expect(doc.rows).toEqual(rows);
    expect(doc.comments).toEqual(['class alignment']);
  });

  it('reads SPIDER-written text; rejects malformed lines', async () => {
    const path = join(dir, 'spider.dat');
    writeFileSync(
      path,
      ' ;spi/dat   04-MAR-2005 AT 10:24:57   doc.dat\n    1 2   1.0000      -2.5000\n    7 1   3.0000\n',
    );
    expect(await readSpiderDoc(path)).toEqual({
      keys: [1, 7],
      rows: [[1, -2.5], [3]],
      comments: ['spi/dat   04-MAR-2005 AT 10:24:57   doc.dat'],
    });
    writeFileSync(path, '    1 3   1.0 2.0\n');
    await expect(readSpiderDoc(path)).rejects.toMatchObject({
      code: 'ERR_SPIDER_DOC',
      message: /line 1: says 3 registers, has 2/,
    });
    writeFileSync(path, '    1 1   abc\n');
    await expect(readSpiderDoc(path)).rejects.toMatchObject({ code: 'ERR_SPIDER_DOC' });
  });
});
