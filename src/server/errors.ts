/**
 * The error the server answers with: an HTTP status, a stable code and one line for a person.
 * Anything else thrown inside a route becomes a 500 whose body never carries a stack.
 */
import { AckmeansError } from '../errors.js';

/** An error with the HTTP status it should be answered with. */
export class HttpError extends AckmeansError {
  readonly status: number;
  constructor(status: number, code: string, message: string, options?: { file?: string; cause?: unknown }) {
    super(code, message, options);
    this.name = 'HttpError';
    this.status = status;
  }
}

/** The JSON body of every error response: `{ "error": "<one line>", "code": "<stable code>" }`. */
export interface ErrorBody {
  error: string;
  code: string;
}

/** Collapses a message to one line (errors sent to clients never span lines). */
export function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}

/** True for errors meaning the disk (or a disk quota) is full: ENOSPC, EDQUOT, SQLITE_FULL. */
export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL';
}
