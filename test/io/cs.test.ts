import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CsWriteField, csFieldOf, encodeCs, writeCs } from '../../src/io/cs.js';
import { FormatError, readCs } from '../../src/io/index.js';
import { describeShared, sharedFile } from '../helpers/shared.js';
import { npy, tempDir } from './fixtures.js';

const dir = tempDir();

const DESCR =
  "[('uid', '<u8'), ('blob/path', '|S10'), ('blob/idx', '<u4'), ('blob/shape', '<u4', (2,)), ('ctf/df1_A', '>f4'), ('x/flag', '|b1'), ('x/small', '<i2')]";
const ITEM = 8 + 10 + 4 + 8 + 4 + 1 + 2;
const record = (dv: DataView, b: number, i: number) => {
  dv.setBigUint64(b, 18446744073709551000n + BigInt(i), true);
  Buffer.from(`>s/${i}.mrcs`, 'latin1').forEach((c, k) => dv.setUint8(b + 8 + k, c));
  dv.setUint32(b + 18, i * 3, true);
  dv.setUint32(b + 22, 64, true);
  dv.setUint32(b + 26, 64, true);
  dv.setFloat32(b + 30, 10000.5 + i, false);
  dv.setUint8(b + 34, i % 2);
  dv.setInt16(b + 35, -i, true);
};

describe('readCs', () => {
  for (const version of [1, 2])
    it(`decodes packed fields of a version ${version} file: 64-bit uids, strings, sub-arrays, both byte orders`, async () => {
      const path = join(dir, `v${version}.cs`);
      writeFileSync(path, npy(DESCR, 3, record, ITEM, version));
      const cs = await readCs(path);
      expect(cs.n).toBe(3);
      expect(cs.fields.map((f) => [f.name, f.dtype, f.shape, f.offset])).toEqual([
        ['uid', '<u8', [], 0],
        ['blob/path', '|S10', [], 8],
        ['blob/idx', '<u4', [], 18],
        ['blob/shape', '<u4', [2], 22],
        ['ctf/df1_A', '>f4', [], 30],
        ['x/flag', '|b1', [], 34],
        ['x/small', '<i2', [], 35],
      ]);
      expect(cs.column('uid')).toEqual(
        BigUint64Array.of(18446744073709551000n, 18446744073709551001n, 18446744073709551002n),
      );
      expect(cs.strings('blob/path')).toEqual(['>s/0.mrcs', '>s/1.mrcs', '>s/2.mrcs']);
      expect(cs.numeric('blob/idx')).toEqual(Float64Array.of(0, 3, 6));
      expect(cs.numeric('blob/shape')).toEqual(Float64Array.of(64, 64, 64, 64, 64, 64));
      expect(cs.numeric('ctf/df1_A')).toEqual(Float64Array.of(10000.5, 10001.5, 10002.5));
      expect(cs.numeric('x/flag')).toEqual(Float64Array.of(0, 1, 0));
      expect(cs.numeric('x/small')).toEqual(Float64Array.of(0, -1, -2));
      expect(cs.column('absent')).toBeUndefined();
      expect(cs.numeric('blob/path')).toBeUndefined();
    });

  const bad: [string, () => Uint8Array, string, RegExp][] = [
    [
      'the compressed CSDAT format',
      () => Buffer.from('\x94CSDAT\x01\x00 rest of a newer file', 'latin1'),
      'ERR_CS_UNSUPPORTED',
      /CSDAT .* not supported yet/,
    ],
    [
      'no magic',
      () => Buffer.from('just some text that is not numpy'),
      'ERR_CS_FORMAT',
      /no \\x93NUMPY magic/,
    ],
    [
      'a truncated record array',
      () => npy(DESCR, 3, record, ITEM).subarray(0, -5),
      'ERR_CS_FORMAT',
      /truncated/,
    ],
    [
      'an object field',
      () => npy("[('a', '|O')]", 1, () => undefined, 8),
      'ERR_CS_FORMAT',
      /unsupported field type \|O/,
    ],
    [
      'a broken header',
      () => npy("[('a', '<f4'", 1, () => undefined, 4),
      'ERR_CS_FORMAT',
      /unreadable .npy header/,
    ],
  ];
  for (const [what, bytes, code, message] of bad)
    it(`${what} → ${code}`, async () => {
      const path = join(dir, 'bad.cs');
      writeFileSync(path, bytes());
      const err = await readCs(path).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FormatError);
      expect(err).toMatchObject({ code, file: path });
      expect((err as Error).message).toMatch(message);
    });

  it('a multi-dimensional array → ERR_CS_FORMAT', async () => {
    const path = join(dir, '2d.cs');
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }".padEnd(117) + '\n';
    const bytes = new Uint8Array(128 + 16);
    bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length, 0]);
    bytes.set(Buffer.from(header), 10);
    writeFileSync(path, bytes);
    await expect(readCs(path)).rejects.toMatchObject({ code: 'ERR_CS_FORMAT', message: /one-dimensional/ });
  });
});

