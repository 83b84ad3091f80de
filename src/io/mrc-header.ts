/**
 * The 1024-byte MRC2014 header: decoding (either byte order), sanity checks, and encoding.
 * Reference: https://www.ccpem.ac.uk/mrc_format/mrc2014.php
 */
import { FormatError } from './errors.js';

/** Size of the fixed MRC header in bytes. */
export const MRC_HEADER_BYTES = 1024;

/** Data modes this package reads. 4 (complex64) is read by `readMrc` only, not as a stack. */
export const MRC_MODES: Record<number, { bytes: number; name: string }> = {
  0: { bytes: 1, name: 'int8' },
  1: { bytes: 2, name: 'int16' },
  2: { bytes: 4, name: 'float32' },
  4: { bytes: 8, name: 'complex64' },
  6: { bytes: 2, name: 'uint16' },
  12: { bytes: 2, name: 'float16' },
};

/** Largest dimension accepted (anything larger is treated as a corrupt header). */
const MAX_DIM = 1 << 24;

/** An MRC header, as named fields (MRC2014 names), plus derived facts. */
export interface MrcHeader {
  nx: number;
  ny: number;
  nz: number;
  mode: number;
  nxstart: number;
  nystart: number;
  nzstart: number;
  mx: number;
  my: number;
  mz: number;
  /** Cell dimensions in Å (x, y, z). */
  cella: [number, number, number];
  /** Cell angles in degrees. */
  cellb: [number, number, number];
  /** Which axis (1 = X, 2 = Y, 3 = Z) runs along columns, rows and sections. */
  mapc: number;
  mapr: number;
  maps: number;
  dmin: number;
  dmax: number;
  dmean: number;
  /** Space group: 0 = image stack, 1 = volume, 401 = volume stack. */
  ispg: number;
  /** Bytes of extended header after the 1024-byte header. */
  nsymbt: number;
  /** Extended header type (4 characters, e.g. 'FEI1'), '' when blank. */
  exttyp: string;
  /** 20140 (or 20141…) for MRC2014 files, 0 for older ones. */
  nversion: number;
  origin: [number, number, number];
  /** The 'MAP ' stamp at byte 208 ('' if absent: pre-2000 file). */
  map: string;
  /** The 4-byte machine stamp, as hex ('44440000' little-endian, '11110000' big-endian). */
  machst: string;
  rms: number;
  labels: string[];
  /** Å per pixel along x: cella[0] / mx, or undefined when the header carries none. */
  pixelSize: number | undefined;
  /** True for an image stack: a `.mrcs` file, or ispg = 0 with nz > 1. */
  isStack: boolean;
  littleEndian: boolean;
  /** Byte offset of the first data value: 1024 + nsymbt. */
  dataOffset: number;
  /** Things that are odd but readable (missing stamp, unknown machine stamp, byte order guessed…). */
  warnings: string[];
}

function decodeFields(buf: Uint8Array, le: boolean) {
  const dv = new DataView(buf.buffer, buf.byteOffset, MRC_HEADER_BYTES);
  const i = (o: number) => dv.getInt32(o, le);
  const f = (o: number) => dv.getFloat32(o, le);
  return { dv, i, f };
}

function text(buf: Uint8Array, start: number, len: number): string {
  let s = '';
  for (let k = start; k < start + len; k++) s += String.fromCharCode(buf[k]);
  return s;
}

function hex(buf: Uint8Array, start: number, len: number): string {
  return Buffer.from(buf.subarray(start, start + len)).toString('hex');
}

function plausible(buf: Uint8Array, le: boolean): boolean {
  const { i } = decodeFields(buf, le);
  const mode = i(12);
  return (
    mode in MRC_MODES &&
    i(0) >= 1 &&
    i(0) <= MAX_DIM &&
    i(4) >= 1 &&
    i(4) <= MAX_DIM &&
    i(8) >= 0 && // an empty stack has nz = 0
    i(8) <= MAX_DIM &&
    i(92) >= 0 &&
    i(92) < 1 << 30
  );
}

/**
 * Decodes a header. The byte order comes from `machst`; if the fields then look wrong (unknown
 * mode, absurd sizes) the other order is tried, as mrcfile and RELION do. Throws `ERR_MRC_HEADER`
 * or `ERR_MRC_MODE` when neither order gives a sensible header.
 */
