/**
 * The HTTP API end to end on a real loopback port, with the test worker (fixtures/fake-worker.ts)
 * standing in for the classifier: every route, the status code and one-line reason of every kind
 * of bad request, cancellation, SSE, uploads, metrics and crash isolation.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/serve.js';
import { client, removeDir, startFakeServer, tempDir, workerPid, writeSpec } from './helpers.js';

let dir: string;
let root: string;
let server: RunningServer;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  dir = await tempDir('api');
  root = join(dir, 'data');
  await mkdir(root);
  await mkdir(join(dir, 'outside'));
  await writeSpec(root, 'small.star', { particles: 20, box: 32 });
  await writeSpec(root, 'slow.star', { particles: 20, box: 32, iterationMs: 200 });
  await writeSpec(root, 'segv.star', { particles: 20, box: 32, crash: 'SIGSEGV' });
  await writeSpec(root, 'throws.star', { particles: 20, box: 32, fail: 'input went bad' });
  await writeSpec(root, 'huge.star', { particles: 20, box: 4096 });
  await writeSpec(join(dir, 'outside'), 'secret.star', { particles: 20, box: 32 });
  await symlink(join(dir, 'outside', 'secret.star'), join(root, 'escape.star'));
  await writeFile(join(root, 'notes.txt'), 'hello');
  await writeFile(join(root, 'broken.star'), 'not json: the test inspector throws a SyntaxError');
  server = await startFakeServer({
    workDir: join(dir, 'work'),
    dataRoots: [root],
    concurrency: 1,
    threadsPerJob: 2,
    limits: { maxUploadBytes: 1000, maxK: 50 },
  });
  api = client(server.url);
});
afterAll(async () => {
  await server?.close();
  await removeDir(dir);
});

const workDir = () => join(dir, 'work');

function expectOneLine(body: unknown, code?: string): void {
  const b = body as { error: string; code: string };
  expect(typeof b.error).toBe('string');
  expect(b.error).not.toMatch(/\n|\s at /);
  if (code) expect(b.code).toBe(code);
}

describe('authentication', () => {
  it('answers health without a token and everything else only with the right one', async () => {
    expect((await client(server.url, null).get('/v1/health')).body).toEqual({ status: 'ok' });
    for (const path of ['/v1/jobs', '/metrics', '/v1/jobs/x', '/nope']) {
      const none = await client(server.url, null).get(path);
      expect(none.status).toBe(401);
      expectOneLine(none.body, 'ERR_UNAUTHORIZED');
      expect((await client(server.url, 'wrong-token-0123').get(path)).status).toBe(401);
    }
    const post = await client(server.url, null).post('/v1/jobs', { input: 'small.star', params: { k: 2 } });
    expect(post.status).toBe(401);
  });
});

describe('bad requests', () => {
  const cases: [string, unknown, number, string][] = [
    ['malformed JSON', '{"input": "small.star", ', 400, 'ERR_BAD_REQUEST'],
    ['no params', { input: 'small.star' }, 400, 'ERR_BAD_REQUEST'],
    ['unknown parameter', { input: 'small.star', params: { k: 2, kk: 3 } }, 400, 'ERR_BAD_REQUEST'],
    ['non-integer k', { input: 'small.star', params: { k: 2.5 } }, 400, 'ERR_BAD_REQUEST'],
    ['bad method', { input: 'small.star', params: { k: 2, method: 'magic' } }, 400, 'ERR_BAD_REQUEST'],
    ['path with ..', { input: '../outside/secret.star', params: { k: 2 } }, 403, 'ERR_PATH_FORBIDDEN'],
    ['absolute path outside', { input: '/etc/passwd', params: { k: 2 } }, 403, 'ERR_PATH_FORBIDDEN'],
    ['symlink escape', { input: 'escape.star', params: { k: 2 } }, 403, 'ERR_PATH_FORBIDDEN'],
    ['unknown file', { input: 'missing.star', params: { k: 2 } }, 404, 'ERR_NOT_FOUND'],
    ['wrong file type', { input: 'notes.txt', params: { k: 2 } }, 400, 'ERR_BAD_REQUEST'],
    ['k > n', { input: 'small.star', params: { k: 21 } }, 422, 'ERR_PARAMS'],
    ['k above the limit', { input: 'small.star', params: { k: 51 } }, 422, 'ERR_PARAMS'],
    ['box above the limit', { input: 'huge.star', params: { k: 2 } }, 422, 'ERR_PARAMS'],
    [
      'working box above the input box',
      { input: 'small.star', params: { k: 2, box: 64 } },
      422,
      'ERR_PARAMS',
    ],
    ['shift range too large', { input: 'small.star', params: { k: 2, shiftRange: 20 } }, 422, 'ERR_PARAMS'],
    [
      'unknown upload',
      { input: { upload: '00000000-0000-0000-0000-000000000000' }, params: { k: 2 } },
      404,
      'ERR_NOT_FOUND',
    ],
  ];
  for (const [what, body, status, code] of cases)
    it(`${what} → ${status}`, async () => {
      const r = await api.post('/v1/jobs', body);
      expect(r.status).toBe(status);
      expectOneLine(r.body, code);
    });

  it('unknown jobs, files and routes → 404; wrong content type → 415', async () => {
    for (const path of [
      '/v1/jobs/nope',
      '/v1/jobs/nope/events',
      '/v1/jobs/nope/files/run_data.star',
      '/v1/nothing',
    ]) {
      const r = await api.get(path);
      expect(r.status).toBe(404);
      expectOneLine(r.body, 'ERR_NOT_FOUND');
    }
    expect((await api.del('/v1/jobs/nope')).status).toBe(404);
    const r = await api.request('POST', '/v1/jobs', '<k>2</k>', { 'content-type': 'application/xml' });
    expect(r.status).toBe(415);
    expectOneLine(r.body, 'ERR_UNSUPPORTED_MEDIA_TYPE');
  });

  it('an unexpected failure → 500 with no details', async () => {
    const r = await api.post('/v1/jobs', { input: 'broken.star', params: { k: 2 } });
    expect(r.status).toBe(500);
    expect(r.body).toEqual({ error: 'internal server error', code: 'ERR_INTERNAL' });
  });

  it('names the problem in the reason', async () => {
    expect((await api.post('/v1/jobs', { input: 'small.star', params: { k: 21 } })).body).toMatchObject({
      error: 'k = 21 is more than the 20 particles of the input',
    });
    expect((await api.post('/v1/jobs', { input: 'small.star', params: { k: 2, kk: 3 } })).body).toMatchObject(
      { error: expect.stringMatching(/^unknown parameter "params\.kk" \(known: k, method, /) as unknown },
    );
    expect((await api.post('/v1/jobs', { input: 'small.star', params: { k: 1 } })).body).toMatchObject({
      error: 'params.k must be an integer in [2, 100000], got 1',
    });
  });
});

describe('jobs', () => {
  it('runs a job to success with trace, progress, summary and files', async () => {
    const r = await api.post<{ id: string; state: string }>('/v1/jobs', {
      input: 'small.star',
      params: { k: 3, seed: 7, maxIter: 4, threads: 16 },
    });
    expect(r.status).toBe(201);
    expect(r.body.state).toBe('queued');
    const job = await api.waitFinal(r.body.id);
    expect(job.state).toBe('succeeded');
    expect(job.trace).toHaveLength(4);
    expect(job.trace.map((t) => (t as { iteration: number }).iteration)).toEqual([0, 1, 2, 3]);
    expect(job.progress).toMatchObject({ stage: 'cluster', fraction: 1 });
    // threads are capped to --threads-per-job
    expect(job.summary).toMatchObject({ iterations: 4, threads: 2, resumed: false });
    expect(job.attempts).toBe(1);
    const files = await api.get<{ files: string[] }>(`/v1/jobs/${r.body.id}/files`);
    expect(files.body.files).toContain('run_data.star');
    const data = await api.get(`/v1/jobs/${r.body.id}/files/run_data.star`);
    expect(data.status).toBe(200);
    expect(data.text).toMatch(/^value \d+/);
    expect((await api.get(`/v1/jobs/${r.body.id}/files/..%2Fapi.db`)).status).toBe(404);
    expect((await api.get(`/v1/jobs/${r.body.id}/files/.hidden`)).status).toBe(404);
    const list = await api.get<{ jobs: { id: string }[] }>('/v1/jobs');
    expect(list.body.jobs.map((j) => j.id)).toContain(r.body.id);
    // A finished job is deleted, with its files.
    expect((await api.del(`/v1/jobs/${r.body.id}`)).body).toEqual({ id: r.body.id, deleted: true });
    expect((await api.get(`/v1/jobs/${r.body.id}`)).status).toBe(404);
  });

  it('runs no more jobs at once than the concurrency, in submission order', async () => {
    const submitted = await Promise.all(
      [1, 2, 3, 4].map((seed) =>
        api.post<{ id: string }>('/v1/jobs', { input: 'small.star', params: { k: 2, seed } }),
      ),
    );
    const jobs = [];
    for (const r of submitted) jobs.push(await api.waitFinal(r.body.id));
    const spans = jobs
      .map((j) => [
        Date.parse(j.startedAt as unknown as string),
        Date.parse(j.finishedAt as unknown as string),
      ])
      .sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
    expect(jobs.every((j) => j.state === 'succeeded')).toBe(true);
  });

  it('streams state, progress and iteration events until the job ends', async () => {
    const r = await api.post<{ id: string }>('/v1/jobs', {
      input: 'small.star',
      params: { k: 2, maxIter: 3 },
    });
    const res = await fetch(`${server.url}/v1/jobs/${r.body.id}/events`, {
      headers: { authorization: `Bearer ${'test-token-0123456789'}` },
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await res.text();
    const events = [...text.matchAll(/^event: (\w+)\ndata: (.*)$/gm)].map((m) => ({
      event: m[1],
      data: JSON.parse(m[2]) as Record<string, unknown>,
    }));
    const states = events.filter((e) => e.event === 'state').map((e) => e.data.state);
    expect(states[0]).toMatch(/queued|running/);
    expect(states.at(-1)).toBe('succeeded');
    expect(events.filter((e) => e.event === 'iteration')).toHaveLength(3);
    expect(events.some((e) => e.event === 'progress')).toBe(true);
  });

  it('cancels queued jobs at once and running jobs through their worker', async () => {
    const running = await api.post<{ id: string }>('/v1/jobs', {
      input: 'slow.star',
      params: { k: 2, maxIter: 50 },
    });
    const queued = await api.post<{ id: string }>('/v1/jobs', { input: 'small.star', params: { k: 2 } });
    await api.waitFor(running.body.id, (j) => j.state === 'running' && workerPid(workDir(), j.id) !== null);
    const q = await api.del(`/v1/jobs/${queued.body.id}`);
    expect(q.status).toBe(200);
    expect(q.body.state).toBe('cancelled');
    const r = await api.del(`/v1/jobs/${running.body.id}`);
    expect(r.status).toBe(202);
    const job = await api.waitFinal(running.body.id, 120_000);
    expect(job.state).toBe('cancelled');
    expect(job.trace.length).toBeLessThan(50);
    expect((await api.get(`/v1/jobs/${queued.body.id}`)).body.state).toBe('cancelled');
  });

  it('fails a job whose worker crashes or throws, with a one-line reason, and runs the next job', async () => {
    const segv = await api.post<{ id: string }>('/v1/jobs', { input: 'segv.star', params: { k: 2 } });
    const throws = await api.post<{ id: string }>('/v1/jobs', { input: 'throws.star', params: { k: 2 } });
    const next = await api.post<{ id: string }>('/v1/jobs', { input: 'small.star', params: { k: 2 } });
    expect(await api.waitFinal(segv.body.id)).toMatchObject({
      state: 'failed',
      error: 'worker crashed (SIGSEGV)',
    });
    expect(await api.waitFinal(throws.body.id)).toMatchObject({
      state: 'failed',
      error: 'input went bad second line that must not reach clients',
    });
    expect((await api.waitFinal(next.body.id)).state).toBe('succeeded');
  });

  it('fails a job whose worker is killed from outside', async () => {
    const r = await api.post<{ id: string }>('/v1/jobs', {
      input: 'slow.star',
      params: { k: 2, maxIter: 50 },
    });
    const job = await api.waitFor(
      r.body.id,
      (j) => j.state === 'running' && workerPid(workDir(), j.id) !== null,
    );
    process.kill(workerPid(workDir(), job.id)!, 'SIGKILL');
    expect(await api.waitFinal(r.body.id)).toMatchObject({
      state: 'failed',
      error: 'worker crashed (SIGKILL)',
    });
    expect((await api.get('/v1/health')).status).toBe(200);
  });
});

describe('uploads', () => {
  it('stores an upload and runs a job on it', async () => {
    const spec = new TextEncoder().encode(JSON.stringify({ particles: 12, box: 16 }));
    const up = await api.post<{ id: string; name: string; bytes: number }>(
      '/v1/uploads?name=mine.star',
      spec,
    );
    expect(up.status).toBe(201);
    expect(up.body).toMatchObject({ name: 'mine.star', bytes: spec.length });
    const r = await api.post<{ id: string }>('/v1/jobs', { input: { upload: up.body.id }, params: { k: 2 } });
    expect(r.status).toBe(201);
    expect((await api.waitFinal(r.body.id)).state).toBe('succeeded');
    const k = await api.post('/v1/jobs', {
      input: { upload: up.body.id, name: 'mine.star' },
      params: { k: 13 },
    });
    expect(k.status).toBe(422);
  });

  it('refuses uploads above the limit (413) and leaves nothing behind', async () => {
    const before = await readdir(join(dir, 'work', 'uploads'));
    const r = await api.post('/v1/uploads?name=big.mrcs', new Uint8Array(5000));
    expect(r.status).toBe(413);
    expectOneLine(r.body, 'ERR_TOO_LARGE');
    // without Content-Length: the stream is cut as it passes the limit
    const chunks = new ReadableStream({
      start(c) {
        for (let i = 0; i < 10; i++) c.enqueue(new Uint8Array(300));
        c.close();
      },
    });
    const res = await fetch(`${server.url}/v1/uploads?name=big.mrcs`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-token-0123456789', 'content-type': 'application/octet-stream' },
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    const after = await readdir(join(dir, 'work', 'uploads'));
    const added = after.filter((f) => !before.includes(f));
    for (const f of added) expect(await readdir(join(dir, 'work', 'uploads', f))).toEqual([]);
  });

  it('refuses bad names and unknown upload ids', async () => {
    const data = new Uint8Array(10);
    expect((await api.post('/v1/uploads?name=../x.star', data)).status).toBe(400);
    expect((await api.post('/v1/uploads?name=x.exe', data)).status).toBe(400);
    expect((await api.post('/v1/uploads', data)).status).toBe(400);
    expect((await api.post('/v1/uploads?name=x.star&id=nope', data)).status).toBe(404);
    expect(existsSync(join(dir, 'work', 'uploads', 'nope'))).toBe(false);
  });
});

describe('metrics', () => {
  it('exposes queue length, running jobs, throughput and failures', async () => {
    const r = await api.get('/metrics');
    expect(r.status).toBe(200);
    expect(r.text).toMatch(/^ackmeans_queue_length \d+$/m);
    expect(r.text).toMatch(/^ackmeans_jobs_running \d+$/m);
    expect(r.text).toMatch(/^ackmeans_particles_per_second [\d.e+-]+$/m);
    const failures = Number(/^ackmeans_job_failures_total (\d+)$/m.exec(r.text)?.[1]);
    expect(failures).toBeGreaterThanOrEqual(3);
    expect(r.text).toMatch(/^ackmeans_jobs\{state="succeeded"\} \d+$/m);
  });
});
