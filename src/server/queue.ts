/**
 * The job queue: runs up to `concurrency` jobs at once, each in its own worker process with
 * `threadsPerJob` threads, oldest first. At start-up it recovers from any previous stop (even
 * `kill -9`): jobs that were running go back to the front of the queue and resume from their
 * checkpoint once their old worker is gone; queued jobs simply run. A job is claimed by one
 * runner at a time (an atomic state change in the store), so it never runs twice at once.
 */
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StartMessage } from './protocol.js';
import { WorkerProcess, type WorkerModule, type WorkerOutcome } from './runner.js';
import { isDiskFull } from './errors.js';
import type { Job, JobStore, NewJob } from './store.js';

/** What the queue tells listeners (SSE streams) about a job. */
export type JobEvent =
  | { id: string; type: 'state'; job: Job }
  | { id: string; type: 'progress'; progress: Record<string, unknown> }
  | { id: string; type: 'iteration'; trace: unknown };

/** How a {@link JobQueue} runs jobs. */
export interface QueueOptions {
  store: JobStore;
  /** Job outputs go to `<jobsDir>/<id>/`. */
  jobsDir: string;
  /** Jobs running at once (>= 1). */
  concurrency: number;
  /** Threads each job may use (its `params.threads` is capped to this). */
  threadsPerJob: number;
  /** The worker module to fork. */
  worker: WorkerModule;
  /**
   * Run every job's passes as Slurm job arrays with these settings; a `dir` is the parent of
   * the jobs' job folders (`<dir>/<job id>`), else each job uses `<its output>/slurm`.
   */
  slurm?: StartMessage['slurm'];
  /** Called with diagnostics (a worker's stderr when it fails). */
  log?: (line: string) => void;
}

/** How often the queue retries a store write that failed (a full disk) and looks for work. */
const RETRY_MS = 5000;

/** One line for an error of the store (a full disk says so plainly). */
function storeFailure(err: unknown): string {
  return isDiskFull(err)
    ? "the server's disk is full: the job's state could not be recorded"
    : `the job store failed: ${(err as Error)?.message ?? String(err)}`;
}

/** How long start-up waits for a previous server's worker to exit before killing it. */
const OLD_WORKER_WAIT_MS = 10_000;

/**
 * Whether `pid` is a live ackmeans worker: it exists, is not a zombie, and (on Linux, through
 * /proc) its command line names a worker module — a recycled pid is not waited for.
 */
async function isLiveWorker(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('worker');
  } catch {
    return !existsSync('/proc/self');
  }
}

