/**
 * SPIDER image, volume and stack files (float32, either byte order), read and written, so that
 * images can be exchanged with SPIDER. Header words are float32, numbered from 1 as in the
 * SPIDER manual (https://spider.wadsworth.org/spider_doc/spider/docs/image_doc.html).
 */
import { stat, type FileHandle } from 'node:fs/promises';
import { checkFloat32Array, checkInt, checkNumber } from '../errors.js';
import { openAtomic, writeAll } from './atomic-write.js';
import { FormatError, fileError } from './errors.js';
import { HOST_LITTLE_ENDIAN, RunningStats, readFully } from './pixels.js';
import { layoutStack, openForRead, type ImageStack } from './stack.js';

/** The SPIDER header fields this package uses. */
export interface SpiderHeader {
  nx: number;
  ny: number;
  nz: number;
  /** 1 = 2D image, 3 = volume (Fourier formats are not supported). */
  iform: number;
  /** True for a stack (word 24 ISTACK > 0). */
  isStack: boolean;
  /** Images in the stack (word 26 MAXIM), 1 for a simple file. */
  n: number;
  /** Header bytes (word 22 LABBYT). */
  labbyt: number;
  /** Å/px (word 38 PIXSIZ) or undefined when 0. */
  pixelSize: number | undefined;
  littleEndian: boolean;
  fmin: number;
  fmax: number;
  av: number;
  sig: number;
}

const WORD = (k: number) => 4 * (k - 1);
const REAL_FORMS = [1, 3];
const FOURIER_FORMS = [-11, -12, -21, -22];

function plausible(dv: DataView, le: boolean): boolean {
  const f = (k: number) => dv.getFloat32(WORD(k), le);
  const nz = f(1);
  const ny = f(2);
  const iform = f(5);
  const nx = f(12);
  const labbyt = f(22);
  const ints = [nz, ny, nx, labbyt].every((v) => Number.isInteger(v));
  return (
    ints &&
    nx >= 1 &&
    ny >= 1 &&
    nz >= 1 &&
    nx <= 1 << 24 &&
    ny <= 1 << 24 &&
    labbyt >= 1024 &&
    [...REAL_FORMS, ...FOURIER_FORMS].includes(iform)
  );
}

/** Decodes a SPIDER header (byte order detected from the values). */
export function parseSpiderHeader(buf: Uint8Array, file: string): SpiderHeader {
  if (buf.byteLength < 1024)
    throw new FormatError(
      'ERR_SPIDER_TRUNCATED',
      file,
      `file is ${buf.byteLength} bytes, shorter than a SPIDER header`,
    );
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const le = plausible(dv, HOST_LITTLE_ENDIAN)
    ? HOST_LITTLE_ENDIAN
    : plausible(dv, !HOST_LITTLE_ENDIAN)
      ? !HOST_LITTLE_ENDIAN
      : undefined;
  if (le === undefined)
    throw new FormatError(
      'ERR_SPIDER_HEADER',
      file,
      'not a SPIDER file (header sizes and IFORM make no sense in either byte order)',
    );
  const f = (k: number) => dv.getFloat32(WORD(k), le);
  const iform = f(5);
  if (FOURIER_FORMS.includes(iform))
    throw new FormatError(
      'ERR_SPIDER_FORMAT',
      file,
      `Fourier-format SPIDER files (IFORM ${iform}) are not supported`,
    );
  const isStack = f(24) > 0;
  const maxim = f(26);
  if (isStack && !(Number.isInteger(maxim) && maxim >= 0 && maxim <= 2 ** 31 - 1))
    throw new FormatError(
      'ERR_SPIDER_HEADER',
      file,
      `the stack header gives ${maxim} images (word 26, MAXIM): not a count (a whole number ≥ 0)`,
    );
  const pixsiz = f(38);
  return {
    nx: f(12),
    ny: f(2),
    nz: f(1),
    iform,
    isStack,
    n: isStack ? maxim : 1,
    labbyt: f(22),
    pixelSize: pixsiz > 0 && Number.isFinite(pixsiz) ? pixsiz : undefined,
    littleEndian: le,
    fmin: f(8),
    fmax: f(7),
    av: f(9),
    sig: f(10),
  };
}

/** Byte offset of image k's data, and the stride between images. */
function layout(h: SpiderHeader): { dataOffset: number; stride: number; total: number } {
  const imageBytes = h.nx * h.ny * h.nz * 4;
  if (!h.isStack) return { dataOffset: h.labbyt, stride: imageBytes, total: h.labbyt + imageBytes };
  const stride = h.labbyt + imageBytes;
  return { dataOffset: 2 * h.labbyt, stride, total: h.labbyt + h.n * stride };
}

async function headerOf(handle: FileHandle, path: string): Promise<SpiderHeader> {
  const size = (await handle.stat()).size;
  const buf = new Uint8Array(Math.min(size, 1024));
  await readFully(handle, path, buf, 0);
  const h = parseSpiderHeader(buf, path);
  const { total } = layout(h);
  if (size < total)
    throw new FormatError(
      'ERR_SPIDER_TRUNCATED',
      path,
      `file is truncated: ${size} bytes, the header (${h.nx}×${h.ny}×${h.nz}${h.isStack ? `, ${h.n} images` : ''}) needs ${total}`,
    );
  return h;
}

