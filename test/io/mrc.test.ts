import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FormatError, readMrc, readMrcHeader, writeMrc } from '../../src/io/index.js';
import { decodeFloat16, encodeFloat16 } from '../../src/io/float16.js';
import { Rng } from '../../src/random.js';
import { mrcBytes, tempDir, writeRawMrc } from './fixtures.js';

const dir = tempDir();
let counter = 0;
const fresh = (ext = '.mrc') => join(dir, `f${counter++}${ext}`);

function randomData(n: number, seed = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.normal() * 3 + 1);
}

describe('readMrc: every mode, both byte orders', () => {
  const nx = 5;
  const ny = 4;
  const nz = 3;
  const n = nx * ny * nz;
  const cases: [number, number[], (v: number) => number][] = [
    [0, Array.from({ length: n }, (_, k) => ((k * 37) % 256) - 128), (v) => v],
    [1, Array.from({ length: n }, (_, k) => ((k * 4111) % 65536) - 32768), (v) => v],
    [6, Array.from({ length: n }, (_, k) => (k * 4111) % 65536), (v) => v],
    [2, Array.from(randomData(n)), (v) => Math.fround(v)],
    [
      12,
      Array.from(encodeFloat16(randomData(n, 2))),
      (h) => {
        const out = new Float32Array(1);
        decodeFloat16(Uint16Array.of(h), out);
        return out[0];
      },
    ],
  ];
  for (const [mode, values, expected] of cases)
    for (const littleEndian of [true, false])
      it(`mode ${mode}, ${littleEndian ? 'little' : 'big'}-endian`, async () => {
        const path = writeRawMrc(fresh(), { nx, ny, nz, mode, littleEndian, values });
        const m = await readMrc(path);
        expect([m.nx, m.ny, m.nz]).toEqual([nx, ny, nz]);
        expect(m.header.mode).toBe(mode);
        expect(m.header.littleEndian).toBe(littleEndian);
        expect(Array.from(m.data)).toEqual(values.map(expected));
      });

  it('mode 4 (complex64) as interleaved re/im pairs', async () => {
    const values = Array.from(randomData(2 * n, 3));
    const path = writeRawMrc(fresh(), { nx, ny, nz, mode: 4, values, littleEndian: false });
    const m = await readMrc(path);
    expect(m.data.length).toBe(2 * n);
    expect(Array.from(m.data)).toEqual(values.map(Math.fround));
  });

  it('trusts the data over a wrong machine stamp, and says so', async () => {
    const path = writeRawMrc(fresh(), {
      nx,
      ny,
      nz,
      mode: 1,
      littleEndian: false,
      stamp: [0x44, 0x44, 0, 0],
    });
    const m = await readMrc(path);
    expect(m.header.littleEndian).toBe(false);
    expect(m.header.nx).toBe(nx);
    expect(m.header.warnings.join()).toMatch(/big-endian/);
  });

  it('skips the extended header (nsymbt)', async () => {
    const values = Array.from({ length: n }, (_, k) => k);
    const path = writeRawMrc(fresh(), { nx, ny, nz, mode: 2, values, nsymbt: 160 });
    const m = await readMrc(path);
    expect(m.header.nsymbt).toBe(160);
    expect(Array.from(m.data)).toEqual(values);
  });
});

describe('readMrc: axis order', () => {
  it('reorders columns/rows/sections to x, y, z for every permutation', async () => {
    const dims = [4, 3, 2]; // columns, rows, sections as stored
    const perms: [number, number, number][] = [
      [1, 2, 3],
      [1, 3, 2],
      [2, 1, 3],
      [2, 3, 1],
      [3, 1, 2],
      [3, 2, 1],
    ];
    for (const axes of perms) {
      const values = Array.from({ length: 24 }, (_, k) => k);
      const path = writeRawMrc(fresh(), {
        nx: dims[0],
        ny: dims[1],
        nz: dims[2],
        mode: 2,
        values,
        axes,
        ispg: 1,
      });
      const m = await readMrc(path);
      const size = [0, 0, 0];
      axes.forEach((a, k) => (size[a - 1] = dims[k]));
      expect([m.nx, m.ny, m.nz]).toEqual(size);
      // Stored value at (column c, row r, section s) must land at the x,y,z those axes name.
      for (let s = 0; s < dims[2]; s++)
        for (let r = 0; r < dims[1]; r++)
          for (let c = 0; c < dims[0]; c++) {
            const xyz = [0, 0, 0];
            xyz[axes[0] - 1] = c;
            xyz[axes[1] - 1] = r;
            xyz[axes[2] - 1] = s;
            const at = xyz[0] + size[0] * (xyz[1] + size[1] * xyz[2]);
            expect(m.data[at]).toBe(c + dims[0] * (r + dims[1] * s));
          }
    }
  });

  it('rejects an axis order that is not a permutation, unless permissive', async () => {
    const path = writeRawMrc(fresh(), { nx: 2, ny: 2, nz: 2, mode: 2, axes: [1, 1, 3], ispg: 1 });
    await expect(readMrc(path)).rejects.toMatchObject({ code: 'ERR_MRC_HEADER' });
    const m = await readMrc(path, { permissive: true });
    expect(m.header.warnings.join()).toMatch(/not a permutation/);
  });
});

