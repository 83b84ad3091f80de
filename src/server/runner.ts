/**
 * Runs one job in its own child process (`child_process.fork` of worker.ts / worker.js) and
 * reports what happened. A worker that dies without saying it finished — a native crash, a kill,
 * an out-of-memory — fails its job with a one-line reason such as "worker crashed (SIGSEGV)";
 * the server itself is untouched.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isWorkerMessage, type ServerMessage, type StartMessage, type WorkerMessage } from './protocol.js';

/** The module a worker process runs and the Node flags it needs. */
export interface WorkerModule {
  path: string;
  execArgv: string[];
}

/**
 * The worker next to this file: `worker.js` in the built package, or `worker.ts` run through
 * tsx when the server itself runs from TypeScript sources (tests, `tsx src/cli.ts`).
 */
export function defaultWorkerModule(): WorkerModule {
  const fromSources = import.meta.url.endsWith('.ts');
  const path = fileURLToPath(new URL(fromSources ? './worker.ts' : './worker.js', import.meta.url));
  return { path, execArgv: fromSources ? ['--import', 'tsx'] : [] };
}

/** How a worker ended. */
export type WorkerOutcome =
  | { state: 'succeeded'; summary: Record<string, unknown> }
  | { state: 'failed'; error: string }
  | { state: 'cancelled' }
  /** The IPC channel was closed on purpose (server shutdown): the job is left to resume. */
  | { state: 'detached' };

/** Callbacks for what a worker reports while it runs. */
export interface WorkerHandlers {
  onProgress?: (progress: Record<string, unknown>) => void;
  onIteration?: (key: string, trace: unknown) => void;
}

/** Seconds a worker gets to stop after a cancel before it is killed. */
const CANCEL_GRACE_MS = 5000;
/** Bytes of the worker's stderr kept for diagnostics. */
const STDERR_TAIL = 4096;

/** One job's worker process. */
export class WorkerProcess {
  readonly pid: number;
  /** Settles once the process has exited. */
  readonly outcome: Promise<WorkerOutcome>;
  /** The last few KB the worker wrote on stderr. */
  stderrTail = '';
  private readonly child: ChildProcess;
  private cancelTimer: NodeJS.Timeout | undefined;
  private cancelling = false;
  private detaching = false;

  constructor(module: WorkerModule, start: StartMessage, handlers: WorkerHandlers = {}) {
    this.child = fork(module.path, [], {
      execArgv: module.execArgv,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, ACKMEANS_WORKER: '1' },
    });
    if (this.child.pid === undefined) throw new Error('could not start a worker process');
    this.pid = this.child.pid;
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL);
    });
    let final: WorkerMessage | undefined;
    this.child.on('message', (m: unknown) => {
      if (!isWorkerMessage(m)) return;
      if (m.type === 'progress') handlers.onProgress?.(m.progress);
      else if (m.type === 'iteration') handlers.onIteration?.(m.key, m.trace);
      else final ??= m;
    });
    this.outcome = new Promise((resolve) => {
      let spawnError: Error | undefined;
      this.child.on('error', (err) => {
        spawnError ??= err;
      });
      this.child.on('exit', (code, signal) => {
        clearTimeout(this.cancelTimer);
        if (final?.type === 'done') resolve({ state: 'succeeded', summary: final.summary });
        else if (final?.type === 'failed') resolve({ state: 'failed', error: final.error });
        else if (final?.type === 'cancelled' || this.cancelling) resolve({ state: 'cancelled' });
        else if (this.detaching) resolve({ state: 'detached' });
        else if (signal) resolve({ state: 'failed', error: `worker crashed (${signal})` });
        else if (spawnError) resolve({ state: 'failed', error: `worker failed: ${spawnError.message}` });
        else resolve({ state: 'failed', error: `worker exited with code ${code} before finishing` });
      });
    });
    this.send(start);
  }

  private send(message: ServerMessage): void {
    if (this.child.connected) this.child.send(message, () => {});
  }

  /** Asks the worker to stop; kills it if it has not exited after a grace period. */
  cancel(): void {
    if (this.cancelling) return;
    this.cancelling = true;
    this.send({ type: 'cancel' });
    this.cancelTimer = setTimeout(() => this.child.kill('SIGKILL'), CANCEL_GRACE_MS);
  }

  /**
   * Server shutdown: closes the IPC channel (the worker exits at once, leaving its checkpoint) and
   * waits for the process to end.
   */
  async detach(): Promise<void> {
    this.detaching = true;
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), CANCEL_GRACE_MS);
    await this.outcome;
    clearTimeout(timer);
  }
}
