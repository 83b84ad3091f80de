/**
 * Helpers for the server tests: temporary work and data folders, a server with the test worker,
 * and an authenticated JSON client.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import Database from 'better-sqlite3';
import type { InputFacts } from '../../src/server/app.js';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server/serve.js';
import type { Job } from '../../src/server/store.js';

export const TOKEN = 'test-token-0123456789';

/** What the test worker's input files say about themselves. */
export interface FakeSpec {
  particles: number;
  box: number;
  /** Milliseconds per iteration. */
  iterationMs?: number;
  /** Kill the worker with this signal at iteration 1. */
  crash?: NodeJS.Signals;
  /** Throw an error with this message at iteration 1. */
  fail?: string;
}

/** Creates a temporary folder. */
export function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `ackmeans-${prefix}-`));
}

/** Removes a temporary folder. */
export function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** Writes a test-worker input into `dir`. */
export async function writeSpec(dir: string, name: string, spec: FakeSpec): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, JSON.stringify(spec));
  return path;
}

/** The inspector paired with the test worker: reads the JSON spec. */
export async function fakeInspect(path: string): Promise<InputFacts> {
  const spec = JSON.parse(await readFile(path, 'utf8')) as FakeSpec;
  return { particles: spec.particles, box: spec.box, pixelSize: 1, hasCtf: false, files: [path] };
}

/** Server options with the test worker and inspector. */
export function fakeServerOptions(
  options: Omit<ServerOptions, 'worker' | 'inspect'>,
): ServerOptions & Required<Pick<ServerOptions, 'worker' | 'inspect'>> {
  return {
    token: TOKEN,
    port: 0,
    log: () => {},
    ...options,
    worker: {
      path: fileURLToPath(new URL('./fixtures/fake-worker.ts', import.meta.url)),
      execArgv: ['--import', 'tsx'],
    },
    inspect: fakeInspect,
  };
}

/** Starts a server with the test worker. */
export function startFakeServer(options: Omit<ServerOptions, 'worker' | 'inspect'>): Promise<RunningServer> {
  return startServer(fakeServerOptions(options));
}

/** A JSON response. */
export interface Reply<T = Record<string, unknown>> {
  status: number;
  body: T;
  text: string;
}

/** An HTTP client for one server, sending the token unless told otherwise. */
export function client(url: string, token: string | null = TOKEN) {
  const request = async <T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply<T>> => {
    const h: Record<string, string> = { ...headers };
    if (token !== null) h.authorization = `Bearer ${token}`;
    let payload: string | Uint8Array | undefined;
    if (body instanceof Uint8Array) {
      payload = body;
      h['content-type'] ??= 'application/octet-stream';
    } else if (typeof body === 'string') {
      payload = body;
      h['content-type'] ??= 'application/json';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      h['content-type'] = 'application/json';
    }
    const res = await fetch(`${url}${path}`, { method, headers: h, body: payload });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON (metrics, files)
    }
    return { status: res.status, body: parsed as T, text };
  };
  return {
    request,
    get: <T = Record<string, unknown>>(path: string) => request<T>('GET', path),
    post: <T = Record<string, unknown>>(path: string, body?: unknown) => request<T>('POST', path, body),
    del: <T = Record<string, unknown>>(path: string) => request<T>('DELETE', path),
    /** Polls a job until it is in a final state. */
    async waitFinal(id: string, timeoutMs = 300_000): Promise<Job & { trace: unknown[] }> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const r = await request<Job & { trace: unknown[] }>('GET', `/v1/jobs/${id}`);
        if (['succeeded', 'failed', 'cancelled'].includes(r.body.state)) return r.body;
        if (Date.now() > deadline) throw new Error(`job ${id} still ${r.body.state}`);
        await new Promise((res) => setTimeout(res, 40));
      }
    },
    /** Polls a job until `pred` holds. */
    async waitFor(id: string, pred: (job: Job) => boolean, timeoutMs = 120_000): Promise<Job> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const r = await request<Job>('GET', `/v1/jobs/${id}`);
        if (pred(r.body)) return r.body;
        if (Date.now() > deadline)
          throw new Error(`job ${id}: condition not reached (state ${r.body.state})`);
        await new Promise((res) => setTimeout(res, 20));
      }
    },
  };
}

/**
 * The worker pid the server recorded for a running job (clients never see it): read from the
 * work directory's database.
 */
export function workerPid(workDir: string, id: string): number | null {
  const db = new Database(join(workDir, 'ackmeans.db'), { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare('SELECT pid FROM jobs WHERE id = ?').get(id) as { pid: number | null } | undefined;
    return row?.pid ?? null;
  } finally {
    db.close();
  }
}
