/**
 * The server with the real classifier (worker.ts → runClassification) on small simulated stacks:
 * a whole job with its outputs, impossible parameters refused from the real header, cancellation,
 * a native-style crash of a worker, and restart recovery after `kill -9` with results identical to
 * uninterrupted runs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBenchStack } from '../../scripts/bench/util-stack.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { client, removeDir, tempDir, TOKEN, workerPid } from './helpers.js';
import { launchCli, type ServerProcess } from './launcher.js';

const N = 40;
const BOX = 32;
/** A small job: a second or two. */
const params = (seed: number, extra: Record<string, unknown> = {}) => ({ k: 3, seed, maxIter: 6, ...extra });

let dir: string;
beforeAll(async () => {
  dir = await tempDir('classify');
  await writeBenchStack(dir, N, BOX, 'particles.mrcs', 3);
});
afterAll(() => removeDir(dir));

describe('server running real classifications', () => {
  let server: RunningServer;
  let api: ReturnType<typeof client>;
  beforeAll(async () => {
    server = await startServer({
      workDir: join(dir, 'work'),
      dataRoots: [dir],
      token: TOKEN,
      port: 0,
      concurrency: 1,
      threadsPerJob: 1,
      log: () => {},
    });
    api = client(server.url);
  });
  afterAll(() => server?.close());

  it('classifies a stack and serves its outputs', async () => {
    const r = await api.post<{ id: string; particles: number; box: number }>('/v1/jobs', {
      input: 'particles.mrcs',
      params: params(1),
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ particles: N, box: BOX });
    const job = await api.waitFinal(r.body.id);
    expect(job.error).toBeNull();
    expect(job.state).toBe('succeeded');
    expect(job.trace.length).toBeGreaterThan(0);
    expect(job.progress).toMatchObject({ stage: 'write', fraction: 1 });
    const summary = job.summary as { sizes: number[]; files: string[] };
    expect(summary.sizes.reduce((a, b) => a + b, 0)).toBe(N);
    const files = (await api.get<{ files: string[] }>(`/v1/jobs/${job.id}/files`)).body.files;
    for (const name of ['run_data.star', 'run_classes.mrcs', 'run_model.star', 'report.json', 'report.html'])
      expect(files).toContain(name);
    for (const name of summary.files) expect(files).toContain(name);
    const data = await api.get(`/v1/jobs/${job.id}/files/run_data.star`);
    expect(data.text).toMatch(/_rlnClassNumber/);
    const report = await api.get<{ sizes: number[] }>(`/v1/jobs/${job.id}/files/report.json`);
    expect(report.body.sizes).toEqual(summary.sizes);
    const png = files.find((f) => f.endsWith('.png'));
    if (png) {
      const res = await fetch(`${server.url}/v1/jobs/${job.id}/files/${png}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(res.headers.get('content-type')).toBe('image/png');
    }
  });

  it('refuses parameters the real input makes impossible', async () => {
    const r = await api.post('/v1/jobs', { input: 'particles.mrcs', params: { k: N + 1 } });
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ code: 'ERR_PARAMS' });
  });

  it('cancels a running classification', async () => {
    const r = await api.post<{ id: string }>('/v1/jobs', {
      input: 'particles.mrcs',
      params: params(2, { maxIter: 500, sigma0: 0 }),
    });
    await api.waitFor(r.body.id, (j) => j.state === 'running' && workerPid(join(dir, 'work'), j.id) !== null);
    expect((await api.del(`/v1/jobs/${r.body.id}`)).status).toBe(202);
    expect((await api.waitFinal(r.body.id, 120_000)).state).toBe('cancelled');
  });

  it('fails a job whose worker crashes (SIGSEGV) and runs the next one', async () => {
    const a = await api.post<{ id: string }>('/v1/jobs', {
      input: 'particles.mrcs',
      params: params(4, { maxIter: 500, sigma0: 0 }),
    });
    const b = await api.post<{ id: string }>('/v1/jobs', { input: 'particles.mrcs', params: params(5) });
    const running = await api.waitFor(
      a.body.id,
      (j) => j.state === 'running' && workerPid(join(dir, 'work'), j.id) !== null,
    );
    process.kill(workerPid(join(dir, 'work'), running.id)!, 'SIGSEGV');
    expect(await api.waitFinal(a.body.id)).toMatchObject({
      state: 'failed',
      error: 'worker crashed (SIGSEGV)',
    });
    expect((await api.waitFinal(b.body.id)).state).toBe('succeeded');
  });
});

describe('restart of the real server after kill -9', () => {
  const servers: ServerProcess[] = [];
  afterAll(() => {
    for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  });

  it('finishes every job with the results of an uninterrupted run', async () => {
    const args = [
      '--data-root',
      dir,
      '--work-dir',
      join(dir, 'work-restart'),
      '--concurrency',
      '1',
      '--threads-per-job',
      '1',
    ];
    const first = await launchCli(args);
    servers.push(first);
    const api1 = client(first.url);
    const seeds = [21, 22];
    const ids: string[] = [];
    for (const seed of seeds)
      ids.push(
        (await api1.post<{ id: string }>('/v1/jobs', { input: 'particles.mrcs', params: params(seed) })).body
          .id,
      );
    await api1.waitFor(ids[0], (j) => (j as unknown as { trace: unknown[] }).trace.length >= 2);
    first.child.kill('SIGKILL');
    await first.exited;
    const work = join(dir, 'work-restart', 'jobs');
    expect(existsSync(join(work, ids[0], 'checkpoint.json'))).toBe(true);

    // (the restarted server may run more jobs at once: results do not depend on it)
    const second = await launchCli([...args, '--concurrency', '2']);
    servers.push(second);
    const api2 = client(second.url);
    const resumed = [];
    for (const id of ids) resumed.push(await api2.waitFinal(id));
    expect(resumed.map((j) => j.state)).toEqual(['succeeded', 'succeeded']);
    expect(resumed[0].attempts).toBe(2);

    const fresh = [];
    for (const seed of seeds)
      fresh.push(
        (await api2.post<{ id: string }>('/v1/jobs', { input: 'particles.mrcs', params: params(seed) })).body
          .id,
      );
    for (const [i, id] of fresh.entries()) {
      const job = await api2.waitFinal(id);
      expect(job.state).toBe('succeeded');
      expect(job.attempts).toBe(1);
      for (const name of ['run_data.star', 'run_classes.mrcs'])
        expect(await readFile(join(work, ids[i], name))).toEqual(await readFile(join(work, id, name)));
      // the trace too, records in flight at the kill included
      const steps = (j: { trace: unknown[] }) =>
        j.trace.map((t) => {
          const { phase, iteration, sigma, sizes } = t as Record<string, unknown>;
          return { phase, iteration, sigma, sizes };
        });
      expect(steps(resumed[i])).toEqual(steps(job));
    }
    second.child.kill('SIGTERM');
    await second.exited;
  }, 600_000);
});

describe('ackmeans serve', () => {
  it('refuses to start without a token, with one line and exit code 2', () => {
    const env = { ...process.env };
    delete env.ACKMEANS_TOKEN;
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(new URL('../../src/cli.ts', import.meta.url)),
        'serve',
        '--work-dir',
        join(dir, 'w'),
      ],
      { env, encoding: 'utf8' },
    );
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(
      'ackmeans: a token is required: pass --token-file (or --token) or set ACKMEANS_TOKEN',
    );
  });
});
