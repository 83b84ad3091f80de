/**
 * `npm run bench -- server`: load on the classification server. The server runs as a child
 * process (`node dist/cli.js serve`, concurrency 2 × 1 thread, as installed: the bench first
 * compiles the TypeScript to dist/); this process is the client: it submits
 * --jobs small classification jobs at once over loopback, polls job status the whole time
 * (round robin over the jobs) and measures the latency of each request, the time until every job
 * has finished, and that none was lost (each one listed and succeeded).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { writeBenchStack } from './util-stack.js';
import { median, options } from './util.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli.js');
const TOKEN = 'bench-token-0123456789';

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function timed<T>(latencies: number[], fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const out = await fn();
  latencies.push(performance.now() - t0);
  return out;
}

export async function run(args: string[], log: (line: string) => void): Promise<Record<string, unknown>> {
  const o = options(args, {
    jobs: { type: 'string', default: '50' },
    particles: { type: 'string', default: '60' },
    box: { type: 'string', default: '32' },
    k: { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '2' },
  });
  const jobs = Number(o.jobs);
  const concurrency = Number(o.concurrency);
  log('building dist/ (tsc)…');
  const tsc = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json')],
    {
      stdio: 'inherit',
    },
  );
  if (tsc.status !== 0) throw new Error('tsc failed');
  const dir = await mkdtemp(join(tmpdir(), 'ackmeans-bench-server-'));
  await writeBenchStack(dir, Number(o.particles), Number(o.box));
  const server = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--port',
      '0',
      '--data-root',
      dir,
      '--work-dir',
      join(dir, 'work'),
      '--concurrency',
      String(concurrency),
      '--threads-per-job',
      '1',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ACKMEANS_TOKEN: TOKEN } },
  );
  try {
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: server.stdout! }).once('line', (line) => {
        const m = /listening on (\S+)/.exec(line);
        if (m) resolve(m[1]);
        else reject(new Error(`unexpected server output: ${line}`));
      });
      server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const submitLatency: number[] = [];
    const pollLatency: number[] = [];
    const body = (seed: number) =>
      JSON.stringify({ input: 'bench.mrcs', params: { k: Number(o.k), seed, maxIter: 10 } });
    const t0 = performance.now();
    const ids = await Promise.all(
      Array.from({ length: jobs }, (_, i) =>
        timed(submitLatency, async () => {
          const res = await fetch(`${url}/v1/jobs`, { method: 'POST', headers, body: body(i) });
          if (res.status !== 201) throw new Error(`submit ${i}: ${res.status} ${await res.text()}`);
          return ((await res.json()) as { id: string }).id;
        }),
      ),
    );
    log(`submitted ${jobs} jobs in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    const pending = new Set(ids);
    let cursor = 0;
    while (pending.size > 0) {
      const id = ids[cursor++ % ids.length];
      const job = await timed(pollLatency, async () => {
        const res = await fetch(`${url}/v1/jobs/${id}`, { headers });
        return (await res.json()) as { state: string; error: string | null };
      });
      if (job.state === 'failed' || job.state === 'cancelled')
        throw new Error(`job ${id} ${job.state}: ${job.error}`);
      if (job.state === 'succeeded') pending.delete(id);
      await new Promise((r) => setTimeout(r, 10));
    }
    const seconds = (performance.now() - t0) / 1000;
    const listed = (await (await fetch(`${url}/v1/jobs`, { headers })).json()) as {
      jobs: {
        id: string;
        state: string;
        startedAt: string;
        finishedAt: string;
        summary: { seconds: number };
      }[];
    };
    const succeeded = listed.jobs.filter((j) => ids.includes(j.id) && j.state === 'succeeded');
    const lost = jobs - succeeded.length;
    const jobSeconds = succeeded.map((j) => (Date.parse(j.finishedAt) - Date.parse(j.startedAt)) / 1000);
    const metrics = await (await fetch(`${url}/metrics`, { headers })).text();
    const throughput = Number(/^ackmeans_particles_per_second (\S+)$/m.exec(metrics)?.[1]);
    const result = {
      jobs,
      particlesPerJob: Number(o.particles),
      box: Number(o.box),
      k: Number(o.k),
      concurrency,
      totalSeconds: seconds,
      jobsPerSecond: jobs / seconds,
      medianJobSeconds: median(jobSeconds),
      medianClassifySeconds: median(succeeded.map((j) => j.summary.seconds)),
      submitP50Ms: percentile(submitLatency, 50),
      submitP95Ms: percentile(submitLatency, 95),
      pollRequests: pollLatency.length,
      pollP50Ms: percentile(pollLatency, 50),
      pollP95Ms: percentile(pollLatency, 95),
      pollMaxMs: Math.max(...pollLatency),
      particlesPerSecond: throughput,
      lost,
    };
    log(
      `all ${jobs} jobs finished in ${seconds.toFixed(2)} s (${result.jobsPerSecond.toFixed(2)} jobs/s, ${concurrency} at once)`,
    );
    log(
      `median job wall time ${result.medianJobSeconds.toFixed(2)} s, of which runClassification ${result.medianClassifySeconds.toFixed(2)} s (the rest: worker start-up)`,
    );
    log(
      `POST /v1/jobs latency: p50 ${result.submitP50Ms.toFixed(1)} ms, p95 ${result.submitP95Ms.toFixed(1)} ms`,
    );
    log(
      `GET /v1/jobs/:id latency while running (${pollLatency.length} requests): p50 ${result.pollP50Ms.toFixed(1)} ms, p95 ${result.pollP95Ms.toFixed(1)} ms, max ${result.pollMaxMs.toFixed(1)} ms`,
    );
    log(`throughput ${throughput.toFixed(1)} particles/s; lost jobs: ${lost}`);
    return result;
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    await rm(dir, { recursive: true, force: true });
  }
}
