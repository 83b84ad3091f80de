/**
 * Atomic writes: data goes to a temporary name in the destination folder, then is renamed over
 * the destination, so readers never see a half-written file and a failure leaves no debris.
 */
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

let counter = 0;

/** A fresh temporary name beside `path` (same folder, so the final rename is atomic). */
export function temporaryPath(path: string): string {
  counter += 1;
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${counter}`);
}

/**
 * A file being written under a temporary name: `commit()` flushes and renames it to `path`,
 * `abort()` removes it. Exactly one of the two must be called.
 */
export interface AtomicFile {
  readonly path: string;
  readonly tempPath: string;
  readonly handle: FileHandle;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** Opens a temporary file for `path` (see {@link AtomicFile}). */
export async function openAtomic(path: string): Promise<AtomicFile> {
  const tempPath = temporaryPath(path);
  const handle = await open(tempPath, 'wx');
  let done = false;
  return {
    path,
    tempPath,
    handle,
    async commit() {
      if (done) return;
      done = true;
      try {
        await handle.close();
        await rename(tempPath, path);
      } catch (err) {
        await unlink(tempPath).catch(() => undefined);
        throw err;
      }
    },
    async abort() {
      if (done) return;
      done = true;
      await handle.close().catch(() => undefined);
      await unlink(tempPath).catch(() => undefined);
    },
  };
}

/** Writes `chunks` (in order) to `path` atomically. */
export async function writeFileAtomic(path: string, ...chunks: (Uint8Array | string)[]): Promise<void> {
  const file = await openAtomic(path);
  try {
    for (const chunk of chunks) await writeAll(file.handle, chunk);
    await file.commit();
  } catch (err) {
    await file.abort();
    throw err;
  }
}

const MAX_WRITE = 1 << 30;

/** Writes all of `data` at `position` (or at the current end when omitted), in ≤ 1 GiB pieces. */
export async function writeAll(
  handle: FileHandle,
  data: Uint8Array | string,
  position?: number,
): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let done = 0;
  while (done < bytes.byteLength) {
    const len = Math.min(MAX_WRITE, bytes.byteLength - done);
    const { bytesWritten } = await handle.write(
      bytes,
      done,
      len,
      position === undefined ? null : position + done,
    );
    done += bytesWritten;
  }
}
