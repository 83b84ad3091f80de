/**
 * The HTTP API (fastify): routes, request validation, bearer-token check and an error handler
 * that answers every failure with `{ "error": "<one line>", "code": "<code>" }` — never a stack.
 *
 * Status codes: 400 malformed JSON or schema violation, 401 missing/wrong token (with
 * `WWW-Authenticate`), 403 input path outside the data roots, 404 unknown job/upload/file/route,
 * 409 a file already in an upload, 413 body too large, 415 wrong content type, 422 impossible
 * parameters for the input (k > particles, limits on k, box and particle count) or an unreadable
 * input, 507 upload quota reached or disk full, 500 anything else. Clients never see server paths
 * or worker pids.
 */
import Fastify, { type FastifyInstance, type FastifyServerFactory } from 'fastify';
import { createReadStream } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { readdir, realpath, rm, stat } from 'node:fs/promises';
import { basename, extname, join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { AckmeansError } from '../errors.js';
import { whyNotScaleEngine } from '../pipeline/mra.js';
import { resolveParams } from '../pipeline/params.js';
import { HttpError, isDiskFull, oneLine, type ErrorBody } from './errors.js';
import type { InspectRules } from './inspect.js';
import { clientErrorHandler } from './http-server.js';
import { renderMetrics } from './metrics.js';
import { isInside, resolveInside } from './paths.js';
import type { JobQueue } from './queue.js';
import { listQuerySchema, parseBody, submitSchema, type SubmitBody } from './schemas.js';
import { streamJobEvents } from './sse.js';
import { FINAL_STATES, type Job, type JobStore } from './store.js';
import { INPUT_EXTENSIONS, type Uploads } from './uploads.js';

/** Limits on what a job may ask for. */
export interface Limits {
  /** Largest upload file, bytes. */
  maxUploadBytes: number;
  /** Largest total of all stored uploads, bytes. */
  uploadQuotaBytes: number;
  /** Largest number of classes. */
  maxK: number;
  /** Largest particle box (pixels) of an input. */
  maxBox: number;
  /** Largest number of particles in an input. */
  maxParticles: number;
}

/** What the server reads from an input before queueing it. */
export interface InputFacts {
  particles: number;
  box: number;
  /** Å/px (1 when the input does not say, as the classifier assumes). */
  pixelSize: number;
  /** Whether the input carries CTF parameters. */
  hasCtf: boolean;
  /** Every file the input refers to (the stacks named in a STAR file), as given or resolved. */
  files: string[];
  /** For a STAR/.cs input: each stack reference as written → the checked real file. */
  remap?: Record<string, string>;
}

/**
 * Reads an input's header (count, box) and the files it refers to, opening nothing outside
 * `rules.allowed` (see inspect.ts).
 */
export type Inspector = (path: string, rules: InspectRules) => Promise<InputFacts>;

/** Everything the routes need. */
export interface AppContext {
  store: JobStore;
  queue: JobQueue;
  uploads: Uploads;
  /** Real paths of the data roots. */
  roots: string[];
  /** Job outputs are in `<jobsDir>/<id>/`, an uploaded input in `<jobsDir>/<id>/.input/`. */
  jobsDir: string;
  /** Largest JSON body, bytes. */
  bodyLimit: number;
  /** Options for the HTTP server (timeouts, `Expect: 100-continue`), see http-server.ts. */
  serverFactory?: FastifyServerFactory;
  limits: Limits;
  checkToken: (authorization: string | undefined) => void;
  inspect: Inspector;
  concurrency: number;
  threadsPerJob: number;
  /** Where jobs' passes run (`serve --executor`); slurm takes scale-engine jobs only. Default local. */
  executor?: 'local' | 'slurm';
  startedAt: number;
  log?: (line: string) => void;
}

const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.html': 'text/html; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.star': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** Our codes for the client errors fastify itself raises (malformed JSON, body too large, …). */
const CLIENT_ERROR_CODES: Record<number, string> = {
  400: 'ERR_BAD_REQUEST',
  404: 'ERR_NOT_FOUND',
  413: 'ERR_TOO_LARGE',
  415: 'ERR_UNSUPPORTED_MEDIA_TYPE',
};

const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,200}$/;

