/**
 * Running work as a Slurm job array: submit with `sbatch --array`, follow each task through
 * files it leaves on the shared filesystem, retry a failed or killed task a bounded number of
 * times, cancel the whole array with `scancel` when the caller's signal fires.
 *
 * A shared filesystem between this process and the compute nodes is assumed (as RELION
 * assumes it): the job folder, the task command's inputs and its outputs must be visible under
 * the same paths everywhere.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AckmeansError, abortError, checkInt, throwIfAborted } from '../errors.js';

/** Where and how to submit. */
export interface SlurmSettings {
  /** `--partition` (default: the cluster's default partition). */
  partition?: string;
  /** `--account`. */
  account?: string;
  /** More `sbatch` arguments, passed as they are (e.g. `['--time=01:00:00', '--mem=4G']`). */
  sbatchArgs?: string[];
  /** Times a failed or lost task is submitted again before the array fails (default 2). */
  maxRetries?: number;
  /**
   * Longest wait between two looks at the tasks' exit files, in ms (default 1000). The first
   * look comes after 20 ms and the wait grows by half each time up to this (short passes are
   * not held back by a whole interval); `squeue` is asked at most once per `pollMs`.
   */
  pollMs?: number;
  /** Environment of the Slurm commands (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

/** One job array: `tasks` runs of `command`, each with its index in `SLURM_ARRAY_TASK_ID`. */
export interface ArrayJob {
  /** Job name shown by `squeue`. */
  name: string;
  /** A folder on the shared filesystem for the batch script, the task logs and exit codes. */
  dir: string;
  /** Number of tasks (indices 0..tasks−1). */
  tasks: number;
  /** The program and its arguments; the string `{task}` in an argument is replaced by the index. */
  command: string[];
  /** Folder the tasks run in (default: this process's current folder). */
  cwd?: string;
  /** CPUs per task (`--cpus-per-task`, default 1). */
  cpusPerTask?: number;
}

/** Progress of an array: tasks finished of all, and retries so far. */
export interface ArrayProgress {
  done: number;
  total: number;
  retries: number;
}

const COMMAND_TIMEOUT_MS = 60_000;
/** The first wait before looking at a new array's tasks, ms. */
const FIRST_LOOK_MS = 20;

function slurmError(message: string, cause?: unknown): AckmeansError {
  return new AckmeansError('ERR_SLURM', message, cause === undefined ? undefined : { cause });
}

/** Runs a Slurm command; resolves with its stdout, rejects with an ERR_SLURM error with its stderr. */
function slurm(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(cmd, args, { env: env ?? process.env, timeout: COMMAND_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (!err) return resolvePromise(stdout);
      const e = err as NodeJS.ErrnoException & { killed?: boolean };
      if (e.code === 'ENOENT')
        return reject(
          slurmError(
            `${cmd} not found on PATH: install Slurm's client commands (Debian: slurm-client) or use the local executor`,
          ),
        );
      if (e.killed) return reject(slurmError(`${cmd} did not answer within ${COMMAND_TIMEOUT_MS / 1000} s`));
      const why =
        String(stderr).trim().split('\n').pop() || `exit code ${String(e.code ?? 'unknown')}, no message`;
      reject(slurmError(`${cmd} ${args[0] ?? ''} failed: ${why}`, err));
    });
  });
}

/** `sbatch` options shared by the check and the submission. */
function submitOptions(settings: SlurmSettings): string[] {
  const args: string[] = [];
  if (settings.partition !== undefined) args.push(`--partition=${settings.partition}`);
  if (settings.account !== undefined) args.push(`--account=${settings.account}`);
  return [...args, ...(settings.sbatchArgs ?? [])];
}

/**
 * Checks, before any work, that Slurm's commands are on PATH, the controller answers and a job
 * with these settings would be accepted (`sbatch --test-only`: unknown partition or account,
 * bad `sbatchArgs`). Rejects with one ERR_SLURM error saying what is wrong.
 */
export async function checkSlurm(settings: SlurmSettings = {}): Promise<void> {
  const env = settings.env;
  for (const cmd of ['squeue', 'scancel']) await slurm(cmd, ['--version'], env);
  if (settings.partition !== undefined) {
    try {
      await slurm('scontrol', ['show', 'partition', settings.partition], env);
    } catch (err) {
      throw slurmError(
        `unknown Slurm partition "${settings.partition}" (${(err as Error).message}); sinfo lists the partitions`,
      );
    }
  }
  await slurm('sbatch', ['--test-only', ...submitOptions(settings), '--wrap', 'true'], env);
}

