/**
 * The error every reader and writer in src/io raises for bad files: an {@link AckmeansError}
 * with a stable `code`, the file, and a message that names both the file and the problem.
 */
import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { AckmeansError } from '../errors.js';

/**
 * A file is malformed, truncated, inconsistent or unsupported. Codes include
 * `ERR_MRC_TRUNCATED`, `ERR_MRC_MODE`, `ERR_MRC_HEADER`, `ERR_MRC_SIZE`, `ERR_STAR_SYNTAX`,
 * `ERR_STAR_RAGGED`, `ERR_CS_FORMAT`, `ERR_CS_UNSUPPORTED`, `ERR_SPIDER_HEADER`,
 * `ERR_INDEX_RANGE`, `ERR_MISSING_STACKS`, `ERR_FILE_NOT_FOUND`, `ERR_NOT_A_FILE`, `ERR_BOX_MISMATCH`,
 * `ERR_PIXEL_SIZE`, `ERR_STAR_VALUE`, `ERR_NO_PARTICLES`.
 */
export class FormatError extends AckmeansError {
  constructor(code: string, file: string, problem: string, options?: { cause?: unknown }) {
    super(code, `${basename(file)}: ${problem}`, { file, cause: options?.cause });
    this.name = 'FormatError';
  }
}

/** Turns a file-system error (missing file, permission…) into a {@link FormatError} naming the file. */
export function fileError(file: string, err: unknown): Error {
  if (err instanceof AckmeansError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT')
    return new FormatError('ERR_FILE_NOT_FOUND', file, 'no such file', { cause: err });
  if (e?.code === 'EISDIR')
    return new FormatError('ERR_NOT_A_FILE', file, 'is a directory, not a regular file', { cause: err });
  if (e?.code === 'EACCES')
    return new FormatError('ERR_FILE_ACCESS', file, 'permission denied', { cause: err });
  return err instanceof Error ? err : new Error(String(err));
}

/** What a non-regular file is, for messages. */
function fileType(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/**
 * Stats `path` and checks it is a regular file, before anything opens it: a FIFO or a device
 * would block or never end. Throws `ERR_FILE_NOT_FOUND`, `ERR_FILE_ACCESS` or `ERR_NOT_A_FILE`
 * (saying what the path is instead: a directory, a FIFO…).
 */
export async function checkRegularFile(path: string): Promise<Stats> {
  let st: Stats;
  try {
    st = await stat(path);
  } catch (err) {
    throw fileError(path, err);
  }
  if (!st.isFile()) {
    const type = fileType(st);
    throw new FormatError('ERR_NOT_A_FILE', path, `is ${type}, not a regular file`);
  }
  return st;
}
