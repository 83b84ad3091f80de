/**
 * `startServer(options)`: opens the job store in the work directory, recovers interrupted jobs,
 * and serves the HTTP API. Used by `ackmeans serve` and by the tests.
 *
 * Work-directory layout: `ackmeans.db` (SQLite, WAL), `jobs/<id>/` (each job's outputs and
 * checkpoint), `uploads/<id>/` (uploaded inputs), `server.pid` (the lock).
 */
import { availableParallelism } from 'node:os';
import { mkdir } from 'node:fs/promises';
import { resolve, join } from 'node:path';
import { checkInt } from '../errors.js';
import { buildApp, type Inspector, type Limits } from './app.js';
import { bearerChecker } from './auth.js';
import { inspectInput } from './inspect.js';
import { lockWorkDir } from './lock.js';
import { realRoots } from './paths.js';
import { JobQueue } from './queue.js';
import { defaultWorkerModule, type WorkerModule } from './runner.js';
import { JobStore } from './store.js';
import { Uploads } from './uploads.js';

/** Environment variable holding the token when `token` is not given. */
export const TOKEN_ENV = 'ACKMEANS_TOKEN';

/** Default limits. */
export const DEFAULT_LIMITS: Limits = {
  maxUploadBytes: 2 * 1024 ** 3,
  maxK: 1000,
  maxBox: 1024,
  maxParticles: 2_000_000,
};

/** Options of {@link startServer} (the flags of `ackmeans serve`). */
export interface ServerOptions {
  /** Folder for the database, job outputs and uploads (created if missing). */
  workDir: string;
  /** Folders inputs may be read from (inputs by path must lie inside one). Default: none. */
  dataRoots?: string[];
  /** Bearer token clients must send (>= 8 characters); default `process.env.ACKMEANS_TOKEN`. Required. */
  token?: string;
  /** TCP port; 0 picks a free one. Default 8617. */
  port?: number;
  /** Address to bind. Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Jobs run at once. Default 1. */
  concurrency?: number;
  /** Threads per job. Default: the cores divided among the concurrent jobs (at least 1). */
  threadsPerJob?: number;
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
  const token = options.token ?? process.env[TOKEN_ENV];
  if (!token) throw new RangeError(`a token is required: pass --token or set ${TOKEN_ENV}`);
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
  const log = options.log ?? ((line: string) => process.stderr.write(`ackmeans serve: ${line}\n`));
  const roots = await realRoots(options.dataRoots ?? []);
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
    });
    const app = buildApp({
      store,
      queue,
      uploads: new Uploads(uploadsDir, limits.maxUploadBytes),
      roots,
      jobsDir,
      limits,
      checkToken,
      inspect: options.inspect ?? inspectInput,
      concurrency,
      threadsPerJob,
      startedAt: Date.now(),
      log,
    });
    await queue.start();
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
          await app.close();
          await openQueue.close();
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
