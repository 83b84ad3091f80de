/**
 * The life of a classification's output folder, as RELION keeps its job folders:
 *   - a new run refuses a folder that already holds something (unless forced), so an earlier
 *     run's results are never overwritten by mistake; `--continue` needs its checkpoint;
 *   - the folder is locked ({@link LOCK_FILE}, the pid of the run) while a run writes into it, so
 *     two runs into the same folder cannot both succeed;
 *   - `note.txt` gets the command line, version, folder and date of every invocation;
 *   - `run.log` gets what the terminal showed (stages, iterations, the summary or the error).
 * Leftovers of a killed run — a lock of a dead process, `.staging-*` folders — do not count as
 * contents and are removed by the next run.
 */
import { appendFileSync } from 'node:fs';
import { mkdir, readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AckmeansError } from '../errors.js';
import { lockHeld, lockOwner, takePidLock } from '../io/pid-lock.js';

/** The lock file of a run in progress (holds its pid). */
export const LOCK_FILE = '.ackmeans.lock';
/** The command lines that wrote into the folder. */
export const NOTE_FILE = 'note.txt';
/** What the terminal showed. */
export const LOG_FILE = 'run.log';
/** Prefix of the staging folders outputs are written in before being renamed into place. */
export const STAGING_PREFIX = '.staging-';

/** How a run treats an output folder that already holds something. */
export type ExistingFolder = 'refuse' | 'overwrite' | 'continue';

/** An output folder a run holds (see the module documentation). */
export interface JobFolder {
  dir: string;
  /** True when this run created the folder. */
  created: boolean;
  /** Removes the folder with what this run wrote into it (for a run that created it and failed at once). */
  remove(): Promise<void>;
  /** Appends a line to run.log. */
  log(line: string): void;
  /** Releases the lock (idempotent). */
  release(): void;
}

/** A leftover of a killed run (see the module documentation). */
function leftover(dir: string, name: string): boolean {
  return name.startsWith(STAGING_PREFIX) || (name === LOCK_FILE && !lockHeld(join(dir, LOCK_FILE)));
}

/** The entries of `dir` that are not leftovers; undefined when it does not exist. */
async function contents(dir: string): Promise<string[] | undefined> {
  const entries = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    if (err.code === 'ENOTDIR')
      throw new AckmeansError('ERR_OUTPUT_EXISTS', `ackmeans: ${dir} exists and is not a folder`, {
        file: dir,
      });
    throw err;
  });
  return entries?.filter((name) => !leftover(dir, name));
}

function lockedError(dir: string, pid: number): AckmeansError {
  return new AckmeansError(
    'ERR_OUTPUT_LOCKED',
    `ackmeans: another ackmeans run (pid ${pid}) is writing into ${dir}; wait for it or choose another output folder`,
    { file: join(dir, LOCK_FILE) },
  );
}

function existsError(dir: string, entries: string[]): AckmeansError {
  const shown = entries.slice(0, 4).join(', ') + (entries.length > 4 ? ', …' : '');
  return new AckmeansError(
    'ERR_OUTPUT_EXISTS',
    `ackmeans: the output folder ${dir} already exists and holds ${entries.length} entr${entries.length > 1 ? 'ies' : 'y'} (${shown}); ` +
      'choose another -o, --continue to resume an interrupted run there, or --force to overwrite',
    { file: dir },
  );
}

/**
 * Throws `ERR_OUTPUT_EXISTS` when `existing` is 'refuse' and `dir` holds anything (leftovers of a
 * killed run aside), and `ERR_OUTPUT_LOCKED` when a live run holds it. Touches nothing.
 */
export async function checkOutputFolder(dir: string, existing: ExistingFolder): Promise<void> {
  const entries = await contents(dir);
  if (entries === undefined) return;
  if (lockHeld(join(dir, LOCK_FILE))) throw lockedError(dir, lockOwner(join(dir, LOCK_FILE)) ?? 0);
  if (existing === 'refuse' && entries.length > 0) throw existsError(dir, entries);
}

