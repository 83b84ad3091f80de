/**
 * Streaming MRC stack writer: images are appended as they are produced; the header (image
 * count, statistics) is written at close, and the file appears under its name only then.
 */
import { checkFloat32Array } from '../errors.js';
import { openAtomic, writeAll, type AtomicFile } from './atomic-write.js';
import { fileError } from './errors.js';
import { MRC_HEADER_BYTES, encodeMrcHeader } from './mrc-header.js';
import { checkMrcWriteOptions, encodeValues } from './mrc.js';
import { RunningStats } from './pixels.js';

/** Options of {@link createStackWriter}. */
export interface StackWriterOptions {
  nx: number;
  ny: number;
  /** Å/px (omitted or 0 = unknown). */
  pixelSize?: number;
  /** 2 = float32 (default) or 12 = float16. */
  mode?: 2 | 12;
  /** Up to 10 labels of ≤ 80 ASCII characters. */
  labels?: string[];
}

/** A stack being written; see {@link createStackWriter}. */
export interface StackWriter {
  readonly path: string;
  /** Images appended so far. */
  readonly count: number;
  /** Appends one or more images (a multiple of nx·ny values, x fastest). */
  append(images: Float32Array): Promise<void>;
  /** Writes the final header and renames the file into place. */
  close(): Promise<void>;
  /** Discards everything written (the destination is left untouched). */
  abort(): Promise<void>;
}

/**
 * Creates an MRC image stack (`ispg` 0) at `path`, written under a temporary name until
 * {@link StackWriter.close}. Appends must not overlap (await each one).
 */
export async function createStackWriter(path: string, options: StackWriterOptions): Promise<StackWriter> {
  checkMrcWriteOptions(options);
  const { nx, ny } = options;
  const mode = options.mode ?? 2;
  const imageValues = nx * ny;
  let file: AtomicFile;
  try {
    file = await openAtomic(path);
    await writeAll(file.handle, new Uint8Array(MRC_HEADER_BYTES), 0);
  } catch (err) {
    throw fileError(path, err);
  }
  const stats = new RunningStats();
  let count = 0;
  let position = MRC_HEADER_BYTES;
  let state: 'open' | 'closed' = 'open';
  const ensureOpen = () => {
    if (state !== 'open') throw new Error(`stack writer for ${path} is already closed`);
  };
  return {
    path,
    get count() {
      return count;
    },
    async append(images: Float32Array) {
      ensureOpen();
      checkFloat32Array('images', images);
      if (images.length % imageValues !== 0)
        throw new RangeError(`images has ${images.length} values, not a multiple of nx·ny = ${imageValues}`);
      const { bytes, stored } = encodeValues(images, mode);
      stats.add(stored);
      await writeAll(file.handle, bytes, position);
      position += bytes.byteLength;
      count += images.length / imageValues;
    },
    async close() {
      ensureOpen();
      state = 'closed';
      try {
        const header = encodeMrcHeader({
          nx,
          ny,
          nz: count,
          mode,
          pixelSize: options.pixelSize,
          stack: true,
          labels: options.labels ?? [],
          ...stats.result(),
        });
        await writeAll(file.handle, header, 0);
        await file.commit();
      } catch (err) {
        await file.abort();
        throw fileError(path, err);
      }
    },
    async abort() {
      state = 'closed';
      await file.abort();
    },
  };
}