export function parseMrcHeader(buf: Uint8Array, file: string, isStackName: boolean): MrcHeader {
  if (buf.byteLength < MRC_HEADER_BYTES)
    throw new FormatError(
      'ERR_MRC_TRUNCATED',
      file,
      `file is ${buf.byteLength} bytes, shorter than the 1024-byte MRC header`,
    );
  const warnings: string[] = [];
  const stamp = buf[212];
  const stated = stamp === 0x44 || stamp === 0x41 ? true : stamp === 0x11 ? false : undefined;
  let le = stated ?? true;
  if (stated === undefined) warnings.push(`unknown machine stamp 0x${hex(buf, 212, 4)}`);
  if (!plausible(buf, le)) {
    if (plausible(buf, !le)) {
      le = !le;
      warnings.push(
        `machine stamp says ${stated === false ? 'big' : 'little'}-endian but the header is ${le ? 'little' : 'big'}-endian`,
      );
    } else {
      const { i } = decodeFields(buf, le);
      const mode = i(12);
      const dims = [i(0), i(4), i(8)];
      if (dims.every((d) => d >= 0 && d <= MAX_DIM) && !(mode in MRC_MODES))
        throw new FormatError(
          'ERR_MRC_MODE',
          file,
          `unsupported MRC mode ${mode} (supported: ${Object.keys(MRC_MODES).join(', ')})`,
        );
      if (i(92) < 0) throw new FormatError('ERR_MRC_HEADER', file, `negative extended header size ${i(92)}`);
      throw new FormatError(
        'ERR_MRC_HEADER',
        file,
        `not an MRC file or corrupt header: size ${dims.join('×')}, mode ${mode}`,
      );
    }
  }
  const { i, f } = decodeFields(buf, le);
  const map = text(buf, 208, 4);
  if (map !== 'MAP ') warnings.push(`no 'MAP ' stamp at byte 208`);
  const nlabl = Math.max(0, Math.min(10, i(220)));
  const labels: string[] = [];
  for (let k = 0; k < nlabl; k++) labels.push(text(buf, 224 + 80 * k, 80).replace(/[\s\0]+$/, ''));
  const nx = i(0);
  const ny = i(4);
  const nz = i(8);
  const mx = i(28);
  const cella: [number, number, number] = [f(40), f(44), f(48)];
  const ispg = i(88);
  const nsymbt = i(92);
  const pixelSize = mx > 0 && cella[0] > 0 && Number.isFinite(cella[0]) ? cella[0] / mx : undefined;
  return {
    nx,
    ny,
    nz,
    mode: i(12),
    nxstart: i(16),
    nystart: i(20),
    nzstart: i(24),
    mx,
    my: i(32),
    mz: i(36),
    cella,
    cellb: [f(52), f(56), f(60)],
    mapc: i(64),
    mapr: i(68),
    maps: i(72),
    dmin: f(76),
    dmax: f(80),
    dmean: f(84),
    ispg,
    nsymbt,
    exttyp: text(buf, 104, 4).replace(/[\s\0]+$/, ''),
    nversion: i(108),
    origin: [f(196), f(200), f(204)],
    map,
    machst: hex(buf, 212, 4),
    rms: f(216),
    labels,
    pixelSize,
    isStack: isStackName || (ispg === 0 && nz > 1),
    littleEndian: le,
    dataOffset: MRC_HEADER_BYTES + nsymbt,
    warnings,
  };
}

/** Bytes of data the header announces. */
export function mrcDataBytes(h: Pick<MrcHeader, 'nx' | 'ny' | 'nz' | 'mode'>): number {
  return h.nx * h.ny * h.nz * MRC_MODES[h.mode].bytes;
}

/**
 * Checks the header against the file size: truncated files always throw `ERR_MRC_TRUNCATED`;
 * extra bytes throw `ERR_MRC_SIZE` unless `permissive` (then a warning is added).
 */
export function checkMrcSize(h: MrcHeader, fileSize: number, file: string, permissive: boolean): void {
  const expected = h.dataOffset + mrcDataBytes(h);
  if (fileSize < expected)
    throw new FormatError(
      'ERR_MRC_TRUNCATED',
      file,
      `file is truncated: ${fileSize} bytes, the header (${h.nx}×${h.ny}×${h.nz}, mode ${h.mode}, ${h.nsymbt}-byte extended header) needs ${expected}`,
    );
  if (fileSize > expected) {
    const msg = `file is ${fileSize - expected} bytes longer than the header (${h.nx}×${h.ny}×${h.nz}, mode ${h.mode}) implies`;
    if (!permissive) throw new FormatError('ERR_MRC_SIZE', file, msg);
    h.warnings.push(msg);
  }
}

/** What a writer puts in a header; statistics are of the data as written. */
export interface MrcHeaderFields {
  nx: number;
  ny: number;
  nz: number;
  mode: number;
  /** Å/px; 0 or undefined writes cella = 0 (unknown). */
  pixelSize?: number;
  stack: boolean;
  dmin: number;
  dmax: number;
  dmean: number;
  rms: number;
  labels: string[];
}

/** Encodes a little-endian MRC2014 header ('MAP ' stamp, machst 0x44440000, nversion 20140). */
export function encodeMrcHeader(h: MrcHeaderFields): Uint8Array {
  const buf = new Uint8Array(MRC_HEADER_BYTES);
  const dv = new DataView(buf.buffer);
  const i = (o: number, v: number) => dv.setInt32(o, v, true);
  const f = (o: number, v: number) => dv.setFloat32(o, v, true);
  const mz = h.stack ? 1 : h.nz;
  const ps = h.pixelSize ?? 0;
  i(0, h.nx);
  i(4, h.ny);
  i(8, h.nz);
  i(12, h.mode);
  i(28, h.nx);
  i(32, h.ny);
  i(36, mz);
  f(40, h.nx * ps);
  f(44, h.ny * ps);
  f(48, mz * ps);
  f(52, 90);
  f(56, 90);
  f(60, 90);
  i(64, 1);
  i(68, 2);
  i(72, 3);
  f(76, h.dmin);
  f(80, h.dmax);
  f(84, h.dmean);
  i(88, h.stack ? 0 : 1);
  i(108, 20140);
  buf.set([0x4d, 0x41, 0x50, 0x20], 208); // 'MAP '
  buf.set([0x44, 0x44, 0x00, 0x00], 212);
  f(216, h.rms);
  const labels = h.labels.slice(0, 10);
  i(220, labels.length);
  labels.forEach((label, k) => {
    const s = label.padEnd(80, ' ').slice(0, 80);
    for (let c = 0; c < 80; c++) {
      const code = s.charCodeAt(c);
      buf[224 + 80 * k + c] = code < 128 ? code : 0x3f;
    }
  });
  return buf;
}
