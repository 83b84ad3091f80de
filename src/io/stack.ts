/**
 * Lazy image stacks: an open file, its geometry, and positioned reads of any range of images
 * into arrays the caller may supply. Nothing is loaded until asked for, and files over 4 GiB
 * work (offsets are plain numbers, reads are chunked).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { checkInt } from '../errors.js';
import { FormatError, checkRegularFile, fileError } from './errors.js';
import {
  HOST_LITTLE_ENDIAN,
  readFully,
  readPixels,
  readPixelsSync,
  valueBytes,
  type PixelSource,
} from './pixels.js';

/** How the images of a stack are laid out in its file. */
export interface StackLayout extends PixelSource {
  n: number;
  nx: number;
  ny: number;
  /** Byte offset of image 0's first value. */
  dataOffset: number;
  /** Bytes from one image's first value to the next one's (image bytes + any per-image header). */
  stride: number;
  pixelSize: number | undefined;
}

/** An open stack of n images of nx × ny pixels (x fastest). Close it when done. */
export interface ImageStack<H = unknown> {
  readonly path: string;
  readonly n: number;
  readonly nx: number;
  readonly ny: number;
  /** Å/px from the header, or undefined when the header carries none. */
  readonly pixelSize: number | undefined;
  /** The format's header (an MrcHeader for MRC files, a SpiderHeader for SPIDER files). */
  readonly header: H;
  /** Image i (0-based) as a new array of nx·ny values. */
  get(i: number): Promise<Float32Array>;
  /** Images start … start+count−1 into `out` (allocated when omitted; needs count·nx·ny values). */
  readBatch(start: number, count: number, out?: Float32Array): Promise<Float32Array>;
  /** Synchronous {@link ImageStack.readBatch}. */
  readBatchSync(start: number, count: number, out?: Float32Array): Float32Array;
  /** True when the values are stored as IEEE binary16 (MRC mode 12). */
  readonly float16: boolean;
  /**
   * The binary16 bit patterns (host byte order) of images start … start+count−1, undecoded, for
   * a consumer that decodes them itself (native preprocessing). Only when {@link float16}.
   * Written into `out` (its first count·box² values) when given, so a caller can reuse a buffer.
   */
  readBatchFloat16(start: number, count: number, out?: Uint16Array): Promise<Uint16Array>;
  close(): Promise<void>;
}

/**
 * Opens `path` for reading, mapping file-system errors to a FormatError naming the file; only
 * regular files (a FIFO or a device would block: see {@link checkRegularFile}).
 */
export async function openForRead(path: string): Promise<FileHandle> {
  await checkRegularFile(path);
  try {
    return await open(path, 'r');
  } catch (err) {
    throw fileError(path, err);
  }
}

class LayoutStack<H> implements ImageStack<H> {
  readonly path: string;
  readonly n: number;
  readonly nx: number;
  readonly ny: number;
  readonly pixelSize: number | undefined;
  private readonly imageValues: number;
  private readonly contiguous: boolean;

  constructor(
    private readonly handle: FileHandle,
    private readonly layout: StackLayout,
    readonly header: H,
  ) {
    this.path = layout.file;
    this.n = layout.n;
    this.nx = layout.nx;
    this.ny = layout.ny;
    this.pixelSize = layout.pixelSize;
    this.imageValues = layout.nx * layout.ny;
    this.contiguous = layout.stride === this.imageValues * valueBytes(layout.mode);
  }

  /** Checks that images start … start+count−1 exist. */
  private checkRange(start: number, count: number): void {
    checkInt('start', start, 0);
    checkInt('count', count, 0);
    if (start + count > this.n)
      throw new FormatError(
        'ERR_INDEX_RANGE',
        this.path,
        `image ${start + count} (1-based) is past the end of the stack, which has ${this.n} images`,
      );
  }

  private prepare(start: number, count: number, out?: Float32Array): Float32Array {
    this.checkRange(start, count);
    const need = count * this.imageValues;
    if (out === undefined) return new Float32Array(need);
    if (!(out instanceof Float32Array)) throw new TypeError('out must be a Float32Array');
    if (out.length < need) throw new RangeError(`out must hold at least ${need} values, has ${out.length}`);
    return out;
  }

  /** Runs of (position, values, outOffset) covering the requested images. */
  private *pieces(start: number, count: number): Generator<[number, number, number]> {
    const { dataOffset, stride } = this.layout;
    if (this.contiguous) {
      if (count > 0) yield [dataOffset + start * stride, count * this.imageValues, 0];
      return;
    }
    for (let k = 0; k < count; k++)
      yield [dataOffset + (start + k) * stride, this.imageValues, k * this.imageValues];
  }

  async get(i: number): Promise<Float32Array> {
    return this.readBatch(i, 1);
  }

  async readBatch(start: number, count: number, out?: Float32Array): Promise<Float32Array> {
    const dest = this.prepare(start, count, out);
    for (const [position, values, offset] of this.pieces(start, count))
      await readPixels(this.handle, this.layout, position, values, dest, offset);
    return dest;
  }

  readBatchSync(start: number, count: number, out?: Float32Array): Float32Array {
    const dest = this.prepare(start, count, out);
    for (const [position, values, offset] of this.pieces(start, count))
      readPixelsSync(this.handle.fd, this.layout, position, values, dest, offset);
    return dest;
  }

  get float16(): boolean {
    return this.layout.mode === 12;
  }

  async readBatchFloat16(start: number, count: number, out?: Uint16Array): Promise<Uint16Array> {
    if (!this.float16) throw new Error(`${this.path}: readBatchFloat16 needs float16 (mode 12) values`);
    this.checkRange(start, count);
    const total = count * this.imageValues;
    if (out !== undefined && (!(out instanceof Uint16Array) || out.length < total))
      throw new RangeError(`out must be a Uint16Array of at least ${total} values`);
    const bits = out ? out.subarray(0, total) : new Uint16Array(total);
    const bytes = new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength);
    for (const [position, values, offset] of this.pieces(start, count))
      await readFully(this.handle, this.path, bytes.subarray(2 * offset, 2 * (offset + values)), position);
    if (this.layout.littleEndian !== HOST_LITTLE_ENDIAN)
      Buffer.from(bits.buffer, bits.byteOffset, bits.byteLength).swap16();
    return bits;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Wraps an open handle and a layout as an {@link ImageStack} (used by the MRC and SPIDER readers). */
export function layoutStack<H>(handle: FileHandle, layout: StackLayout, header: H): ImageStack<H> {
  return new LayoutStack(handle, layout, header);
}