/**
 * Cancels the arrays `jobIds` (`scancel`), e.g. those a killed coordinator left running; ids
 * Slurm has forgotten are ignored.
 */
export async function cancelArrays(jobIds: string[], settings: SlurmSettings = {}): Promise<void> {
  if (jobIds.length) await slurm('scancel', jobIds, settings.env).catch(() => undefined);
}

function batchScript(job: ArrayJob, dir: string): string {
  const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;
  const argv = job.command.map((a) => quote(a).replaceAll('{task}', `'"$SLURM_ARRAY_TASK_ID"'`)).join(' ');
  // The exit code is written to a temporary name and renamed, so the coordinator never reads a
  // half-written file; a task killed by scancel or a node failure leaves none.
  return [
    '#!/bin/bash',
    `# ackmeans job array "${job.name}": one task of ${job.tasks}.`,
    `cd ${quote(resolve(job.cwd ?? process.cwd()))} || exit 1`,
    `${argv}`,
    'rc=$?',
    `echo "$rc" > ${quote(dir)}/task-"$SLURM_ARRAY_TASK_ID".exit.tmp`,
    `mv ${quote(dir)}/task-"$SLURM_ARRAY_TASK_ID".exit.tmp ${quote(dir)}/task-"$SLURM_ARRAY_TASK_ID".exit`,
    'exit "$rc"',
    '',
  ].join('\n');
}

async function readExit(dir: string, task: number): Promise<number | undefined> {
  try {
    const text = await readFile(join(dir, `task-${task}.exit`), 'utf8');
    const rc = Number.parseInt(text.trim(), 10);
    return Number.isFinite(rc) ? rc : 1;
  } catch {
    return undefined;
  }
}

async function logTail(dir: string, task: number): Promise<string> {
  try {
    const lines = (await readFile(join(dir, `task-${task}.log`), 'utf8')).trim().split('\n');
    return lines.slice(-3).join(' | ');
  } catch {
    return 'no log';
  }
}

/**
 * The array tasks of `jobIds` that Slurm lists (pending or running; with `running`, running
 * only), as `<array id>_<task>`.
 */
async function queuedTasks(jobIds: string[], env?: NodeJS.ProcessEnv, running = false): Promise<string[]> {
  const args = ['-h', '-r', '-j', jobIds.join(','), ...(running ? ['-t', 'RUNNING'] : []), '-o', '%i'];
  const out = await slurm('squeue', args, env).catch((err: unknown) => {
    // squeue fails for job ids it has forgotten: then none of them is listed.
    if (err instanceof AckmeansError && /Invalid job id/i.test(err.message)) return '';
    throw err;
  });
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^\d+_\d+$/.test(l));
}

/** Indices of `jobIds`' array tasks that Slurm still lists (pending or running). */
async function listedTasks(jobIds: string[], env?: NodeJS.ProcessEnv): Promise<Set<number>> {
  return new Set((await queuedTasks(jobIds, env)).map((id) => Number(id.split('_')[1])));
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((done) => {
    const t = setTimeout(done, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        done();
      },
      { once: true },
    );
  });

/** Hooks of {@link runArray} and {@link startArray}. */
export interface ArrayHooks {
  signal?: AbortSignal;
  onProgress?: (p: ArrayProgress) => void;
  /** Called with the id of every array submitted (before its tasks are followed). */
  onSubmit?: (jobId: string) => void | Promise<void>;
}

/** A submitted job array: follow it to its end with `wait`, or `cancel` it. */
export interface ArrayRun {
  /**
   * Resolves when every task has exited 0, submitting failed or lost tasks again (see
   * {@link runArray}); cancels the array and rejects on failure or when `signal` fires.
   */
  wait(hooks?: Omit<ArrayHooks, 'onSubmit'>): Promise<void>;
  /** Cancels every task submitted so far (`scancel`). */
  cancel(): Promise<void>;
  /**
   * The tasks running now, as `<array id>_<task>` (what a task finds in its environment as
   * `${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}`).
   */
  running(): Promise<Set<string>>;
}

/**
 * Submits `job` as a Slurm job array (`sbatch --array`) and returns at once: the tasks may run
 * while the caller prepares their inputs, if they wait for them (the Slurm pass executor
 * submits each pass's array ahead this way).
 */
