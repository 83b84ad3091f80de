/**
 * The worker side of the job protocol, shared by every worker module: waits for the `start`
 * message, runs the job with an AbortSignal, forwards progress and per-iteration records, and
 * reports `done`, `failed` or `cancelled` before exiting. It cancels on an IPC `cancel` or on
 * SIGTERM, and exits at once when the server goes away (IPC disconnect: a killed server leaves
 * no orphan workers; the job's last checkpoint stays for the next server to resume from).
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError } from '../errors.js';
import { isDiskFull, oneLine } from './errors.js';
import type { ServerMessage, StartMessage, WorkerMessage } from './protocol.js';

/** Options a job function receives. */
export interface JobRunOptions {
  signal: AbortSignal;
  resume: boolean;
  /** The stacks checked at submission (reference as written → real file). */
  remap?: Record<string, string>;
  /** The server's Slurm executor settings (`serve --executor slurm`); none: in the worker. */
  slurm?: StartMessage['slurm'];
  onProgress: (progress: Record<string, unknown>) => void;
  onIteration: (trace: unknown) => void;
}

/** Runs one job; resolves with its summary. */
export type JobFunction = (
  input: string,
  outDir: string,
  params: Record<string, unknown>,
  options: JobRunOptions,
) => Promise<Record<string, unknown>>;

/**
 * Written (atomically) in the job's folder when its function has finished: a worker started
 * again for a job whose end the server did not get to record reports this summary instead of
 * running the job a second time.
 */
export const SUMMARY_FILE = 'job-summary.json';

async function finishedSummary(outDir: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await readFile(join(outDir, SUMMARY_FILE), 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

async function saveSummary(outDir: string, summary: Record<string, unknown>): Promise<void> {
  const path = join(outDir, SUMMARY_FILE);
  const temp = `${path}.${randomUUID()}.tmp`;
  await writeFile(temp, JSON.stringify(summary));
  await rename(temp, path);
}

/**
 * The worker's own copy of the job's trace, one `{key, trace}` JSON line per record, appended
 * (synchronously) before each record is sent. A resumed worker sends it again first, so records
 * that were in flight when a server was killed are not lost (the server replaces by key).
 */
export const TRACE_FILE = 'job-trace.jsonl';

async function replayTrace(outDir: string): Promise<void> {
  const text = await readFile(join(outDir, TRACE_FILE), 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    let record: { key: string; trace: unknown };
    try {
      record = JSON.parse(line) as typeof record;
    } catch {
      continue; // empty, or the last line cut by a kill
    }
    await send({ type: 'iteration', key: record.key, trace: record.trace });
  }
}

/** Milliseconds between two progress messages (a change of stage is always sent). */
const PROGRESS_EVERY_MS = 100;

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send!(message, undefined, {}, () => resolve());
  });
}

/**
 * The identity of a trace record: `<phase>:<iteration>` when the record has them (an iteration
 * redone after a resume replaces its first record), else its position in this run.
 */
export function traceKey(trace: unknown, position: number): string {
  const t = (trace ?? {}) as { phase?: unknown; iteration?: unknown };
  if (typeof t.iteration === 'number') return `${typeof t.phase === 'string' ? t.phase : ''}:${t.iteration}`;
  return `#${position}`;
}

async function runJob(run: JobFunction, start: StartMessage, signal: AbortSignal): Promise<WorkerMessage> {
  // Progress is sent at most every PROGRESS_EVERY_MS (a change of stage at once); the latest
  // report is always delivered before the final message.
  let lastSent = 0;
  let lastStage: unknown;
  let pending: Record<string, unknown> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (!pending) return;
    lastSent = Date.now();
    lastStage = pending.stage;
    void send({ type: 'progress', progress: pending });
    pending = undefined;
  };
  let iterations = 0;
  try {
    if (start.resume) await replayTrace(start.outDir);
    const earlier = start.resume ? await finishedSummary(start.outDir) : undefined;
    if (earlier) return { type: 'done', summary: earlier };
    const summary = await run(start.input, start.outDir, start.params, {
      signal,
      resume: start.resume,
      ...(start.remap ? { remap: start.remap } : {}),
      ...(start.slurm ? { slurm: start.slurm } : {}),
      onProgress: (progress) => {
        pending = progress;
        const wait = PROGRESS_EVERY_MS - (Date.now() - lastSent);
        if (wait <= 0 || progress.stage !== lastStage) flush();
        else timer ??= setTimeout(flush, wait);
      },
      onIteration: (trace) => {
        const key = traceKey(trace, iterations++);
        appendFileSync(join(start.outDir, TRACE_FILE), `${JSON.stringify({ key, trace })}\n`);
        void send({ type: 'iteration', key, trace });
      },
    });
    flush();
    await saveSummary(start.outDir, summary);
    return { type: 'done', summary };
  } catch (err) {
    flush();
    if (signal.aborted) return { type: 'cancelled' };
    const code = (err as { code?: unknown })?.code;
    return {
      type: 'failed',
      error: isDiskFull(err)
        ? `the server's disk is full: the job's outputs could not be written (${String(code)})`
        : oneLine(describeError(err)),
      code: typeof code === 'string' ? code : undefined,
    };
  }
}

/** Makes this process a worker running `run` for the job the server sends. */
export function serveWorker(run: JobFunction): void {
  if (!process.send) throw new Error('a worker must be started by the server (child_process.fork)');
  const controller = new AbortController();
  let started = false;
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => controller.abort());
  process.on('message', (m: ServerMessage) => {
    if (m?.type === 'cancel') controller.abort();
    else if (m?.type === 'start' && !started) {
      started = true;
      void runJob(run, m, controller.signal).then(async (final) => {
        await send(final);
        process.exit(0);
      });
    }
  });
}
