/**
 * Hand-built MRC files for tests, written field by field with a DataView — independently of
 * the library's own header encoder — in either byte order and any mode.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';

/** A temporary folder removed after the test file's suites. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ackmeans-io-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface RawMrc {
  nx: number;
  ny: number;
  nz: number;
  mode: number;
  littleEndian?: boolean;
  /** Raw stored numbers (ints for modes 0/1/6, half bit patterns for 12, floats for 2/4); their count sets the data size. */
  values?: ArrayLike<number>;
  axes?: [number, number, number];
  ispg?: number;
  nsymbt?: number;
  /** Machine stamp bytes (default: matches the byte order). */
  stamp?: number[];
  mx?: number;
  cellaX?: number;
  /** Bytes appended after the data (negative: bytes cut off). */
  extra?: number;
}

const BYTES: Record<number, number> = { 0: 1, 1: 2, 2: 4, 4: 8, 6: 2, 12: 2 };

/** The bytes of an MRC file described by `m`. */
export function mrcBytes(m: RawMrc): Uint8Array {
  const le = m.littleEndian ?? true;
  const nsymbt = m.nsymbt ?? 0;
  const count = m.values?.length ?? m.nx * m.ny * m.nz * (m.mode === 4 ? 2 : 1);
  const vb = m.mode === 4 ? 4 : (BYTES[m.mode] ?? 4);
  const size = 1024 + nsymbt + count * vb;
  const buf = new Uint8Array(size + Math.max(0, m.extra ?? 0));
  const dv = new DataView(buf.buffer);
  const i = (o: number, v: number) => dv.setInt32(o, v, le);
  const f = (o: number, v: number) => dv.setFloat32(o, v, le);
  i(0, m.nx);
  i(4, m.ny);
  i(8, m.nz);
  i(12, m.mode);
  i(28, m.mx ?? m.nx);
  i(32, m.ny);
  i(36, m.nz);
  f(40, m.cellaX ?? m.nx * 2);
  const [c, r, s] = m.axes ?? [1, 2, 3];
  i(64, c);
  i(68, r);
  i(72, s);
  i(88, m.ispg ?? 1);
  i(92, nsymbt);
  i(108, 20140);
  buf.set([77, 65, 80, 32], 208);
  buf.set(m.stamp ?? (le ? [0x44, 0x44, 0, 0] : [0x11, 0x11, 0, 0]), 212);
  const values = m.values ?? Array.from({ length: count }, (_, k) => k % 100);
  for (let k = 0; k < count; k++) {
    const o = 1024 + nsymbt + k * vb;
    const v = values[k];
    if (m.mode === 0) dv.setInt8(o, v);
    else if (m.mode === 1) dv.setInt16(o, v, le);
    else if (m.mode === 6 || m.mode === 12) dv.setUint16(o, v, le);
    else dv.setFloat32(o, v, le);
  }
  return (m.extra ?? 0) < 0 ? buf.subarray(0, size + (m.extra ?? 0)) : buf;
}

/** Writes an MRC file described by `m` to `path`. */
export function writeRawMrc(path: string, m: RawMrc): string {
  writeFileSync(path, mrcBytes(m));
  return path;
}

/** Asserts two float arrays hold identical values (fast for large arrays; names the first difference). */
export function expectSameFloats(actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  const i = actual.findIndex((v, k) => !Object.is(v, expected[k]));
  expect(i === -1 ? 'identical' : `differ at ${i}: ${actual[i]} vs ${expected[i]}`).toBe('identical');
}

/** A .npy structured array written byte by byte (independent of the reader). */
export function npy(
  descr: string,
  n: number,
  record: (dv: DataView, base: number, i: number) => void,
  itemsize: number,
  version = 1,
): Uint8Array {
  let header = `{'descr': ${descr}, 'fortran_order': False, 'shape': (${n},), }`;
  const pre = version === 1 ? 10 : 12;
  header = header.padEnd(Math.ceil((pre + header.length + 1) / 64) * 64 - pre - 1, ' ') + '\n';
  const out = new Uint8Array(pre + header.length + n * itemsize);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, header.length, true);
  else dv.setUint32(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), pre);
  for (let i = 0; i < n; i++) record(dv, pre + header.length + i * itemsize, i);
  return out;
}
