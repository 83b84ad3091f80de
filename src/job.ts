/**
 * Running a native job: cancellation through an AbortSignal, progress callbacks, thread
 * counts, and errors that carry the caller's stack.
 */
import { availableParallelism } from 'node:os';
import { AckmeansError, abortError, checkInt, throwIfAborted } from './errors.js';

/** Progress of a long operation. */
export interface Progress {
  /** Units of work finished (images, pairs, iterations: the operation says which). */
  done: number;
  /** Units of work in all. */
  total: number;
  /** done / total, in [0, 1]. */
  fraction: number;
}

/** Options every long-running call accepts. */
export interface JobOptions {
  /** Worker threads for native work (default: all cores, `os.availableParallelism()`). */
  threads?: number;
  /** Cancels the call; it then rejects with an `AbortError` within a fraction of a second. */
  signal?: AbortSignal;
  /** Called about every 100 ms while the job runs, and once at the end. */
  onProgress?: (progress: Progress) => void;
}

/** The thread count to use: `threads` checked, or every core. */
export function resolveThreads(threads: unknown): number {
  if (threads === undefined) return availableParallelism();
  return checkInt('threads', threads, 1, 1024);
}

const PROGRESS_INTERVAL_MS = 100;

/**
 * Runs `start(control)` (a native call taking the shared control block) with cancellation and
 * progress. Rejects with an `AbortError` if cancelled; native failures become an
 * {@link AckmeansError} (code `ERR_ACKMEANS_NATIVE`) whose stack is the caller's.
 */
export async function runNativeJob<T>(
  start: (control: Float64Array) => Promise<T>,
  options: Pick<JobOptions, 'signal' | 'onProgress'> = {},
): Promise<T> {
  const { signal, onProgress } = options;
  const callSite = new Error();
  throwIfAborted(signal);
  const control = new Float64Array(3);
  const onAbort = (): void => {
    control[0] = 1;
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const report = (): void => {
    const total = control[2];
    const done = control[1];
    onProgress?.({ done, total, fraction: total > 0 ? Math.min(1, done / total) : 0 });
  };
  const timer = onProgress ? setInterval(report, PROGRESS_INTERVAL_MS) : undefined;
  try {
    const result = await start(control);
    if (onProgress) report();
    return result;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e?.code === 'ABORT_ERR' || signal?.aborted) throw abortError(signal);
    if (err instanceof TypeError || err instanceof RangeError) throw err;
    const wrapped = new AckmeansError(
      'ERR_ACKMEANS_NATIVE',
      `ackmeans native: ${e?.message ?? String(err)}`,
      {
        cause: err,
      },
    );
    wrapped.stack = `${wrapped.name}: ${wrapped.message}\n${callSite.stack?.split('\n').slice(1).join('\n') ?? ''}`;
    throw wrapped;
  } finally {
    if (timer) clearInterval(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