/** Waits until the old worker `pid` has exited; kills it after OLD_WORKER_WAIT_MS. */
async function waitForOldWorker(pid: number): Promise<void> {
  const deadline = Date.now() + OLD_WORKER_WAIT_MS;
  while (await isLiveWorker(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The queue of one server. Emits `'event'` with a {@link JobEvent}. */
export class JobQueue extends EventEmitter {
  /** Jobs holding a slot (claimed, worker starting or running). */
  private readonly slots = new Set<string>();
  /** Worker processes of the running jobs. */
  private readonly workers = new Map<string, WorkerProcess>();
  /** Final outcomes the store could not record yet (a full disk), retried every RETRY_MS. */
  private readonly unrecorded = new Map<string, WorkerOutcome>();
  private retryTimer: NodeJS.Timeout | undefined;
  private started = false;
  private stopping = false;

  constructor(private readonly opts: QueueOptions) {
    super();
    this.setMaxListeners(0);
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1)
      throw new RangeError('concurrency must be an integer >= 1');
    if (!Number.isInteger(opts.threadsPerJob) || opts.threadsPerJob < 1)
      throw new RangeError('threadsPerJob must be an integer >= 1');
  }

  /** Recovers jobs interrupted by a previous stop, then starts running the queue. */
  async start(): Promise<void> {
    const interrupted = this.opts.store.recover();
    await Promise.all(interrupted.map((j) => (j.pid === null ? undefined : waitForOldWorker(j.pid))));
    this.started = true;
    this.pump();
  }

  /** Jobs running now. */
  get runningCount(): number {
    return this.slots.size;
  }

  /** Process id of a running job's worker. */
  workerPid(id: string): number | undefined {
    return this.workers.get(id)?.pid;
  }

  /** Queues a new job and returns it. */
  submit(job: NewJob): Job {
    const created = this.opts.store.insert(job);
    this.emitState(created);
    this.pump();
    return created;
  }

  /**
   * Cancels a job: a queued one at once, a running one by stopping its worker (the state becomes
   * `cancelled` when it has stopped). Returns the job, or undefined if there is no such job.
   */
  cancel(id: string): Job | undefined {
    const { store } = this.opts;
    if (store.cancelQueued(id)) {
      const job = store.get(id)!;
      this.emitState(job);
      return job;
    }
    if (store.requestCancel(id)) this.workers.get(id)?.cancel();
    return store.get(id);
  }

  /** Stops taking jobs and detaches the running workers; their jobs resume at the next start. */
  async close(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.retryTimer);
    await Promise.all([...this.workers.values()].map((w) => w.detach()));
  }

  private emitState(job: Job): void {
    this.emit('event', { id: job.id, type: 'state', job } satisfies JobEvent);
  }

  /** Retries what failed to be recorded, then looks for work again, after RETRY_MS. */
  private retryLater(): void {
    if (this.stopping || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      for (const [id, outcome] of [...this.unrecorded]) {
        this.unrecorded.delete(id);
        this.record(id, outcome);
      }
      this.pump();
    }, RETRY_MS);
    this.retryTimer.unref();
  }

  private pump(): void {
    if (!this.started || this.stopping) return;
    while (this.slots.size < this.opts.concurrency) {
      let job: Job | undefined;
      try {
        job = this.opts.store.claimNext();
      } catch (err) {
        this.opts.log?.(`could not start the next job: ${storeFailure(err)}`);
        return this.retryLater();
      }
      if (!job) return;
      const claimed = job;
      this.slots.add(claimed.id);
      this.emitState(claimed);
      this.launch(claimed).catch((err: unknown) =>
        this.settle(claimed.id, {
          state: 'failed',
          error: isDiskFull(err)
            ? "the server's disk is full: the job could not start"
            : `the job could not start: ${(err as Error)?.message ?? String(err)}`,
        }),
      );
    }
  }

  /**
   * A store write made while a job runs (progress, trace): a failure (a full disk) stops the job,
   * which then fails with the reason, instead of ending the server.
   */
  private guard(id: string, write: () => void): void {
    try {
      write();
    } catch (err) {
      this.opts.log?.(`job ${id}: ${storeFailure(err)}`);
      const proc = this.workers.get(id);
      if (proc && !this.failing.has(id)) {
        this.failing.set(id, storeFailure(err));
        proc.cancel();
      }
    }
  }

  /** Jobs stopped because the store failed, with the reason they fail with. */
  private readonly failing = new Map<string, string>();

  private async launch(job: Job): Promise<void> {
    const { store, jobsDir, threadsPerJob, worker, slurm } = this.opts;
    const outDir = join(jobsDir, job.id);
    await mkdir(outDir, { recursive: true });
    // Stopped meanwhile: the job stays running in the store and resumes at the next start.
    if (this.stopping) return this.settle(job.id, { state: 'detached' });
    const asked = job.params.threads;
    const threads = typeof asked === 'number' ? Math.min(asked, threadsPerJob) : threadsPerJob;
    const proc = new WorkerProcess(
      worker,
      {
        type: 'start',
        input: job.input,
        outDir,
        params: { ...job.params, threads },
        resume: job.attempts > 1,
        ...(job.remap ? { remap: job.remap } : {}),
        ...(slurm ? { slurm: { ...slurm, ...(slurm.dir ? { dir: join(slurm.dir, job.id) } : {}) } } : {}),
      },
      {
        onProgress: (progress) => {
          this.guard(job.id, () => store.setProgress(job.id, progress));
          this.emit('event', { id: job.id, type: 'progress', progress } satisfies JobEvent);
        },
        onIteration: (key, trace) => {
          this.guard(job.id, () => store.addIteration(job.id, key, trace));
          this.emit('event', { id: job.id, type: 'iteration', trace } satisfies JobEvent);
        },
      },
    );
    this.workers.set(job.id, proc);
    this.guard(job.id, () => {
      store.setPid(job.id, proc.pid);
      if (store.get(job.id)?.cancelRequested) proc.cancel();
    });
    let outcome = await proc.outcome;
    const failure = this.failing.get(job.id);
    this.failing.delete(job.id);
    if (failure !== undefined) outcome = { state: 'failed', error: failure };
    if (outcome.state === 'failed' && proc.stderrTail.trim())
      this.opts.log?.(`job ${job.id}: ${outcome.error}; worker stderr:\n${proc.stderrTail.trim()}`);
    this.settle(job.id, outcome);
  }

  private settle(id: string, outcome: WorkerOutcome): void {
    this.slots.delete(id);
    this.workers.delete(id);
    if (this.stopping || outcome.state === 'detached') return;
    this.record(id, outcome);
    this.pump();
  }

  /** Records a job's final state; a failing store (a full disk) is retried, never thrown. */
  private record(id: string, outcome: WorkerOutcome): void {
    const { store } = this.opts;
    try {
      if (outcome.state === 'succeeded') store.finish(id, 'succeeded', { summary: outcome.summary });
      else if (outcome.state === 'failed') store.finish(id, 'failed', { error: outcome.error });
      else if (outcome.state === 'cancelled') store.finish(id, 'cancelled');
    } catch (err) {
      this.opts.log?.(`job ${id}: ${storeFailure(err)}; retrying`);
      // The result itself could not be stored: at least record the job as failed, saying why.
      if (outcome.state === 'succeeded') {
        try {
          store.finish(id, 'failed', { error: storeFailure(err) });
        } catch {
          this.unrecorded.set(id, { state: 'failed', error: storeFailure(err) });
        }
      } else this.unrecorded.set(id, outcome);
      this.retryLater();
    }
    try {
      const job = store.get(id);
      if (job) this.emitState(job);
    } catch {
      // reading failed too: listeners hear about the job when it is recorded
    }
  }
}