export async function startArray(
  job: ArrayJob,
  settings: SlurmSettings = {},
  hooks: Pick<ArrayHooks, 'signal' | 'onSubmit'> = {},
): Promise<ArrayRun> {
  const tasks = checkInt('tasks', job.tasks, 1, 100_000);
  const maxRetries = checkInt('maxRetries', settings.maxRetries ?? 2, 0, 100);
  const pollMs = checkInt('pollMs', settings.pollMs ?? 1000, 10, 600_000);
  const env = settings.env;
  throwIfAborted(hooks.signal);
  const dir = resolve(job.dir);
  await mkdir(dir, { recursive: true });
  const script = join(dir, 'task.sh');
  await writeFile(`${script}.tmp`, batchScript(job, dir), { mode: 0o755 });
  await rename(`${script}.tmp`, script);

  const jobIds: string[] = [];
  const attempts = new Int32Array(tasks);
  const pending = new Set<number>();
  const submit = async (indices: number[]): Promise<void> => {
    await Promise.all(indices.map((i) => rm(join(dir, `task-${i}.exit`), { force: true })));
    const out = await slurm(
      'sbatch',
      [
        '--parsable',
        `--array=${indices.join(',')}`,
        `--job-name=${job.name}`,
        `--output=${join(dir, 'task-%a.log')}`,
        `--cpus-per-task=${job.cpusPerTask ?? 1}`,
        ...submitOptions(settings),
        script,
      ],
      env,
    );
    const id = out.trim().split(';')[0];
    jobIds.push(id);
    await hooks.onSubmit?.(id);
    for (const i of indices) {
      attempts[i]++;
      pending.add(i);
    }
  };
  const cancel = (): Promise<void> => cancelArrays(jobIds, settings);
  await submit(Array.from({ length: tasks }, (_, i) => i));

  const wait = async ({ signal, onProgress }: Omit<ArrayHooks, 'onSubmit'> = {}): Promise<void> => {
    let retries = 0;
    try {
      let delay = FIRST_LOOK_MS;
      let lastSqueue = performance.now();
      let listed = new Set<number>(pending);
      while (pending.size > 0) {
        await sleep(delay, signal);
        throwIfAborted(signal);
        delay = Math.min(pollMs, Math.ceil(delay * 1.5));
        // squeue (a round trip to the controller) at most once per pollMs; exit files every look.
        const askQueue = performance.now() - lastSqueue >= pollMs;
        if (askQueue) {
          listed = await listedTasks(jobIds, env);
          lastSqueue = performance.now();
        }
        const again: number[] = [];
        let finished = 0;
        for (const i of [...pending]) {
          // Read the exit code after squeue: a task writes it before it leaves the queue.
          const rc = await readExit(dir, i);
          if (rc === 0) {
            pending.delete(i);
            finished++;
            continue;
          }
          // Without a fresh squeue, a task with no exit file is taken as still running.
          if (rc === undefined && (!askQueue || listed.has(i))) continue;
          pending.delete(i);
          const why = rc === undefined ? 'was killed or lost' : `exited with ${rc}`;
          if (attempts[i] > maxRetries)
            throw slurmError(
              `Slurm task ${i} of "${job.name}" ${why} ${attempts[i]} times; its log (${join(dir, `task-${i}.log`)}): ${await logTail(dir, i)}`,
            );
          again.push(i);
        }
        if (again.length) {
          retries += again.length;
          await submit(again);
          for (const i of again) listed.add(i);
        }
        if (finished > 0) delay = FIRST_LOOK_MS; // the others are likely close behind
        if (finished > 0 || again.length) onProgress?.({ done: tasks - pending.size, total: tasks, retries });
      }
    } catch (err) {
      await cancel();
      if (signal?.aborted) throw abortError(signal);
      throw err;
    }
  };
  const running = async (): Promise<Set<string>> => new Set(await queuedTasks(jobIds, env, true));
  return { wait, cancel, running };
}

/**
 * Runs `job` as a Slurm job array and resolves when every task has exited 0. A task that exits
 * non-zero or disappears from the queue without an exit code (scancel, node failure, time
 * limit) is submitted again, up to `maxRetries` times; then the array is cancelled and the call
 * rejects with an ERR_SLURM error naming the task and the end of its log. Cancelling `signal`
 * cancels every submitted task and rejects with an AbortError.
 */
export async function runArray(
  job: ArrayJob,
  settings: SlurmSettings = {},
  hooks: ArrayHooks = {},
): Promise<void> {
  const run = await startArray(job, settings, hooks);
  await run.wait(hooks);
}
