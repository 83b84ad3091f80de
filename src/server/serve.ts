/**
 * `startServer(options)`: opens the job store in the work directory, recovers interrupted jobs,
 * and serves the HTTP API. Used by `ackmeans serve` and by the tests.
 *
 * Work-directory layout: `ackmeans.db` (SQLite, WAL), `jobs/<id>/` (each job's outputs and
 * checkpoint), `uploads/<id>/` (uploaded inputs), `server.pid` (the lock).
 */
import { availableParallelism } from 'node:os';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { resolve, join } from 'node:path';
import { checkInt } from '../errors.js';
import { checkSlurm } from '../executor/slurm.js';
import type { RunOptions } from '../pipeline/run.js';
import { buildApp, type Inspector, type Limits } from './app.js';
import { DEFAULT_LIMITS, TOKEN_ENV } from './defaults.js';
import { bearerChecker } from './auth.js';
import { httpServerFactory, DEFAULT_TIMEOUTS, type HttpTimeouts } from './http-server.js';
import { inspectInput, stopInspectThreads } from './inspect.js';
import { lockWorkDir } from './lock.js';
import { realRoots } from './paths.js';
import { JobQueue } from './queue.js';
import { defaultWorkerModule, type WorkerModule } from './runner.js';
import { JobStore } from './store.js';
import { Uploads } from './uploads.js';

export { DEFAULT_LIMITS, TOKEN_ENV };

/** Largest JSON request body, bytes. */
const JSON_BODY_LIMIT = 1 << 20;
const DAY_MS = 86_400_000;
/** How often finished jobs past the retention are looked for. */
const SWEEP_MS = 3_600_000;

/** The first line of a token file, or undefined when no file is given. */
async function readToken(file: string | undefined): Promise<string | undefined> {
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new RangeError(`cannot read the token file ${file}: ${(err as Error).message}`);
  }
  const token = text.split(/\r?\n/)[0].trim();
  if (!token) throw new RangeError(`the token file ${file} is empty`);
  return token;
}

/** Deletes the finished jobs that ended before `cutoff`, with their folders. */
export async function dropExpired(
  store: JobStore,
  jobsDir: string,
  cutoff: number,
  log: (line: string) => void,
): Promise<number> {
  let dropped = 0;
  try {
    for (const id of store.finishedBefore(cutoff)) {
      if (!store.remove(id)) continue;
      await rm(join(jobsDir, id), { recursive: true, force: true });
      dropped++;
    }
  } catch (err) {
    log(`could not delete expired jobs: ${(err as Error).message}`);
  }
  return dropped;
}

/** Options of {@link startServer} (the flags of `ackmeans serve`). */
export interface ServerOptions {
  /** Folder for the database, job outputs and uploads (created if missing). */
  workDir: string;
  /** Folders inputs may be read from (inputs by path must lie inside one). Default: none. */
  dataRoots?: string[];
  /**
   * Bearer token clients must send (>= 8 characters); default: the first line of `tokenFile`,
   * else `process.env.ACKMEANS_TOKEN`. Required.
   */
  token?: string;
  /** A file holding the token (its first line), so it does not show in `ps`. */
  tokenFile?: string;
  /** HTTP timeouts (defaults: {@link DEFAULT_TIMEOUTS}). */
  timeouts?: Partial<HttpTimeouts>;
  /** Finished jobs (and their files) are deleted this many days after they end; 0 keeps them. */
  retentionDays?: number;
  /** TCP port; 0 picks a free one. Default 8617. */
  port?: number;
  /** Address to bind. Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Jobs run at once. Default 1. */
  concurrency?: number;
  /** Threads per job. Default: the cores divided among the concurrent jobs (at least 1). */
  threadsPerJob?: number;
  /**
   * Run every job's passes as Slurm job arrays (`serve --executor slurm`; checked at start). A
   * `dir` holds the jobs' job folders (`<dir>/<job id>`), else `<work dir>/jobs/<id>/slurm`.
   * Jobs must then be able to use the scale engine (MRA + ACK, not `exhaustive: true`); others
   * are refused (422).
   */
  slurm?: RunOptions['slurm'];
  /** Limits on uploads, k, box and particle count (defaults: {@link DEFAULT_LIMITS}). */
  limits?: Partial<Limits>;
  /** Diagnostics (internal errors, worker stderr of failed jobs). Default: stderr. */
  log?: (line: string) => void;
  /** @internal The worker module each job forks (tests). */
  worker?: WorkerModule;
  /** @internal Reads an input's header before it is queued (tests; default: openParticles). */
  inspect?: Inspector;
}

