/**
 * The out-of-core working stack: preprocessed images stored as float16 (IEEE binary16, 2 bytes a
 * pixel) in one scratch file, appended tile by tile and read back in tiles through the
 * {@link ImageProvider} interface that alignment and averaging stream.
 *
 * The file is created in the scratch folder under a unique name and unlinked at once (Linux
 * keeps it until the descriptor closes), so it never outlives the process, even after kill -9,
 * and nothing is left in the folder on failure. A missing, read-only or too small folder fails
 * up front with one {@link AckmeansError} `ERR_SCRATCH` naming the folder.
 *
 * The scale engine keeps the images' polar spectra ({@link scratchSpectra}) in a second such
 * file, float32, when they are too large to hold in memory.
 */
import { randomBytes } from 'node:crypto';
import { type FileHandle, open, statfs, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type ImageSpectra, imageSpectraBlocks } from '../align/candidates.js';
import type { AlignOptions } from '../align/options.js';
import { type ImageProvider, type Images, SpareArrays } from '../align/provider.js';
import { AckmeansError, checkFloat32Array } from '../errors.js';
import { native } from '../native.js';

/** Bytes per stored pixel (float16). */
export const SCRATCH_BYTES_PER_PIXEL = 2;

/** The binary16 bit patterns of `values` (round to nearest even), natively, off the event loop. */
export function encodeFloat16Native(values: Float32Array): Promise<Uint16Array> {
  return native().float16Encode({ values: checkFloat32Array('values', values) });
}

/**
 * The float32 values of binary16 bit patterns, natively, off the event loop: a new array, or the
 * first bits.length values of `out`.
 */
export function decodeFloat16Native(bits: Uint16Array, out?: Float32Array): Promise<Float32Array> {
  if (!(bits instanceof Uint16Array)) throw new TypeError('bits must be a Uint16Array');
  if (out === undefined) return native().float16Decode({ bits });
  if (!(out instanceof Float32Array) || out.length < bits.length)
    throw new RangeError(`out must be a Float32Array of at least ${bits.length} values`);
  return native()
    .float16Decode({ bits, out })
    .then((o) => o.subarray(0, bits.length));
}

/** A scratch stack being written, then read: an {@link ImageProvider} once {@link finish}ed. */
export interface ScratchStack extends ImageProvider {
  /** The scratch folder (absolute). */
  readonly dir: string;
  /** Images of box² pixels. */
  readonly box: number;
  /** Bytes written so far. */
  readonly bytes: number;
  /** The largest |value| of the images written (NaNs ignored; kept while appending). */
  readonly maxAbs: number;
  /** Appends images (a multiple of box² values, already representable in float16). */
  append(images: Float32Array): Promise<void>;
  /** Ends writing; read() may be used from then on. */
  finish(): void;
  /** Closes the file (its space is freed). Idempotent. */
  close(): Promise<void>;
}