/** Opens a SPIDER image, volume (as its sections) or 2D stack as a lazy {@link ImageStack}. */
export async function openSpiderStack(path: string): Promise<ImageStack<SpiderHeader>> {
  const handle = await openForRead(path);
  try {
    const h = await headerOf(handle, path);
    if (h.isStack && h.nz !== 1)
      throw new FormatError(
        'ERR_SPIDER_FORMAT',
        path,
        'stacks of volumes cannot be opened as image stacks; use readSpider',
      );
    const { dataOffset, stride } = layout(h);
    const n = h.isStack ? h.n : h.nz;
    const s = h.isStack ? stride : h.nx * h.ny * 4;
    return layoutStack(
      handle,
      {
        file: path,
        mode: 2,
        littleEndian: h.littleEndian,
        n,
        nx: h.nx,
        ny: h.ny,
        dataOffset,
        stride: s,
        pixelSize: h.pixelSize,
      },
      h,
    );
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** The result of {@link readSpider}: all values, x fastest, then y, z, then image. */
export interface SpiderData {
  header: SpiderHeader;
  data: Float32Array;
  nx: number;
  ny: number;
  nz: number;
  /** Images (1 for a simple file). */
  n: number;
}

/** Reads a whole SPIDER image, volume, or stack (of images or volumes). */
export async function readSpider(path: string): Promise<SpiderData> {
  const handle = await openForRead(path);
  try {
    const h = await headerOf(handle, path);
    const { nx, ny, nz, n } = h;
    const { dataOffset, stride } = layout(h);
    const stack = layoutStack(
      handle,
      {
        file: path,
        mode: 2,
        littleEndian: h.littleEndian,
        n,
        nx: nx * ny * nz,
        ny: 1,
        dataOffset,
        stride,
        pixelSize: h.pixelSize,
      },
      h,
    );
    return { header: h, data: await stack.readBatch(0, n), nx, ny, nz, n };
  } finally {
    await handle.close();
  }
}

/** Options of {@link writeSpider}. */
export interface SpiderWriteOptions {
  nx: number;
  ny: number;
  /** Sections per image (default 1). */
  nz?: number;
  /** Write a stack (overall header + one header per image); default: false (one image or volume). */
  stack?: boolean;
  /** Å/px, stored in word 38 (PIXSIZ). */
  pixelSize?: number;
}

function encodeHeader(o: {
  nx: number;
  ny: number;
  nz: number;
  stats: RunningStats;
  pixelSize: number;
  istack: number;
  maxim: number;
  imgnum: number;
}): Uint8Array {
  const lenbyt = o.nx * 4;
  const labrec = Math.ceil(1024 / lenbyt);
  const labbyt = labrec * lenbyt;
  const buf = new Uint8Array(labbyt);
  const dv = new DataView(buf.buffer);
  const w = (k: number, v: number) => dv.setFloat32(WORD(k), v, HOST_LITTLE_ENDIAN);
  const s = o.stats.result();
  w(1, o.nz);
  w(2, o.ny);
  w(3, o.ny * o.nz + labrec);
  w(5, o.nz > 1 ? 3 : 1);
  w(6, o.stats.count > 0 ? 1 : 0);
  w(7, s.dmax);
  w(8, s.dmin);
  w(9, s.dmean);
  w(10, s.rms);
  w(12, o.nx);
  w(13, labrec);
  w(22, labbyt);
  w(23, lenbyt);
  w(24, o.istack);
  w(26, o.maxim);
  w(27, o.imgnum);
  w(38, o.pixelSize);
  return buf;
}

/**
 * Writes `data` as a SPIDER file in this machine's byte order: one image/volume, or with
 * `stack` a stack of data.length / (nx·ny·nz) images, each with its own header. Atomic.
 */
export async function writeSpider(
  path: string,
  data: Float32Array,
  options: SpiderWriteOptions,
): Promise<void> {
  checkFloat32Array('data', data);
  const nx = checkInt('nx', options.nx, 1, 1 << 24);
  const ny = checkInt('ny', options.ny, 1, 1 << 24);
  const nz = checkInt('nz', options.nz ?? 1, 1, 1 << 24);
  const pixelSize = options.pixelSize === undefined ? 0 : checkNumber('pixelSize', options.pixelSize, 0);
  const per = nx * ny * nz;
  const stack = options.stack ?? false;
  if (stack ? data.length % per !== 0 : data.length !== per)
    throw new RangeError(
      `data has ${data.length} values, ${stack ? 'not a multiple of' : 'expected'} nx·ny·nz = ${per}`,
    );
  const n = data.length / per;
  const all = new RunningStats();
  all.add(data);
  const bytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let file;
  try {
    file = await openAtomic(path);
  } catch (err) {
    throw fileError(path, err);
  }
  try {
    if (!stack) {
      await writeAll(
        file.handle,
        encodeHeader({ nx, ny, nz, stats: all, pixelSize, istack: 0, maxim: 0, imgnum: 0 }),
      );
      await writeAll(file.handle, bytes(data));
    } else {
      await writeAll(
        file.handle,
        encodeHeader({ nx, ny, nz, stats: all, pixelSize, istack: 2, maxim: n, imgnum: 0 }),
      );
      for (let k = 0; k < n; k++) {
        const image = data.subarray(k * per, (k + 1) * per);
        const stats = new RunningStats();
        stats.add(image);
        await writeAll(
          file.handle,
          encodeHeader({ nx, ny, nz, stats, pixelSize, istack: 0, maxim: 0, imgnum: k + 1 }),
        );
        await writeAll(file.handle, bytes(image));
      }
    }
    await file.commit();
  } catch (err) {
    await file.abort();
    throw fileError(path, err);
  }
}

/** True when the first 1024 bytes of `path` look like a SPIDER header. */
export async function isSpiderFile(path: string): Promise<boolean> {
  const handle = await openForRead(path);
  try {
    const size = (await stat(path)).size;
    if (size < 1024) return false;
    const buf = new Uint8Array(1024);
    await readFully(handle, path, buf, 0);
    const dv = new DataView(buf.buffer);
    return plausible(dv, true) || plausible(dv, false);
  } finally {
    await handle.close();
  }
}
