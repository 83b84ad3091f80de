/**
 * `ackmeans serve --executor slurm` on the single-node Slurm (scripts/slurm-local.sh start): a
 * job submitted over HTTP gives the same outputs as on a local-executor server; cancelling a
 * running job cancels its array (gone from squeue); jobs the executor cannot run are refused
 * at submission. Skips where no Slurm answers.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { simulateStack } from '../pipeline/simulate.js';
import { client, removeDir, tempDir, TOKEN } from '../server/helpers.js';

const LOCAL_CONF = '/tmp/ackmeans-slurm/slurm.conf';
if (!process.env.SLURM_CONF && existsSync(LOCAL_CONF)) process.env.SLURM_CONF = LOCAL_CONF;
const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist', 'cli.js');

function slurmAnswers(): boolean {
  try {
    const state = execFileSync('sinfo', ['-h', '-o', '%T'], { timeout: 20_000, encoding: 'utf8' });
    return /idle|mixed|allocated|completing/.test(state) && existsSync(cli);
  } catch {
    return false;
  }
}
const available = slurmAnswers();
if (!available)
  console.warn(
    'Slurm server tests skipped: no Slurm answers or dist/cli.js is not built (scripts/slurm-local.sh start; npm run build:ts)',
  );

// Real shortlists (m = 2 of k = 4), so the sparse passes are what runs on Slurm.
const PARAMS = { k: 4, seed: 5, exhaustive: false, shortlist: 2, maxIter: 5, threads: 1 };
const OUTPUTS = ['run_data.star', 'run_classes.mrcs', 'run_model.star'];

/** Array job ids Slurm still lists (pending, running or completing). */
function listed(ids: string[]): string[] {
  const out = execFileSync('squeue', ['-h', '-o', '%F'], { encoding: 'utf8', timeout: 20_000 });
  const live = new Set(out.split('\n').map((l) => l.trim()));
  return ids.filter((id) => live.has(id));
}

describe.skipIf(!available)('serve --executor slurm', () => {
  let dir: string;
  const servers: RunningServer[] = [];
  const start = async (name: string, slurm?: Parameters<typeof startServer>[0]['slurm']) => {
    const server = await startServer({
      workDir: join(dir, name),
      dataRoots: [dir],
      token: TOKEN,
      port: 0,
      concurrency: 1,
      threadsPerJob: 1,
      log: () => {},
      ...(slurm ? { slurm } : {}),
    });
    servers.push(server);
    return client(server.url);
  };

  beforeAll(async () => {
    dir = await tempDir('slurm-serve');
    await simulateStack(dir, { perView: 15, snr: 1 });
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    await removeDir(dir);
  });

  it('runs a job with the same outputs as a local-executor server', { timeout: 600_000 }, async () => {
    const local = await start('local');
    const viaSlurm = await start('slurm', { shards: 3, pollMs: 200, ackmeans: [process.execPath, cli] });
    const a = await local.post<{ id: string }>('/v1/jobs', { input: 'particles.star', params: PARAMS });
    const b = await viaSlurm.post<{ id: string }>('/v1/jobs', { input: 'particles.star', params: PARAMS });
    expect([a.status, b.status]).toEqual([201, 201]);
    const [ja, jb] = await Promise.all([
      local.waitFinal(a.body.id, 500_000),
      viaSlurm.waitFinal(b.body.id, 500_000),
    ]);
    expect(jb.error).toBeNull();
    expect([ja.state, jb.state]).toEqual(['succeeded', 'succeeded']);
    for (const f of OUTPUTS) {
      const x = readFileSync(join(dir, 'local', 'jobs', ja.id, f));
      const y = readFileSync(join(dir, 'slurm', 'jobs', jb.id, f));
      expect(y.equals(x), f).toBe(true);
    }
    expect(existsSync(join(dir, 'slurm', 'jobs', jb.id, 'slurm')), 'job folder removed').toBe(false);

    // A job the executor cannot run (the exhaustive engine, asked for) is refused at once.
    const refused = await viaSlurm.post('/v1/jobs', {
      input: 'particles.star',
      params: { k: 4, exhaustive: true },
    });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ code: 'ERR_EXECUTOR' });
  });

  it('cancelling a running job cancels its Slurm array', { timeout: 600_000 }, async () => {
    // Tasks that wait 60 s before working, so the array is surely running when the job is cancelled.
    const slow = ['/bin/sh', '-c', 'sleep 60; exec "$0" "$@"', process.execPath, cli];
    const api = await start('cancel', {
      shards: 2,
      pollMs: 200,
      ackmeans: slow,
      dir: join(dir, 'cancel-slurm'),
    });
    const r = await api.post<{ id: string }>('/v1/jobs', { input: 'particles.star', params: PARAMS });
    expect(r.status).toBe(201);
    // --slurm-dir: one folder per job; its `arrays` file lists the arrays submitted.
    const arraysFile = join(dir, 'cancel-slurm', r.body.id, 'arrays');
    let ids: string[] = [];
    for (let i = 0; i < 1200 && ids.length === 0; i++) {
      if (existsSync(arraysFile)) ids = readFileSync(arraysFile, 'utf8').split('\n').filter(Boolean);
      if (ids.length === 0) await new Promise((res) => setTimeout(res, 100));
    }
    expect(ids.length).toBeGreaterThan(0);
    expect(listed(ids), 'the array is in the queue before the cancel').toEqual(ids);
    expect((await api.del(`/v1/jobs/${r.body.id}`)).status).toBe(202);
    expect((await api.waitFinal(r.body.id, 120_000)).state).toBe('cancelled');
    let left = listed(ids);
    for (let i = 0; i < 300 && left.length > 0; i++) {
      await new Promise((res) => setTimeout(res, 100));
      left = listed(ids);
    }
    expect(left, 'the array is gone from squeue').toEqual([]);
  });
});
