/**
 * `GET /metrics`: the server's state in the Prometheus text exposition format (version 0.0.4).
 */
import type { JobState, JobStore } from './store.js';

/** Window over which `ackmeans_particles_per_second` averages, in seconds. */
export const THROUGHPUT_WINDOW_S = 300;

/** What the metrics are computed from. */
export interface MetricsInput {
  store: JobStore;
  runningWorkers: number;
  concurrency: number;
  threadsPerJob: number;
  /** Server start time, ms since the epoch. */
  startedAt: number;
  now?: number;
}

function metric(
  lines: string[],
  name: string,
  type: 'gauge' | 'counter',
  help: string,
  samples: [string, number][],
) {
  lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  for (const [labels, value] of samples) lines.push(`${name}${labels} ${Number.isFinite(value) ? value : 0}`);
}

/** Renders the metrics text. */
export function renderMetrics(m: MetricsInput): string {
  const now = m.now ?? Date.now();
  const counts = m.store.counts();
  const uptime = Math.max(1e-3, (now - m.startedAt) / 1000);
  const window = Math.min(THROUGHPUT_WINDOW_S, uptime);
  const particles = m.store.particlesFinishedSince(now - window * 1000);
  const lines: string[] = [];
  metric(lines, 'ackmeans_queue_length', 'gauge', 'Jobs waiting to run.', [['', counts.queued]]);
  metric(lines, 'ackmeans_jobs_running', 'gauge', 'Jobs running now (worker processes).', [
    ['', m.runningWorkers],
  ]);
  metric(
    lines,
    'ackmeans_jobs',
    'gauge',
    'Jobs in the store by state.',
    (Object.keys(counts) as JobState[]).map((s) => [`{state="${s}"}`, counts[s]]),
  );
  metric(lines, 'ackmeans_job_failures_total', 'counter', 'Jobs that failed (all time, from the store).', [
    ['', counts.failed],
  ]);
  metric(
    lines,
    'ackmeans_particles_per_second',
    'gauge',
    `Particles of the jobs that succeeded in the last ${THROUGHPUT_WINDOW_S} s (or since start), per second.`,
    [['', particles / window]],
  );
  metric(lines, 'ackmeans_concurrency', 'gauge', 'Jobs the server runs at once.', [['', m.concurrency]]);
  metric(lines, 'ackmeans_threads_per_job', 'gauge', 'Threads each job may use.', [['', m.threadsPerJob]]);
  metric(lines, 'ackmeans_uptime_seconds', 'gauge', 'Seconds since the server started.', [['', uptime]]);
  return `${lines.join('\n')}\n`;
}