describe('writeMrc', () => {
  it('round-trips float32 exactly, with a correct MRC2014 header', async () => {
    const data = randomData(6 * 5 * 4, 4);
    const path = fresh();
    await writeMrc(path, data, { nx: 6, ny: 5, nz: 4, pixelSize: 1.5, labels: ['hello', 'world'] });
    const bytes = readFileSync(path);
    expect(bytes.length).toBe(1024 + data.length * 4);
    expect(bytes.subarray(208, 212).toString('latin1')).toBe('MAP ');
    expect([...bytes.subarray(212, 216)]).toEqual([0x44, 0x44, 0, 0]);
    expect(bytes.readInt32LE(108)).toBe(20140);
    const m = await readMrc(path);
    expect(m.data).toEqual(data);
    expect([m.nx, m.ny, m.nz]).toEqual([6, 5, 4]);
    expect(m.pixelSize).toBeCloseTo(1.5, 6);
    expect(m.header.labels).toEqual(['hello', 'world']);
    expect(m.header.isStack).toBe(false);
    expect(m.header.ispg).toBe(1);
    expect(m.header.warnings).toEqual([]);
    // Statistics against a direct float64 computation.
    const mean = data.reduce((a, b) => a + b, 0) / data.length;
    const sd = Math.sqrt(data.reduce((a, b) => a + (b - mean) ** 2, 0) / data.length);
    expect(m.header.dmin).toBe(Math.min(...data));
    expect(m.header.dmax).toBe(Math.max(...data));
    expect(m.header.dmean).toBeCloseTo(mean, 5);
    expect(m.header.rms).toBeCloseTo(sd, 5);
  });

  it('round-trips float16 (mode 12) to the nearest half values', async () => {
    const data = randomData(8 * 8 * 2, 5);
    const path = fresh('.mrcs');
    await writeMrc(path, data, { nx: 8, ny: 8, nz: 2, mode: 12 });
    const m = await readMrc(path);
    expect(m.header.mode).toBe(12);
    expect(m.header.isStack).toBe(true);
    expect(m.header.mz).toBe(1);
    expect(m.pixelSize).toBeUndefined();
    const expected = new Float32Array(data.length);
    decodeFloat16(encodeFloat16(data), expected);
    expect(m.data).toEqual(expected);
    // and a second round trip is exact
    const again = fresh('.mrcs');
    await writeMrc(again, m.data, { nx: 8, ny: 8, nz: 2, mode: 12 });
    expect((await readMrc(again)).data).toEqual(m.data);
  });

  it('leaves no temporary file behind, and checks its arguments', async () => {
    const sub = join(dir, 'clean');
    writeFileSync(join(dir, 'marker'), '');
    await expect(writeMrc(join(dir, 'x.mrc'), new Float32Array(5), { nx: 2, ny: 2 })).rejects.toThrow(
      RangeError,
    );
    await expect(
      writeMrc(join(dir, 'x.mrc'), new Float32Array(4), { nx: 2, ny: 2, mode: 3 as 2 }),
    ).rejects.toThrow(RangeError);
    await expect(
      writeMrc(join(sub, 'nope', 'x.mrc'), new Float32Array(4), { nx: 2, ny: 2 }),
    ).rejects.toThrow();
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(existsSync(join(dir, 'x.mrc'))).toBe(false);
  });
});

describe('bad MRC input', () => {
  const cases: [string, () => Uint8Array, string, RegExp][] = [
    [
      'a file shorter than the header',
      () => new Uint8Array(100),
      'ERR_MRC_TRUNCATED',
      /shorter than the 1024-byte/,
    ],
    [
      'truncated data',
      () => mrcBytes({ nx: 4, ny: 4, nz: 4, mode: 2, extra: -10 }),
      'ERR_MRC_TRUNCATED',
      /truncated/,
    ],
    [
      'extra bytes',
      () => mrcBytes({ nx: 4, ny: 4, nz: 4, mode: 2, extra: 12 }),
      'ERR_MRC_SIZE',
      /12 bytes longer/,
    ],
    ['an unknown mode', () => mrcBytes({ nx: 4, ny: 4, nz: 4, mode: 9 }), 'ERR_MRC_MODE', /mode 9/],
    [
      'a negative size',
      () => mrcBytes({ nx: -4, ny: 4, nz: 1, mode: 2, values: [] }),
      'ERR_MRC_HEADER',
      /corrupt header/,
    ],
    [
      'an absurd size',
      () => mrcBytes({ nx: 1 << 30, ny: 4, nz: 1, mode: 2, values: [] }),
      'ERR_MRC_HEADER',
      /corrupt header/,
    ],
    [
      'text, not an MRC file',
      () => Buffer.from('hello world '.repeat(200)),
      'ERR_MRC_HEADER',
      /not an MRC file/,
    ],
  ];
  for (const [what, bytes, code, message] of cases)
    it(`${what} → ${code}`, async () => {
      const path = fresh();
      writeFileSync(path, bytes());
      const err = await readMrcHeader(path).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FormatError);
      expect(err).toMatchObject({ code, file: path });
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).toContain(path.split('/').pop());
    });

  it('extra bytes are accepted with a warning when permissive', async () => {
    const path = fresh();
    writeFileSync(path, mrcBytes({ nx: 4, ny: 4, nz: 1, mode: 2, extra: 8 }));
    const h = await readMrcHeader(path, { permissive: true });
    expect(h.warnings.join()).toMatch(/8 bytes longer/);
  });

  it('a missing file → ERR_FILE_NOT_FOUND', async () => {
    await expect(readMrc(join(dir, 'absent.mrc'))).rejects.toMatchObject({ code: 'ERR_FILE_NOT_FOUND' });
  });
});
