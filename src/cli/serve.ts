/**
 * `ackmeans serve`: the classification server (HTTP API, job queue, persistence in the work
 * directory). Stops cleanly on SIGINT/SIGTERM; running jobs resume at the next start.
 */
import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { DEFAULT_TIMEOUTS } from '../server/http-server.js';
import { DEFAULT_LIMITS, TOKEN_ENV } from '../server/defaults.js';
import { action, parseIntOption, parseNumberOption } from './common.js';
import { type ExecutorOpts, addExecutorOptions, executorRunOptions } from './executor-options.js';

interface ServeOptions extends ExecutorOpts {
  port: number;
  host: string;
  dataRoot: string[];
  workDir: string;
  token?: string;
  tokenFile?: string;
  concurrency: number;
  threadsPerJob?: number;
  maxUploadBytes: number;
  maxK: number;
  maxBox: number;
  maxParticles: number;
  uploadQuotaBytes: number;
  headersTimeout: number;
  requestTimeout: number;
  idleTimeout: number;
  minUploadRate: number;
  retentionDays: number;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Adds `ackmeans serve` to the command line. */
export function register(program: Command): void {
  // --executor slurm: every job's passes as Slurm job arrays (--slurm-dir: one folder per job)
  addExecutorOptions(
    program
      .command('serve')
      .description(
        'run the classification server: JSON HTTP API with a job queue, each job in its own process, state kept in SQLite so jobs survive restarts',
      ),
  )
    .option('--port <n>', 'TCP port (0 = any free port)', parseIntOption('--port'), 8617)
    .option('--host <address>', 'address to bind (use 0.0.0.0 to serve other machines)', '127.0.0.1')
    .option(
      '--data-root <dir>',
      'folder inputs may be read from; repeat for several (inputs by path must lie inside one)',
      collect,
      [],
    )
    .option('--work-dir <dir>', 'folder for the job database, job outputs and uploads', 'ackmeans-server')
    .option(
      '--token-file <file>',
      `file whose first line is the bearer token clients must send (at least 8 characters)`,
    )
    .option(
      '--token <token>',
      `the bearer token itself; note that it shows in ps: prefer --token-file or $${TOKEN_ENV}`,
    )
    .option('--concurrency <n>', 'jobs run at once', parseIntOption('--concurrency'), 1)
    .option(
      '--threads-per-job <n>',
      `threads each job may use (default: cores / concurrency, here ${availableParallelism()} cores)`,
      parseIntOption('--threads-per-job'),
    )
    .option(
      '--max-upload-bytes <n>',
      'largest upload file in bytes',
      parseIntOption('--max-upload-bytes'),
      DEFAULT_LIMITS.maxUploadBytes,
    )
    .option(
      '--upload-quota-bytes <n>',
      'largest total size of all stored uploads in bytes (then 507 until uploads are deleted)',
      parseIntOption('--upload-quota-bytes'),
      DEFAULT_LIMITS.uploadQuotaBytes,
    )
    .option(
      '--headers-timeout <s>',
      'seconds a client has to send its request headers',
      parseNumberOption('--headers-timeout'),
      DEFAULT_TIMEOUTS.headersMs / 1000,
    )
    .option(
      '--request-timeout <s>',
      'seconds a client has to send a whole request, body included (large uploads need time)',
      parseNumberOption('--request-timeout'),
      DEFAULT_TIMEOUTS.requestMs / 1000,
    )
    .option(
      '--idle-timeout <s>',
      'seconds a connection may stay silent before it is closed',
      parseNumberOption('--idle-timeout'),
      DEFAULT_TIMEOUTS.idleMs / 1000,
    )
    .option(
      '--min-upload-rate <bytes/s>',
      `slowest accepted request body, averaged over ${DEFAULT_TIMEOUTS.rateWindowMs / 1000} s`,
      parseIntOption('--min-upload-rate'),
      DEFAULT_TIMEOUTS.minBodyBytesPerSecond,
    )
    .option(
      '--retention-days <d>',
      'delete finished jobs and their files this many days after they end (0 keeps them)',
      parseNumberOption('--retention-days'),
      0,
    )
    .option(
      '--max-k <n>',
      'largest number of classes a job may ask for',
      parseIntOption('--max-k'),
      DEFAULT_LIMITS.maxK,
    )
    .option(
      '--max-box <n>',
      'largest particle box (pixels) of an input',
      parseIntOption('--max-box'),
      DEFAULT_LIMITS.maxBox,
    )
    .option(
      '--max-particles <n>',
      'largest number of particles in an input',
      parseIntOption('--max-particles'),
      DEFAULT_LIMITS.maxParticles,
    )
    .action(
      action(async (opts: ServeOptions) => {
        const { startServer } = await import('../server/serve.js');
        const { slurm } = executorRunOptions(opts);
        const server = await startServer({
          ...(slurm ? { slurm } : {}),
          port: opts.port,
          host: opts.host,
          dataRoots: opts.dataRoot,
          workDir: opts.workDir,
          token: opts.token,
          tokenFile: opts.tokenFile,
          retentionDays: opts.retentionDays,
          timeouts: {
            headersMs: Math.round(opts.headersTimeout * 1000),
            requestMs: Math.round(opts.requestTimeout * 1000),
            idleMs: Math.round(opts.idleTimeout * 1000),
            minBodyBytesPerSecond: opts.minUploadRate,
          },
          concurrency: opts.concurrency,
          threadsPerJob: opts.threadsPerJob,
          limits: {
            maxUploadBytes: opts.maxUploadBytes,
            uploadQuotaBytes: opts.uploadQuotaBytes,
            maxK: opts.maxK,
            maxBox: opts.maxBox,
            maxParticles: opts.maxParticles,
          },
        });
        process.stdout.write(`ackmeans serve: listening on ${server.url} (work dir ${opts.workDir})\n`);
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        await server.close();
      }),
    );
}