/** A running server. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8617`. */
  url: string;
  port: number;
  /** Stops serving; running jobs are left to resume at the next start. */
  close(): Promise<void>;
}

/** Starts the classification server. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const token = options.token ?? (await readToken(options.tokenFile)) ?? process.env[TOKEN_ENV];
  if (!token) throw new RangeError(`a token is required: pass --token-file (or --token) or set ${TOKEN_ENV}`);
  const checkToken = bearerChecker(token);
  const port = checkInt('port', options.port ?? 8617, 0, 65535);
  const concurrency = checkInt('concurrency', options.concurrency ?? 1, 1, 1024);
  const threadsPerJob = checkInt(
    'threadsPerJob',
    options.threadsPerJob ?? Math.max(1, Math.floor(availableParallelism() / concurrency)),
    1,
    1024,
  );
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  for (const [name, value] of Object.entries(limits)) checkInt(`limits.${name}`, value, 1);
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  for (const [name, value] of Object.entries(timeouts)) checkInt(`timeouts.${name}`, value, 1);
  if (timeouts.headersMs > timeouts.requestMs)
    throw new RangeError('timeouts.headersMs must not be longer than timeouts.requestMs');
  const retentionDays = options.retentionDays ?? 0;
  if (!(Number.isFinite(retentionDays) && retentionDays >= 0))
    throw new RangeError('retentionDays must be a number >= 0 (0 keeps finished jobs)');
  const log = options.log ?? ((line: string) => process.stderr.write(`ackmeans serve: ${line}\n`));
  const roots = await realRoots(options.dataRoots ?? []);
  if (options.slurm) await checkSlurm(options.slurm); // bad settings: one error before serving
  const slurm = options.slurm && {
    ...options.slurm,
    ...(options.slurm.dir === undefined ? {} : { dir: resolve(options.slurm.dir) }),
  };
  const workDir = resolve(options.workDir);
  const jobsDir = join(workDir, 'jobs');
  const uploadsDir = join(workDir, 'uploads');
  await mkdir(jobsDir, { recursive: true });
  await mkdir(uploadsDir, { recursive: true });
  const unlock = lockWorkDir(workDir);
  let store: JobStore | undefined;
  let queue: JobQueue | undefined;
  try {
    store = new JobStore(join(workDir, 'ackmeans.db'));
    queue = new JobQueue({
      store,
      jobsDir,
      concurrency,
      threadsPerJob,
      worker: options.worker ?? defaultWorkerModule(),
      log,
      ...(slurm ? { slurm } : {}),
    });
    const app = buildApp({
      store,
      queue,
      uploads: new Uploads(uploadsDir, limits.maxUploadBytes, limits.uploadQuotaBytes),
      roots,
      jobsDir,
      bodyLimit: JSON_BODY_LIMIT,
      serverFactory: httpServerFactory(timeouts, (req) =>
        req.url?.startsWith('/v1/uploads') ? limits.maxUploadBytes : JSON_BODY_LIMIT,
      ),
      limits,
      checkToken,
      inspect: options.inspect ?? inspectInput,
      concurrency,
      threadsPerJob,
      executor: slurm ? 'slurm' : 'local',
      startedAt: Date.now(),
      log,
    });
    await queue.start();
    const openStore0 = store;
    const sweep = () => {
      if (retentionDays > 0) void dropExpired(openStore0, jobsDir, Date.now() - retentionDays * DAY_MS, log);
    };
    sweep();
    const sweeper = setInterval(sweep, SWEEP_MS);
    sweeper.unref();
    await app.listen({ port, host: options.host ?? '127.0.0.1' });
    const address = app.server.address();
    const actualPort = typeof address === 'object' && address ? address.port : port;
    const host = options.host ?? '127.0.0.1';
    const urlHost = host.includes(':') ? `[${host}]` : host;
    let closing: Promise<void> | undefined;
    const openStore = store;
    const openQueue = queue;
    return {
      url: `http://${urlHost}:${actualPort}`,
      port: actualPort,
      close: () =>
        (closing ??= (async () => {
          clearInterval(sweeper);
          await app.close();
          await openQueue.close();
          await stopInspectThreads();
          openStore.close();
          unlock();
        })()),
    };
  } catch (err) {
    await queue?.close();
    store?.close();
    unlock();
    throw err;
  }
}