/** A command line as a shell would take it back (arguments quoted where needed). */
export function shellLine(args: readonly string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(' ');
}

/**
 * Creates (if needed) and locks `dir`, removes a killed run's leftovers, and records the
 * invocation in note.txt. Call {@link checkOutputFolder} first; checks again under the lock.
 * @param commandLine the command line to record (default: this process's arguments).
 * @param version the package version to record.
 */
export async function openJobFolder(
  dir: string,
  existing: ExistingFolder,
  version: string,
  commandLine: string = shellLine(['ackmeans', ...process.argv.slice(2)]),
): Promise<JobFolder> {
  const existed = (await contents(dir)) !== undefined;
  await mkdir(dir, { recursive: true });
  const release = takePidLock(join(dir, LOCK_FILE), (pid) => lockedError(dir, pid));
  try {
    const entries = (await contents(dir))!.filter((name) => name !== LOCK_FILE);
    // another run may have written here between the caller's check and the lock
    if (existing === 'refuse' && entries.length > 0) throw existsError(dir, entries);
    for (const name of await readdir(dir))
      if (name.startsWith(STAGING_PREFIX)) await rm(join(dir, name), { recursive: true, force: true });
    appendFileSync(
      join(dir, NOTE_FILE),
      ` ++++ ${existing === 'continue' ? 'Continuing the job' : 'Executing new job'} on ${new Date().toISOString()} (ackmeans ${version}) in ${process.cwd()}\n` +
        ` ++++ with the following command(s):\n${commandLine}\n ++++\n\n`,
    );
  } catch (err) {
    release();
    if (!existed) await rmdir(dir).catch(() => undefined); // only if still empty
    throw err;
  }
  let released = false;
  let removed = false;
  const folder: JobFolder = {
    dir,
    created: !existed,
    log: (line: string) => {
      if (!removed) appendFileSync(join(dir, LOG_FILE), `${line}\n`);
    },
    release: () => {
      if (!released) release();
      released = true;
    },
    remove: async () => {
      removed = true;
      for (const name of [NOTE_FILE, LOG_FILE]) await rm(join(dir, name), { force: true });
      folder.release();
      await rmdir(dir).catch(() => undefined); // only if nothing else is there
    },
  };
  return folder;
}

/** A duration for people: `42s`, `3m07s`, `1h05m`. */
export function formatSeconds(s: number): string {
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.round(s)}s`;
}

/** One line per clustering iteration (the terminal without a progress bar, and run.log). */
export function iterationLine(r: {
  phase: string;
  iteration: number;
  sigma: number;
  sizeCv: number;
  seconds: number;
}): string {
  return `${r.phase} iteration ${r.iteration}: σ ${r.sigma.toFixed(4)}, size cv ${r.sizeCv.toFixed(3)}, ${r.seconds.toFixed(1)} s`;
}

/** How a finished run ended, in words (the closing line and the report's summary). */
export function endingOf(s: { converged: boolean; budgetReached?: boolean; settled?: boolean }): string {
  return s.converged
    ? 'converged'
    : s.settled
      ? 'settled after the visit allowance'
      : s.budgetReached
        ? 'stopped at the particle-visit budget'
        : 'stopped at the iteration cap';
}

/** The closing line of a finished run. */
export function summaryLine(s: {
  converged: boolean;
  /** The scale engine stopped at its particle-visit budget (`maxVisits`). */
  budgetReached?: boolean;
  /** The scale engine settled (`settleSigma` after its visit allowance). */
  settled?: boolean;
  iterations: number;
  seconds: number;
  sizes: number[];
  quarantined: number;
  outDir: string;
}): string {
  return (
    `${endingOf(s)} after ${s.iterations} iterations in ${formatSeconds(s.seconds)}; ` +
    `class sizes ${Math.min(...s.sizes)}–${Math.max(...s.sizes)}; ${s.quarantined} quarantined; outputs in ${s.outDir}`
  );
}