/** Replaces the server's own folders in a message by names relative to them. */
export function scrubPaths(message: string, folders: readonly string[]): string {
  let out = message;
  for (const folder of [...folders].sort((a, b) => b.length - a.length))
    out = out.split(`${folder}/`).join('').split(folder).join('.');
  return out;
}

/** What a client sees of a stored input: as it gave it (older jobs: the path below its root). */
function inputView(job: Job, roots: readonly string[]): unknown {
  if (job.source !== null && job.source !== undefined) return job.source;
  const root = roots.find((r) => job.input.startsWith(`${r}/`));
  return root ? relative(root, job.input) : basename(job.input);
}

/** A job as clients see it: no server paths, no worker pid. */
export function jobView(job: Job, ctx: Pick<AppContext, 'roots' | 'jobsDir'>): Record<string, unknown> {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  const summary = job.summary && { ...job.summary, outDir: undefined };
  return {
    id: job.id,
    state: job.state,
    input: inputView(job, ctx.roots),
    params: job.params,
    particles: job.particles,
    box: job.box,
    progress: job.progress,
    error: job.error === null ? null : scrubPaths(job.error, [join(ctx.jobsDir, job.id), ...ctx.roots]),
    attempts: job.attempts,
    summary,
    createdAt: iso(job.createdAt),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
  };
}

function errorBody(code: string, message: string): ErrorBody {
  return { error: oneLine(message), code };
}