describeShared('shared data: cryoSPARC .cs files', () => {
  it('cryosparc_P12_J24_001_particles.cs: 2019 particles, ctf and alignments3D fields', async () => {
    const cs = await readCs(sharedFile('cryosparc/cryosparc_P12_J24_001_particles.cs'));
    expect(cs.n).toBe(2019);
    expect(cs.fields.length).toBe(34);
    expect(cs.strings('blob/path')![0]).toBe(
      'J19/extract/20150917_05196_DNA-TET-25k-DE20_raw.region_000.sum-all_003-072_particles.mrc',
    );
    expect(cs.numeric('blob/shape')!.subarray(0, 2)).toEqual(Float64Array.of(180, 180));
    expect(cs.numeric('ctf/df1_A')![0]).toBe(Math.fround(45591.37));
    expect(cs.numeric('ctf/accel_kv')![0]).toBe(200);
    expect(cs.numeric('blob/psize_A')![0]).toBe(Math.fround(2.95));
    expect(Array.from(cs.numeric('alignments3D/shift')!.subarray(2, 4))).toEqual([1.265625, -4.640625]);
    expect(cs.numeric('alignments3D/pose')!.length).toBe(3 * 2019);
  });

  it('cryosparc_J2_particles_exported.cs: 22 particles with alignments2D classes 0..4', async () => {
    const cs = await readCs(sharedFile('cryosparc/cryosparc_J2_particles_exported.cs'));
    expect(cs.n).toBe(22);
    expect(cs.fields.length).toBe(42);
    expect(Array.from(cs.numeric('alignments2D/class')!)).toEqual([
      4, 1, 1, 0, 1, 3, 1, 1, 1, 4, 1, 4, 0, 0, 0, 3, 4, 2, 0, 0, 2, 3,
    ]);
    expect(cs.numeric('alignments2D/pose')![0]).toBe(Math.fround(5.8985004));
    expect(cs.strings('blob/path')![0].startsWith('>J1/imported/')).toBe(true);
    expect((cs.column('uid') as BigUint64Array)[0]).toBe(2714306824294111763n);
  });
});

describe('encodeCs / writeCs', () => {
  const n = 3;
  const fields: CsWriteField[] = [
    { name: 'uid', dtype: '<u8', values: BigUint64Array.of(2n ** 64n - 1n, 0n, 12345678901234567890n) },
    { name: 'i8', dtype: '<i8', values: BigInt64Array.of(-(2n ** 63n), -1n, 5n) },
    { name: 'blob/path', dtype: '|S0', values: ['J1/a.mrcs', 'é/ü.mrcs', ''] }, // é, ü: 2 bytes each
    { name: 'blob/shape', dtype: '<u4', shape: [2], values: [64, 64, 128, 128, 1, 2] },
    { name: 'f4', dtype: '<f4', values: [0.5, -1.25, 3e38] },
    { name: 'f8be', dtype: '>f8', values: [Math.PI, -0, 1e-300] },
    { name: 'i1', dtype: '|i1', values: [-128, 0, 127] },
    { name: 'u2', dtype: '<u2', values: [0, 65535, 7] },
    { name: 'i4', dtype: '<i4', values: [-(2 ** 31), 0, 2 ** 31 - 1] },
    { name: 'flag', dtype: '|b1', values: [1, 0, 1] },
    { name: 'm', dtype: '<f4', shape: [2, 2], values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] },
  ];

  it('writes what readCs reads back, field for field, in a 64-byte aligned version 1.0 header', async () => {
    const path = join(dir, 'written.cs');
    await writeCs(path, n, fields);
    const bytes = readFileSync(path);
    expect(bytes[6]).toBe(1);
    expect((10 + bytes.readUInt16LE(8)) % 64).toBe(0);
    const cs = await readCs(path);
    expect(cs.n).toBe(n);
    expect(cs.fields.map((f) => [f.name, f.dtype, f.shape])).toEqual(
      fields.map((f) => [f.name, f.name === 'blob/path' ? '|S10' : f.dtype, f.shape ?? []]),
    );
    for (const f of fields) {
      const got = cs.column(f.name)!;
      if (f.name === 'blob/path') expect(got).toEqual(f.values);
      else if (got instanceof Float64Array)
        expect(Array.from(got)).toEqual(
          Array.from(f.values as number[], (v) => (f.dtype === '<f4' ? Math.fround(v) : v)),
        );
      else expect(Array.from(got as BigUint64Array)).toEqual(Array.from(f.values as BigUint64Array));
    }
    // a .cs read and written again is the same bytes
    await writeCs(
      join(dir, 'again.cs'),
      n,
      cs.fields.map((f) => csFieldOf(cs, f)),
    );
    expect(readFileSync(join(dir, 'again.cs')).equals(bytes)).toBe(true);
  });

  it('a header over 64 KiB is written as version 2.0; rows can be picked', async () => {
    const many: CsWriteField[] = Array.from({ length: 3000 }, (_, j) => ({
      name: `field/number_${j}`,
      dtype: '<f4',
      values: [j, j + 0.5, -j],
    }));
    const path = join(dir, 'wide.cs');
    await writeCs(path, n, many);
    expect(readFileSync(path)[6]).toBe(2);
    const cs = await readCs(path);
    expect(Array.from(cs.numeric('field/number_2999')!)).toEqual([2999, 2999.5, -2999]);
    const picked = csFieldOf(cs, cs.fields[5], [2, 0]);
    expect(Array.from(picked.values as Float64Array)).toEqual([-5, 5]);
  });

  it('refuses values that do not fit', () => {
    expect(() => encodeCs(2, [{ name: 'a', dtype: '<f4', values: [1] }])).toThrow(
      /a: 1 values for 2 records/,
    );
    expect(() => encodeCs(1, [{ name: 'a', dtype: '|O', values: [1] }])).toThrow(
      /unsupported numpy type \|O/,
    );
    expect(() => encodeCs(1, [{ name: 'a', dtype: '<f2', values: [1] }])).toThrow(
      /unsupported numpy type <f2/,
    );
  });
});
