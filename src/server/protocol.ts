/**
 * The messages between the server (runner.ts) and a job's worker process (worker.ts), over the
 * IPC channel of `child_process.fork`.
 */

import type { RunOptions } from '../pipeline/run.js';

/** Server → worker: run this job. `resume` continues from the checkpoint in `outDir`. */
export interface StartMessage {
  type: 'start';
  input: string;
  outDir: string;
  params: Record<string, unknown>;
  resume: boolean;
  /** The stacks checked at submission (reference as written → real file): the only ones opened. */
  remap?: Record<string, string>;
  /** Run the scale engine's passes as Slurm job arrays (`ackmeans serve --executor slurm`). */
  slurm?: RunOptions['slurm'];
}

/** Server → worker: stop the job (the worker answers `cancelled` and exits). */
export interface CancelMessage {
  type: 'cancel';
}

/** Server → worker messages. */
export type ServerMessage = StartMessage | CancelMessage;

/** Worker → server messages. */
export type WorkerMessage =
  | { type: 'progress'; progress: Record<string, unknown> }
  /** One iteration's trace record; `key` (phase:iteration) identifies it across a resume. */
  | { type: 'iteration'; key: string; trace: unknown }
  | { type: 'done'; summary: Record<string, unknown> }
  | { type: 'failed'; error: string; code?: string }
  | { type: 'cancelled' };

/** True when `m` looks like a worker message (IPC data is untrusted JSON). */
export function isWorkerMessage(m: unknown): m is WorkerMessage {
  if (typeof m !== 'object' || m === null) return false;
  const type = (m as { type?: unknown }).type;
  return (
    type === 'progress' ||
    type === 'iteration' ||
    type === 'done' ||
    type === 'failed' ||
    type === 'cancelled'
  );
}
