/**
 * The error every reader and writer in src/io raises for bad files: an {@link AckmeansError}
 * with a stable `code`, the file, and a message that names both the file and the problem.
 */
import { basename } from 'node:path';
import { AckmeansError } from '../errors.js';

/**
 * A file is malformed, truncated, inconsistent or unsupported. Codes include
 * `ERR_MRC_TRUNCATED`, `ERR_MRC_MODE`, `ERR_MRC_HEADER`, `ERR_MRC_SIZE`, `ERR_STAR_SYNTAX`,
 * `ERR_STAR_RAGGED`, `ERR_CS_FORMAT`, `ERR_CS_UNSUPPORTED`, `ERR_SPIDER_HEADER`,
 * `ERR_INDEX_RANGE`, `ERR_MISSING_STACKS`, `ERR_FILE_NOT_FOUND`, `ERR_BOX_MISMATCH`.
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
    return new FormatError('ERR_FILE_NOT_FOUND', file, 'is a directory', { cause: err });
  if (e?.code === 'EACCES')
    return new FormatError('ERR_FILE_ACCESS', file, 'permission denied', { cause: err });
  return err instanceof Error ? err : new Error(String(err));
}