/** Builds the fastify app (not listening yet). */
export function buildApp(ctx: AppContext): FastifyInstance {
  const app = Fastify({
    logger: false,
    forceCloseConnections: true,
    bodyLimit: ctx.bodyLimit,
    clientErrorHandler,
    ...(ctx.serverFactory ? { serverFactory: ctx.serverFactory } : {}),
  });
  const { store, queue, uploads, limits } = ctx;
  const view = (job: Job) => jobView(job, ctx);

  // JSON for jobs; uploads arrive as raw bytes: hand the request stream to the route untouched.
  // No other body type is parsed (text/plain → 415).
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));

  app.setErrorHandler((err, request, reply) => {
    if (err instanceof HttpError) {
      if (err.status === 401) void reply.header('www-authenticate', 'Bearer realm="ackmeans"');
      return reply.status(err.status).send(errorBody(err.code, err.message));
    }
    if (isDiskFull(err))
      return reply
        .status(507)
        .send(errorBody('ERR_NO_SPACE', "the server's disk is full: the request could not be stored"));
    const e = err as { statusCode?: number; code?: string; message?: string };
    if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      return reply
        .status(415)
        .send(
          errorBody(
            'ERR_UNSUPPORTED_MEDIA_TYPE',
            `unsupported content type ${request.headers['content-type'] ?? '(none)'}: send jobs as application/json and uploads as application/octet-stream`,
          ),
        );
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500)
      return reply
        .status(e.statusCode)
        .send(errorBody(CLIENT_ERROR_CODES[e.statusCode] ?? 'ERR_BAD_REQUEST', e.message ?? 'bad request'));
    ctx.log?.(`${request.method} ${request.url}: ${(err as Error)?.stack ?? String(err)}`);
    return reply.status(500).send(errorBody('ERR_INTERNAL', 'internal server error'));
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send(errorBody('ERR_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );

  app.addHook('onRequest', async (request) => {
    if (request.url === '/v1/health') return;
    ctx.checkToken(request.headers.authorization);
  });

  const getJob = (id: string): Job => {
    const job = store.get(id);
    if (!job) throw new HttpError(404, 'ERR_NOT_FOUND', `job ${id} not found`);
    return job;
  };

  app.get('/v1/health', async () => ({ status: 'ok' }));

  app.get('/metrics', async (_request, reply) =>
    reply.type('text/plain; version=0.0.4; charset=utf-8').send(
      renderMetrics({
        store,
        runningWorkers: queue.runningCount,
        concurrency: ctx.concurrency,
        threadsPerJob: ctx.threadsPerJob,
        startedAt: ctx.startedAt,
      }),
    ),
  );

  app.post('/v1/jobs', async (request, reply) => {
    if (!/^application\/json\b/i.test(request.headers['content-type'] ?? ''))
      throw new HttpError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', 'a job must be sent as application/json');
    const body = parseBody(submitSchema, request.body);
    const id = randomUUID();
    const staged = join(ctx.jobsDir, id);
    try {
      const { path, allowed } = await resolveInput(ctx, body.input, join(staged, '.input'));
      const facts = await inspectInput(ctx, path, { allowed, maxParticles: limits.maxParticles });
      for (const f of facts.files)
        if (!allowed.some((root) => isInside(root, f)))
          throw new HttpError(
            403,
            'ERR_PATH_FORBIDDEN',
            'the input names a stack file outside the data roots',
          );
      checkLimits(body.params, facts, limits);
      const refusal = ctx.executor === 'slurm' && whyNotScaleEngine(body.params, facts.particles);
      if (refusal)
        throw new HttpError(
          422,
          'ERR_EXECUTOR',
          `this server runs jobs on Slurm (serve --executor slurm), which runs only the scale engine, and this job would not use it: ${refusal}`,
        );
      const job = queue.submit({
        id,
        input: path,
        source: body.input,
        remap: facts.remap,
        params: body.params,
        particles: facts.particles,
        box: facts.box,
      });
      return await reply.status(201).send(view(job));
    } catch (err) {
      if (!store.get(id)) await rm(staged, { recursive: true, force: true });
      throw err;
    }
  });

  app.get<{ Querystring: Record<string, unknown> }>('/v1/jobs', async (request) => {
    const q = parseBody(listQuerySchema, request.query, 'query');
    const { jobs, total } = store.list(q);
    return { jobs: jobs.map(view), total, offset: q.offset, limit: q.limit };
  });

  app.get<{ Params: { id: string } }>('/v1/jobs/:id', async (request) => {
    const job = getJob(request.params.id);
    return { ...view(job), trace: store.trace(job.id) };
  });

  app.get<{ Params: { id: string } }>('/v1/jobs/:id/events', (request, reply) => {
    const job = getJob(request.params.id);
    reply.hijack();
    streamJobEvents(reply.raw, queue, job, view);
  });

  app.get<{ Params: { id: string } }>('/v1/jobs/:id/files', async (request) => {
    const job = getJob(request.params.id);
    const names = await readdir(join(ctx.jobsDir, job.id)).catch(() => [] as string[]);
    return { files: names.filter((n) => FILE_NAME.test(n)).sort() };
  });

  app.get<{ Params: { id: string; name: string } }>('/v1/jobs/:id/files/:name', async (request, reply) => {
    const job = getJob(request.params.id);
    const { name } = request.params;
    const path = join(ctx.jobsDir, job.id, name);
    const st = FILE_NAME.test(name) ? await stat(path).catch(() => undefined) : undefined;
    if (!st?.isFile()) throw new HttpError(404, 'ERR_NOT_FOUND', `job ${job.id} has no file ${name}`);
    return reply
      .type(CONTENT_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream')
      .header('content-length', st.size)
      .send(createReadStream(path));
  });

  // A queued or running job is cancelled; a finished one is deleted with its files.
  app.delete<{ Params: { id: string } }>('/v1/jobs/:id', async (request, reply) => {
    const before = getJob(request.params.id);
    if (FINAL_STATES.includes(before.state)) {
      if (!store.remove(before.id))
        throw new HttpError(409, 'ERR_CONFLICT', `job ${before.id} changed state: retry`);
      await rm(join(ctx.jobsDir, before.id), { recursive: true, force: true });
      return reply.status(200).send({ id: before.id, deleted: true });
    }
    const job = queue.cancel(before.id) ?? before;
    return reply.status(job.state === 'cancelled' ? 200 : 202).send(view(job));
  });

  app.post<{ Querystring: Record<string, unknown> }>('/v1/uploads', async (request, reply) => {
    const { name, id } = request.query;
    if (typeof name !== 'string')
      throw new HttpError(400, 'ERR_BAD_REQUEST', 'query parameter name (the file name) is required, once');
    if (id !== undefined && typeof id !== 'string')
      throw new HttpError(
        400,
        'ERR_BAD_REQUEST',
        'query parameter id (the upload to add to) may be given once',
      );
    if (!(request.body && typeof (request.body as Readable).pipe === 'function'))
      throw new HttpError(
        415,
        'ERR_UNSUPPORTED_MEDIA_TYPE',
        'uploads must be sent as application/octet-stream',
      );
    const length = Number(request.headers['content-length']);
    const saved = await uploads.save(
      request.body as Readable,
      name,
      id,
      Number.isFinite(length) ? length : undefined,
    );
    return reply.status(201).send(saved);
  });

  app.delete<{ Params: { id: string } }>('/v1/uploads/:id', async (request) => {
    await uploads.remove(request.params.id);
    return { id: request.params.id, deleted: true };
  });

  return app;
}

/**
 * The real input path of a submission and the folders its files may come from. An upload is
 * first staged (hard-linked) into `stageDir`, the job's own folder: the job runs on exactly the
 * files checked here, whatever later happens to the upload.
 */
async function resolveInput(
  ctx: AppContext,
  input: SubmitBody['input'],
  stageDir: string,
): Promise<{ path: string; allowed: string[] }> {
  if (typeof input === 'string') {
    const path = await resolveInside(input, ctx.roots);
    if (!INPUT_EXTENSIONS.some((ext) => path.toLowerCase().endsWith(ext)))
      throw new HttpError(
        400,
        'ERR_BAD_REQUEST',
        `input ${input} must be a ${INPUT_EXTENSIONS.join(', ')} file`,
      );
    return { path, allowed: ctx.roots };
  }
  const name = await ctx.uploads.pick(input.upload, input.name);
  const path = await ctx.uploads.stage(input.upload, name, stageDir);
  return { path, allowed: [...ctx.roots, await realpath(stageDir)] };
}

/** Reads the input's header; an unreadable input is a 422 naming the problem (not where it is). */
async function inspectInput(ctx: AppContext, path: string, rules: InspectRules): Promise<InputFacts> {
  try {
    return await ctx.inspect(path, rules);
  } catch (err) {
    if (err instanceof HttpError) throw err;
    if (err instanceof AckmeansError || err instanceof RangeError || err instanceof TypeError)
      throw new HttpError(422, 'ERR_INPUT', `input unreadable: ${scrubPaths(err.message, rules.allowed)}`, {
        cause: err,
      });
    throw err;
  }
}

/**
 * Limits, and parameters that the input makes impossible (the classifier's own checks, run
 * against the input's header before queueing) → 422.
 */
function checkLimits(params: SubmitBody['params'], facts: InputFacts, limits: Limits): void {
  const fail = (message: string) => {
    throw new HttpError(422, 'ERR_PARAMS', message);
  };
  if (params.k > limits.maxK) fail(`k = ${params.k} is above this server's limit of ${limits.maxK}`);
  if (params.k > facts.particles)
    fail(`k = ${params.k} is more than the ${facts.particles} particles of the input`);
  if (facts.box > limits.maxBox) fail(`box ${facts.box} px is above this server's limit of ${limits.maxBox}`);
  if (facts.particles > limits.maxParticles)
    fail(`${facts.particles} particles is above this server's limit of ${limits.maxParticles}`);
  if (facts.box < 8) fail(`the input's images are ${facts.box} px; classification needs at least 8 px`);
  if (params.box !== undefined && params.box > facts.box)
    fail(`box (the working box) = ${params.box} px must not exceed the input's ${facts.box} px images`);
  try {
    resolveParams(params, {
      count: facts.particles,
      box: facts.box,
      pixelSize: facts.pixelSize,
      hasCtf: facts.hasCtf,
    });
  } catch (err) {
    // "[5e-324, x]" is how the shared checks write "(0, x]"; "[a, Infinity]" is ">= a".
    if (err instanceof RangeError || err instanceof TypeError)
      fail(
        err.message
          .replace(/must be in \[5e-324, Infinity\]/g, 'must be > 0')
          .replace(/must be in \[(-?[\d.e+-]+), Infinity\]/g, 'must be >= $1')
          .replace(/\[5e-324, /g, '(0, '),
      );
    throw err;
  }
}
