/**
 * MRC2014 files (`.mrc`, `.mrcs`, `.map`): whole-file reading with axis reordering, lazy
 * stacks, and atomic writing in mode 2 (float32) or 12 (float16).
 */
import type { FileHandle } from 'node:fs/promises';
import { extname } from 'node:path';
import { checkFloat32Array, checkInt, checkNumber } from '../errors.js';
import { writeFileAtomic } from './atomic-write.js';
import { FormatError, fileError } from './errors.js';
import { decodeFloat16, encodeFloat16 } from './float16.js';
import {
  MRC_HEADER_BYTES,
  MRC_MODES,
  checkMrcSize,
  encodeMrcHeader,
  parseMrcHeader,
  type MrcHeader,
} from './mrc-header.js';
import { HOST_LITTLE_ENDIAN, readFully, readPixels, RunningStats } from './pixels.js';
import { layoutStack, openForRead, type ImageStack } from './stack.js';

export type { MrcHeader } from './mrc-header.js';

/** Options of the MRC readers. */
export interface MrcReadOptions {
  /** Accept oddities that are readable (extra trailing bytes, bad axis order) as `header.warnings`. */
  permissive?: boolean;
}

async function headerOf(handle: FileHandle, path: string, permissive: boolean): Promise<MrcHeader> {
  const size = (await handle.stat()).size;
  const buf = new Uint8Array(Math.min(size, MRC_HEADER_BYTES));
  await readFully(handle, path, buf, 0);
  const header = parseMrcHeader(buf, path, extname(path).toLowerCase() === '.mrcs');
  checkMrcSize(header, size, path, permissive);
  return header;
}

/** Runs `fn` on `path` opened for reading, closing it afterwards. */
async function withFile<T>(path: string, fn: (handle: FileHandle) => Promise<T>): Promise<T> {
  const handle = await openForRead(path);
  try {
    return await fn(handle);
  } finally {
    await handle.close();
  }
}

/**
 * Reads and checks the header of an MRC file (byte order detected, sizes checked against the
 * file length). Throws a {@link FormatError} for a truncated or corrupt file.
 */
export async function readMrcHeader(path: string, options: MrcReadOptions = {}): Promise<MrcHeader> {
  return withFile(path, (handle) => headerOf(handle, path, options.permissive ?? false));
}

/** The result of {@link readMrc}. */
export interface MrcData {
  header: MrcHeader;
  /**
   * Values, x fastest, then y, then z (or image index for stacks). Volumes are reordered to
   * x, y, z according to mapc/mapr/maps. Mode 4 (complex64) gives interleaved re, im pairs.
   */
  data: Float32Array;
  /** Size along x, y and z after axis reordering. */
  nx: number;
  ny: number;
  nz: number;
  pixelSize: number | undefined;
}

/** The (mapc, mapr, maps) permutation to apply, or undefined for the identity. */
function axisOrder(
  header: MrcHeader,
  path: string,
  permissive: boolean,
): [number, number, number] | undefined {
  if (header.isStack) return undefined;
  const axes: [number, number, number] = [header.mapc, header.mapr, header.maps];
  if (axes.join() === '1,2,3') return undefined;
  if ([...axes].sort().join() === '1,2,3') return axes;
  const msg = `mapc/mapr/maps = ${axes.join(', ')} is not a permutation of 1, 2, 3; assuming 1, 2, 3`;
  if (axes.every((a) => a === 0) || permissive) {
    header.warnings.push(msg);
    return undefined;
  }
  throw new FormatError('ERR_MRC_HEADER', path, msg.replace(/; assuming.*/, ''));
}

/** Reorders stored [section][row][column] values to x fastest, y, z (c values per voxel). */
function reorder(
  src: Float32Array,
  dims: [number, number, number],
  axes: [number, number, number],
  c: number,
): { data: Float32Array; size: [number, number, number] } {
  const size: [number, number, number] = [0, 0, 0];
  axes.forEach((axis, k) => (size[axis - 1] = dims[k]));
  const [sx, sy] = size;
  const stride: [number, number, number] = [1, sx, sx * sy];
  const [sc, sr, ss] = axes.map((axis) => stride[axis - 1] * c);
  const out = new Float32Array(src.length);
  let p = 0;
  for (let s = 0; s < dims[2]; s++)
    for (let r = 0; r < dims[1]; r++)
      for (let col = 0; col < dims[0]; col++) {
        const q = s * ss + r * sr + col * sc;
        for (let t = 0; t < c; t++) out[q + t] = src[p++];
      }
  return { data: out, size };
}

/**
 * Reads a whole MRC file as float32 (modes 0, 1, 2, 4, 6, 12; see {@link MrcData} for the
 * layout). Use {@link openStack} to read large stacks piece by piece instead.
 */
