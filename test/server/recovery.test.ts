/**
 * Restart recovery with the test worker: the server is killed with SIGKILL while one job runs
 * and others wait; a new server on the same work directory resumes the running job from its
 * checkpoint, runs the queued ones, and every job ends once, with the result of an
 * uninterrupted run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUMMARY_FILE } from '../../src/server/worker-host.js';
import { JobStore } from '../../src/server/store.js';
import { client, removeDir, startFakeServer, tempDir, workerPid, writeSpec } from './helpers.js';
import { launchServer, type ServerProcess } from './launcher.js';

let dir: string;
const servers: ServerProcess[] = [];

beforeAll(async () => {
  dir = await tempDir('recovery');
  await writeSpec(dir, 'job.star', { particles: 30, box: 16, iterationMs: 60 });
});
afterAll(async () => {
  for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  await removeDir(dir);
});

/** Whether `pid` runs (a zombie waiting to be reaped has exited). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

describe('restart after kill -9', () => {
  it('resumes running jobs, runs queued ones, loses none and finishes each once', async () => {
    const options = { workDir: join(dir, 'work'), dataRoots: [dir], concurrency: 1, threadsPerJob: 1 };
    const first = await launchServer(options);
    servers.push(first);
    const api1 = client(first.url);
    const seeds = [11, 12, 13];
    const ids: string[] = [];
    for (const seed of seeds) {
      const r = await api1.post<{ id: string }>('/v1/jobs', {
        input: 'job.star',
        params: { k: 3, seed, maxIter: 12 },
      });
      expect(r.status).toBe(201);
      ids.push(r.body.id);
    }
    const running = await api1.waitFor(
      ids[0],
      (j) => j.state === 'running' && (j as { trace?: unknown[] }).trace!.length >= 3,
    );
    const oldWorker = workerPid(options.workDir, running.id)!;
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await launchServer({ ...options, concurrency: 3 });
    servers.push(second);
    expect(alive(oldWorker)).toBe(false);
    const api2 = client(second.url);
    const jobs = [];
    for (const id of ids) jobs.push(await api2.waitFinal(id));
    expect(jobs.map((j) => j.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(jobs[0].attempts).toBe(2);
    expect(jobs[0].summary).toMatchObject({ resumed: true });
    // The whole trace, records in flight at the kill included (the worker keeps its own copy).
    expect(jobs[0].trace.map((t) => (t as { iteration: number }).iteration)).toEqual([...Array(12).keys()]);
    for (const id of ids) {
      const completions = await readFile(join(dir, 'work', 'jobs', id, 'completions.log'), 'utf8');
      expect(completions.trim().split('\n')).toHaveLength(1);
    }

    // The same jobs run without interruption (3 at once on the new server) give the same results.
    const fresh = [];
    for (const seed of seeds)
      fresh.push(
        (
          await api2.post<{ id: string }>('/v1/jobs', {
            input: 'job.star',
            params: { k: 3, seed, maxIter: 12 },
          })
        ).body.id,
      );
    for (const [i, id] of fresh.entries()) {
      expect((await api2.waitFinal(id)).attempts).toBe(1);
      const a = await api2.get(`/v1/jobs/${ids[i]}/files/run_data.star`);
      const b = await api2.get(`/v1/jobs/${id}/files/run_data.star`);
      expect(a.text).toBe(b.text);
    }
    second.child.kill('SIGTERM');
    await second.exited;
  }, 600_000);

  it('refuses a second server on a work directory in use', async () => {
    const options = { workDir: join(dir, 'work2'), dataRoots: [dir] };
    const first = await launchServer(options);
    servers.push(first);
    await expect(launchServer(options)).rejects.toThrow(/in use by server pid/);
    first.child.kill('SIGKILL');
  }, 120_000);
});

describe('a job that finished just before the server stopped', () => {
  it('is not run a second time: its recorded summary is reported', async () => {
    const workDir = join(dir, 'work3');
    const server = await startFakeServer({ workDir, dataRoots: [dir] });
    await server.close();
    const store = new JobStore(join(workDir, 'ackmeans.db'));
    const job = store.insert({ input: join(dir, 'job.star'), params: { k: 2 }, particles: 30, box: 16 });
    store.claimNext();
    store.close();
    await mkdir(join(workDir, 'jobs', job.id), { recursive: true });
    await writeFile(join(workDir, 'jobs', job.id, SUMMARY_FILE), JSON.stringify({ iterations: 7 }));
    const again = await startFakeServer({ workDir, dataRoots: [dir] });
    try {
      const done = await client(again.url).waitFinal(job.id);
      expect(done).toMatchObject({ state: 'succeeded', attempts: 2, summary: { iterations: 7 } });
      expect(existsSync(join(workDir, 'jobs', job.id, 'completions.log'))).toBe(false);
    } finally {
      await again.close();
    }
  });
});