function scratchError(dir: string, problem: string, cause?: unknown): AckmeansError {
  return new AckmeansError('ERR_SCRATCH', `ackmeans: scratch folder ${dir}: ${problem}`, {
    file: dir,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** The scratch-folder error for a file-system failure `err`. */
function describeFsError(dir: string, err: unknown): AckmeansError {
  const code = (err as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT':
      return scratchError(dir, 'no such folder', err);
    case 'ENOTDIR':
      return scratchError(dir, 'not a folder', err);
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return scratchError(dir, 'not writable (permission denied or read-only file system)', err);
    case 'ENOSPC':
    case 'EDQUOT':
      return scratchError(dir, 'no space left on the device', err);
    default:
      return scratchError(dir, (err as Error)?.message ?? String(err), err);
  }
}

/**
 * A new scratch file in `folder` (absolute), unlinked at once: its space stays ours until the
 * handle closes, or the process ends (even by kill -9), and nothing is left in the folder.
 * @throws AckmeansError `ERR_SCRATCH` naming the folder.
 */
async function openScratchFile(folder: string, extension: string): Promise<FileHandle> {
  const path = join(
    folder,
    `.ackmeans-scratch-${process.pid}-${randomBytes(6).toString('hex')}.${extension}`,
  );
  let handle: FileHandle;
  try {
    handle = await open(path, 'wx+', 0o600);
  } catch (err) {
    throw describeFsError(folder, err);
  }
  await unlink(path).catch(() => undefined);
  return handle;
}

/** Bytes free for us in `folder` (statfs), or 0 when it cannot be asked. */
export async function freeBytes(folder: string): Promise<number> {
  const fs = await statfs(folder).catch(() => undefined);
  return fs ? Number(fs.bavail) * Number(fs.bsize) : 0;
}

/** Writes all of `buf` at `position` of `handle`; file-system failures name the folder. */
async function writeAll(
  handle: FileHandle,
  folder: string,
  buf: Uint8Array,
  position: number,
): Promise<void> {
  try {
    let done = 0;
    while (done < buf.byteLength) {
      const { bytesWritten } = await handle.write(buf, done, buf.byteLength - done, position + done);
      done += bytesWritten;
    }
  } catch (err) {
    throw describeFsError(folder, err);
  }
}

/** Reads all of `buf` from `position` of `handle`; a short file is an `ERR_SCRATCH` naming `what`. */
async function readAll(
  handle: FileHandle,
  folder: string,
  what: string,
  buf: Uint8Array,
  position: number,
): Promise<void> {
  let done = 0;
  while (done < buf.byteLength) {
    const { bytesRead } = await handle.read(buf, done, buf.byteLength - done, position + done);
    if (bytesRead === 0) throw scratchError(folder, `${what} ended early`);
    done += bytesRead;
  }
}

/** Kept image spectra in a scratch file: {@link ImageSpectra} plus the file's size and release. */
export interface ScratchSpectra extends ImageSpectra {
  /** Bytes of the scratch file. */
  readonly bytes: number;
  /** Closes the file (its space is freed). Idempotent. */
  close(): Promise<void>;
}

/**
 * The images' kept spectra for a search with `options` (see {@link ImageSpectra}), written block
 * by block to a float32 scratch file in `dir` and read back in blocks, for sets whose spectra are
 * too large to hold in memory: only the norms (8 bytes an image) stay in memory, and a block read
 * is a third of the bytes of the float16 images it replaces, with no resampling. The same bits as
 * {@link imageSpectra}.
 * @throws AckmeansError `ERR_SCRATCH` naming the folder (missing, not writable, full).
 */
export async function scratchSpectra(
  images: Images,
  options: AlignOptions,
  dir: string,
): Promise<ScratchSpectra> {
  const folder = resolve(dir);
  const handle = await openScratchFile(folder, 'f32');
  let isOpen = true;
  const close = async (): Promise<void> => {
    if (!isOpen) return;
    isOpen = false;
    await handle.close();
  };
  try {
    let buffer = new Float32Array(0); // the first block is the largest
    let bytesPerImage = 0;
    const made = await imageSpectraBlocks(images, options, {
      into: (_start, count, floats) => {
        if (buffer.length === 0) buffer = new Float32Array(count * floats);
        bytesPerImage = 4 * floats;
        return buffer.subarray(0, count * floats);
      },
      done: (start, spectra) =>
        writeAll(
          handle,
          folder,
          new Uint8Array(spectra.buffer, spectra.byteOffset, spectra.byteLength),
          start * bytesPerImage,
        ),
    });
    return {
      ...made,
      bytes: made.n * bytesPerImage,
      read: async (start, count, out) => {
        if (!isOpen) throw new Error('scratch spectra: read after close');
        if (
          !Number.isInteger(start) ||
          !Number.isInteger(count) ||
          start < 0 ||
          count < 0 ||
          start + count > made.n
        )
          throw new RangeError(
            `scratch spectra: images ${start}..${start + count - 1} are outside 0..${made.n - 1}`,
          );
        const values = count * made.floats;
        if (out !== undefined && (!(out instanceof Float32Array) || out.length < values))
          throw new RangeError(`scratch spectra: out must be a Float32Array of at least ${values} values`);
        const into = out ? out.subarray(0, values) : new Float32Array(values);
        await readAll(
          handle,
          folder,
          'the spectra file',
          new Uint8Array(into.buffer, into.byteOffset, into.byteLength),
          start * bytesPerImage,
        );
        return into;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * Creates a scratch stack of images of box² pixels in `dir`. When `expectedImages` is given, the
 * folder must have room for them (checked with statfs before anything is written). `gather`
 * reads with `threads` threads.
 * @throws AckmeansError `ERR_SCRATCH` naming the folder (missing, not writable, too little space).
 */
export async function createScratchStack(
  dir: string,
  box: number,
  expectedImages?: number,
  threads = 1,
): Promise<ScratchStack> {
  const folder = resolve(dir);
  const imageBytes = box * box * SCRATCH_BYTES_PER_PIXEL;
  if (expectedImages !== undefined) {
    const fs = await statfs(folder).catch((err: unknown) => {
      throw describeFsError(folder, err);
    });
    const need = expectedImages * imageBytes;
    const free = Number(fs.bavail) * Number(fs.bsize);
    if (free < need)
      throw scratchError(
        folder,
        `needs ${formatBytes(need)} for the working stack, only ${formatBytes(free)} free (use --scratch DIR elsewhere)`,
      );
  }
  const handle = await openScratchFile(folder, 'f16');
  let n = 0;
  let bytes = 0;
  let maxAbs = 0;
  let state: 'writing' | 'reading' | 'closed' = 'writing';
  // gathers in progress read the descriptor natively: close waits for them (a closed descriptor's
  // number may be reused by the next file opened)
  const gathering = new Set<Promise<unknown>>();
  // Raw bits of reads in progress: buffers are reused (a fresh array is page faults to fill).
  const spareBits = new SpareArrays<Uint16Array>((length) => new Uint16Array(length));
  const readDecoded = async (start: number, count: number, out?: Float32Array): Promise<Float32Array> => {
    if (state !== 'reading') throw new Error(`scratch stack: read while ${state}`);
    if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > n)
      throw new RangeError(`scratch stack: images ${start}..${start + count - 1} are outside 0..${n - 1}`);
    const values = count * box * box;
    const spare = spareBits.take(values);
    try {
      const bits = spare.subarray(0, values);
      const buf = new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength);
      await readAll(handle, folder, 'the scratch stack', buf, start * imageBytes);
      return await decodeFloat16Native(bits, out);
    } finally {
      spareBits.giveBack(spare);
    }
  };
  const stack: ScratchStack = {
    dir: folder,
    box,
    get n() {
      return n;
    },
    get bytes() {
      return bytes;
    },
    get maxAbs() {
      return maxAbs;
    },
    async append(images) {
      if (state !== 'writing') throw new Error('scratch stack: append after finish');
      const count = images.length / (box * box);
      if (!Number.isInteger(count)) throw new RangeError('scratch stack: append needs whole images');
      if (count === 0) return;
      const [bits, most] = await Promise.all([
        encodeFloat16Native(images),
        native().maxAbs({ values: images }),
      ]);
      const buf = new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength);
      await writeAll(handle, folder, buf, bytes);
      bytes += buf.byteLength;
      n += count;
      maxAbs = Math.max(maxAbs, most);
    },
    finish() {
      if (state === 'writing') state = 'reading';
    },
    read(start, count) {
      return readDecoded(start, count);
    },
    readInto(start, count, out) {
      if (!(out instanceof Float32Array) || out.length < count * box * box)
        throw new RangeError(
          `scratch stack: out must be a Float32Array of at least ${count * box * box} values`,
        );
      return readDecoded(start, count, out);
    },
    async gather(items, out) {
      if (state !== 'reading') throw new Error(`scratch stack: gather while ${state}`);
      if (!(items instanceof Int32Array)) throw new TypeError('scratch stack: items must be an Int32Array');
      const values = items.length * box * box;
      if (out !== undefined && (!(out instanceof Float32Array) || out.length < values))
        throw new RangeError(`scratch stack: out must be a Float32Array of at least ${values} values`);
      const into = out ? out.subarray(0, values) : new Float32Array(values);
      if (items.length === 0) return into;
      const job = native().float16Gather({
        fd: handle.fd,
        offset: 0,
        images: n,
        values: box * box,
        items,
        out: into,
        threads,
      });
      gathering.add(job);
      try {
        await job;
      } catch (err) {
        if (err instanceof RangeError) throw new RangeError(`scratch stack: ${err.message}`);
        throw scratchError(folder, `the scratch stack: ${(err as Error).message}`, err);
      } finally {
        gathering.delete(job);
      }
      return into;
    },
    async close() {
      if (state === 'closed') return;
      state = 'closed';
      await Promise.allSettled(gathering);
      await handle.close();
    },
  };
  return stack;
}

function formatBytes(b: number): string {
  return b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(1)} GiB` : `${(b / 2 ** 20).toFixed(1)} MiB`;
}
