/**
 * Error classes and argument checks shared by the whole package.
 *
 * Every error the library raises on purpose is an {@link AckmeansError} (or a subclass) with a
 * stable `code`; argument mistakes are `TypeError` / `RangeError` whose message names the argument.
 */

/** Base class of the errors ackmeans raises on purpose. `code` is stable and machine-readable. */
export class AckmeansError extends Error {
  readonly code: string;
  /** The file the problem is in, when there is one. */
  readonly file?: string;
  constructor(code: string, message: string, options?: { file?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AckmeansError';
    this.code = code;
    if (options?.file !== undefined) this.file = options.file;
  }
}

/** The error a cancelled operation rejects with (`name === 'AbortError'`, like Node's own APIs). */
export function abortError(signal?: AbortSignal): DOMException {
  const err = new DOMException('The operation was aborted', 'AbortError');
  if (signal?.reason !== undefined) Object.defineProperty(err, 'cause', { value: signal.reason });
  return err;
}

/** Throws the standard AbortError if `signal` is already aborted. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortError(signal);
}

/** `value` must be a Float32Array; returns it typed. */
export function checkFloat32Array(name: string, value: unknown): Float32Array {
  if (!(value instanceof Float32Array)) throw new TypeError(`${name} must be a Float32Array`);
  return value;
}

/** `value` must be an integer in [min, max]; returns it. */
export function checkInt(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${typeof value}`);
  if (!Number.isInteger(value)) throw new RangeError(`${name} must be an integer, got ${value}`);
  if (value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new RangeError(`${name} must be ${range}, got ${value}`);
  }
  return value;
}

/** `value` must be a finite number in [min, max]; returns it. */
export function checkNumber(name: string, value: unknown, min = -Infinity, max = Infinity): number {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${typeof value}`);
  if (!Number.isFinite(value)) throw new RangeError(`${name} must be finite, got ${value}`);
  if (value < min || value > max) throw new RangeError(`${name} must be in [${min}, ${max}], got ${value}`);
  return value;
}

/** Optional AbortSignal check. */
export function checkSignal(value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw new TypeError('signal must be an AbortSignal');
  return value;
}

/** Optional callback check. */
export function checkCallback<T extends (...args: never[]) => unknown>(
  name: string,
  value: unknown,
): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new TypeError(`${name} must be a function`);
  return value as T;
}

/** Index of the first NaN or ±Infinity in `data`, or -1. */
export function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}

/** One line describing `err` for a person: the message, with the file when it has one. */
export function describeError(err: unknown): string {
  if (err instanceof AckmeansError) return err.message;
  if (err instanceof DOMException && err.name === 'AbortError') return 'cancelled';
  if (err instanceof Error) return err.message;
  return String(err);
}
