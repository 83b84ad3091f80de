/**
 * Raw pixel decoding (MRC modes, either byte order) into float32, positioned reads into
 * caller-owned arrays, and running statistics for writers.
 */
import { endianness } from 'node:os';
import { readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { decodeFloat16 } from './float16.js';
import { FormatError } from './errors.js';

/** True on little-endian hosts (x86, ARM): file data in that order needs no byte swap. */
export const HOST_LITTLE_ENDIAN = endianness() === 'LE';

/** Bytes per value of each readable MRC mode (complex64 counts as two float32 values). */
export function valueBytes(mode: number): number {
  return mode === 0 ? 1 : mode === 1 || mode === 6 || mode === 12 ? 2 : 4;
}

/**
 * Decodes `bytes` (an aligned, owned scratch buffer that may be byte-swapped in place) holding
 * values of `mode` into `out` at `outOffset`. Mode 4 (complex64) decodes as pairs of float32.
 */
export function decodePixels(
  bytes: Uint8Array,
  mode: number,
  littleEndian: boolean,
  out: Float32Array,
  outOffset: number,
): void {
  const swap = littleEndian !== HOST_LITTLE_ENDIAN;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (mode) {
    case 0:
      out.set(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), outOffset);
      return;
    case 1:
    case 6:
    case 12: {
      if (swap) buf.swap16();
      const n = bytes.byteLength >> 1;
      if (mode === 12) decodeFloat16(new Uint16Array(bytes.buffer, bytes.byteOffset, n), out, outOffset);
      else if (mode === 1) out.set(new Int16Array(bytes.buffer, bytes.byteOffset, n), outOffset);
      else out.set(new Uint16Array(bytes.buffer, bytes.byteOffset, n), outOffset);
      return;
    }
    case 2:
    case 4:
      if (swap) buf.swap32();
      out.set(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2), outOffset);
      return;
    default:
      throw new Error(`decodePixels: unsupported mode ${mode}`);
  }
}

const MAX_READ = 1 << 30;

function short(file: string, position: number, wanted: number, got: number): FormatError {
  return new FormatError(
    'ERR_MRC_TRUNCATED',
    file,
    `file is truncated: reading ${wanted} bytes at offset ${position} returned ${got}`,
  );
}

/** Fills `view` from `position` (async, ≤ 1 GiB per call); a short read means a truncated file. */
export async function readFully(handle: FileHandle, file: string, view: Uint8Array, position: number) {
  let done = 0;
  while (done < view.byteLength) {
    const len = Math.min(MAX_READ, view.byteLength - done);
    const { bytesRead } = await handle.read(view, done, len, position + done);
    if (bytesRead === 0) throw short(file, position, view.byteLength, done);
    done += bytesRead;
  }
}

/** Synchronous {@link readFully} on a file descriptor. */
export function readFullySync(fd: number, file: string, view: Uint8Array, position: number): void {
  let done = 0;
  while (done < view.byteLength) {
    const len = Math.min(MAX_READ, view.byteLength - done);
    const bytesRead = readSync(fd, view, done, len, position + done);
    if (bytesRead === 0) throw short(file, position, view.byteLength, done);
    done += bytesRead;
  }
}

/** Where and how the values are stored. */
export interface PixelSource {
  file: string;
  mode: number;
  littleEndian: boolean;
}

const SCRATCH_BYTES = 8 << 20;

/**
 * Plans reading `count` values at byte `position` into `out[outOffset…]`: float32 in host order
 * goes straight into `out`'s memory; anything else through ≤ 8 MiB scratch chunks and a decode.
 * `read(view, position)` performs one positioned read.
 */
function* plan(src: PixelSource, position: number, count: number, out: Float32Array, outOffset: number) {
  const vb = valueBytes(src.mode);
  if ((src.mode === 2 || src.mode === 4) && src.littleEndian === HOST_LITTLE_ENDIAN) {
    yield { view: new Uint8Array(out.buffer, out.byteOffset + outOffset * 4, count * 4), position };
    return;
  }
  const per = Math.max(1, Math.floor(SCRATCH_BYTES / vb));
  const scratch = new Uint8Array(Math.min(count, per) * vb);
  for (let k = 0; k < count; k += per) {
    const m = Math.min(per, count - k);
    const view = scratch.subarray(0, m * vb);
    yield {
      view,
      position: position + k * vb,
      decode: () => decodePixels(view, src.mode, src.littleEndian, out, outOffset + k),
    };
  }
}

/** Reads and decodes `count` values at byte `position` into `out` at `outOffset`. */
export async function readPixels(
  handle: FileHandle,
  src: PixelSource,
  position: number,
  count: number,
  out: Float32Array,
  outOffset: number,
): Promise<void> {
  for (const step of plan(src, position, count, out, outOffset)) {
    await readFully(handle, src.file, step.view, step.position);
    step.decode?.();
  }
}

/** Synchronous {@link readPixels}. */
export function readPixelsSync(
  fd: number,
  src: PixelSource,
  position: number,
  count: number,
  out: Float32Array,
  outOffset: number,
): void {
  for (const step of plan(src, position, count, out, outOffset)) {
    readFullySync(fd, src.file, step.view, step.position);
    step.decode?.();
  }
}

/** Running min / max / mean / rms of written values (accumulated in float64). */
export class RunningStats {
  min = Infinity;
  max = -Infinity;
  sum = 0;
  sumSq = 0;
  count = 0;

  add(data: Float32Array): void {
    let mn = this.min;
    let mx = this.max;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v < mn) mn = v;
      if (v > mx) mx = v;
      s += v;
      s2 += v * v;
    }
    this.min = mn;
    this.max = mx;
    this.sum += s;
    this.sumSq += s2;
    this.count += data.length;
  }

  /** dmin, dmax, dmean and rms (standard deviation about the mean), 0 when empty. */
  result(): { dmin: number; dmax: number; dmean: number; rms: number } {
    if (this.count === 0) return { dmin: 0, dmax: 0, dmean: 0, rms: 0 };
    const mean = this.sum / this.count;
    const variance = Math.max(0, this.sumSq / this.count - mean * mean);
    return { dmin: this.min, dmax: this.max, dmean: mean, rms: Math.sqrt(variance) };
  }
}