export async function readMrc(path: string, options: MrcReadOptions = {}): Promise<MrcData> {
  const permissive = options.permissive ?? false;
  return withFile(path, async (handle) => {
    const header = await headerOf(handle, path, permissive);
    const c = header.mode === 4 ? 2 : 1;
    const count = header.nx * header.ny * header.nz * c;
    const raw = new Float32Array(count);
    await readPixels(handle, { file: path, ...header }, header.dataOffset, count, raw, 0);
    const axes = axisOrder(header, path, permissive);
    if (!axes)
      return { header, data: raw, nx: header.nx, ny: header.ny, nz: header.nz, pixelSize: header.pixelSize };
    const { data, size } = reorder(raw, [header.nx, header.ny, header.nz], axes, c);
    return { header, data, nx: size[0], ny: size[1], nz: size[2], pixelSize: header.pixelSize };
  });
}

/** Opens an MRC file as a lazy stack of its nz sections (see {@link ImageStack}). */
export async function openMrcStack(
  path: string,
  options: MrcReadOptions = {},
): Promise<ImageStack<MrcHeader>> {
  const handle = await openForRead(path);
  try {
    const header = await headerOf(handle, path, options.permissive ?? false);
    if (header.mode === 4)
      throw new FormatError(
        'ERR_MRC_MODE',
        path,
        'complex (mode 4) files cannot be opened as image stacks; use readMrc',
      );
    const { nx, ny, nz: n, mode, littleEndian, dataOffset, pixelSize } = header;
    const stride = nx * ny * MRC_MODES[mode].bytes;
    return layoutStack(
      handle,
      { file: path, mode, littleEndian, n, nx, ny, dataOffset, stride, pixelSize },
      header,
    );
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** Options of {@link writeMrc}. */
export interface MrcWriteOptions {
  nx: number;
  ny: number;
  /** Sections or images (default 1). */
  nz?: number;
  /** Å/px (stored as cella = n·pixelSize; omitted or 0 = unknown). */
  pixelSize?: number;
  /** 2 = float32 (default) or 12 = float16. */
  mode?: 2 | 12;
  /** Write an image stack (ispg 0, mz 1) rather than a volume (default: true for `.mrcs`). */
  stack?: boolean;
  /** Up to 10 labels of ≤ 80 ASCII characters. */
  labels?: string[];
}

/** Checks writer options shared by {@link writeMrc} and the stack writer. */
export function checkMrcWriteOptions(o: {
  nx: unknown;
  ny: unknown;
  pixelSize?: unknown;
  mode?: unknown;
}): void {
  checkInt('nx', o.nx, 1, 1 << 24);
  checkInt('ny', o.ny, 1, 1 << 24);
  if (o.pixelSize !== undefined) checkNumber('pixelSize', o.pixelSize, 0);
  if (o.mode !== undefined && o.mode !== 2 && o.mode !== 12)
    throw new RangeError(`mode must be 2 (float32) or 12 (float16), got ${String(o.mode)}`);
}

/** The bytes of `data` as stored in mode 2 or 12 (little-endian), and the values as stored. */
export function encodeValues(data: Float32Array, mode: 2 | 12): { bytes: Uint8Array; stored: Float32Array } {
  if (mode === 12) {
    const half = encodeFloat16(data);
    const stored = new Float32Array(data.length);
    decodeFloat16(half, stored);
    return { bytes: new Uint8Array(half.buffer), stored };
  }
  if (HOST_LITTLE_ENDIAN)
    return { bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), stored: data };
  const swapped = new Float32Array(data);
  Buffer.from(swapped.buffer).swap32();
  return { bytes: new Uint8Array(swapped.buffer), stored: data };
}

/**
 * Writes `data` (x fastest) as an MRC2014 file in mode 2 or 12, with statistics, labels and
 * pixel size in the header. Atomic: written to a temporary name, then renamed.
 */
export async function writeMrc(path: string, data: Float32Array, options: MrcWriteOptions): Promise<void> {
  checkFloat32Array('data', data);
  checkMrcWriteOptions(options);
  const { nx, ny } = options;
  const nz = checkInt('nz', options.nz ?? 1, 1, 1 << 24);
  const mode = options.mode ?? 2;
  if (data.length !== nx * ny * nz)
    throw new RangeError(`data has ${data.length} values, nx·ny·nz = ${nx * ny * nz}`);
  const { bytes, stored } = encodeValues(data, mode);
  const stats = new RunningStats();
  stats.add(stored);
  const header = encodeMrcHeader({
    nx,
    ny,
    nz,
    mode,
    pixelSize: options.pixelSize,
    stack: options.stack ?? extname(path).toLowerCase() === '.mrcs',
    labels: options.labels ?? [],
    ...stats.result(),
  });
  try {
    await writeFileAtomic(path, header, bytes);
  } catch (err) {
    throw fileError(path, err);
  }
}
