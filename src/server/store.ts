/**
 * The job store: one SQLite database (better-sqlite3, WAL mode) in the work directory holding
 * every job, its state, parameters, progress, per-iteration trace, error, attempt count and
 * timestamps. State changes are single conditional UPDATEs, so a job is claimed by one runner at
 * most and reaches a final state once.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';

/** The life of a job: queued → running → succeeded | failed | cancelled (running → queued on restart). */
export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** States a job never leaves. */
export const FINAL_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];

/** A job as stored and as returned by the API. */
export interface Job {
  id: string;
  state: JobState;
  /** Real path of the input file (inside a data root or the job's own folder). */
  input: string;
  /** The input as the client gave it (a path under a data root, or `{ upload, name }`). */
  source: unknown;
  /** The checked stack files of a STAR/.cs input (reference as written → real path), or null. */
  remap: Record<string, string> | null;
  /** The classification parameters (classify() names). */
  params: Record<string, unknown>;
  /** Number of particles and box size read from the input header at submission. */
  particles: number;
  box: number;
  /** Latest progress report of the worker (stage, iteration, fraction, …), or null. */
  progress: Record<string, unknown> | null;
  /** Error message (one line) of a failed job, or null. */
  error: string | null;
  /** How many times a runner started this job (> 1 after a restart resumed it). */
  attempts: number;
  /** Process id of the job's current worker, while running. */
  pid: number | null;
  /** True once a cancel was requested for a running job. */
  cancelRequested: boolean;
  /** The classification summary of a succeeded job (iterations, sizes, files, …), or null. */
  summary: Record<string, unknown> | null;
  /** Milliseconds since the epoch. */
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

interface Row {
  id: string;
  seq: number;
  state: JobState;
  input: string;
  source: string | null;
  remap: string | null;
  params: string;
  particles: number;
  box: number;
  progress: string | null;
  error: string | null;
  attempts: number;
  pid: number | null;
  cancel_requested: number;
  summary: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL CHECK (state IN ('queued','running','succeeded','failed','cancelled')),
  input TEXT NOT NULL,
  params TEXT NOT NULL,
  particles INTEGER NOT NULL,
  box INTEGER NOT NULL,
  progress TEXT,
  error TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  pid INTEGER,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  summary TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, seq);
CREATE TABLE IF NOT EXISTS iterations (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id TEXT NOT NULL,
  key TEXT NOT NULL,
  data TEXT NOT NULL,
  UNIQUE (job_id, key)
);
`;

function toJob(row: Row): Job {
  return {
    id: row.id,
    state: row.state,
    input: row.input,
    source: row.source === null ? null : (JSON.parse(row.source) as unknown),
    remap: row.remap === null ? null : (JSON.parse(row.remap) as Record<string, string>),
    params: JSON.parse(row.params) as Record<string, unknown>,
    particles: row.particles,
    box: row.box,
    progress: row.progress === null ? null : (JSON.parse(row.progress) as Record<string, unknown>),
    error: row.error,
    attempts: row.attempts,
    pid: row.pid,
    cancelRequested: row.cancel_requested !== 0,
    summary: row.summary === null ? null : (JSON.parse(row.summary) as Record<string, unknown>),
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

/** What a new job needs. */
export interface NewJob {
  /** The job id (default: a new UUID). */
  id?: string;
  input: string;
  /** The input as the client gave it. */
  source?: unknown;
  /** The checked stack files of a STAR/.cs input. */
  remap?: Record<string, string>;
  params: Record<string, unknown>;
  particles: number;
  box: number;
}

/** A running job found at start-up, with the worker pid the previous server recorded. */
export interface Interrupted {
  id: string;
  pid: number | null;
}

/** The jobs database. */
export class JobStore {
  private readonly db: Database.Database;

  /** Opens (creating if needed) the database at `file`. */
  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    const columns = this.db.prepare('PRAGMA table_info(jobs)').all() as { name: string }[];
    for (const added of ['source', 'remap'])
      if (!columns.some((c) => c.name === added)) this.db.exec(`ALTER TABLE jobs ADD COLUMN ${added} TEXT`);
  }

  /** Closes the database. */
  close(): void {
    this.db.close();
  }

  /** Adds a queued job and returns it. */
  insert(job: NewJob, now = Date.now()): Job {
    const id = job.id ?? randomUUID();
    this.db
      .prepare(
        'INSERT INTO jobs (id, state, input, source, remap, params, particles, box, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        id,
        'queued',
        job.input,
        JSON.stringify(job.source ?? null),
        job.remap === undefined ? null : JSON.stringify(job.remap),
        JSON.stringify(job.params),
        job.particles,
        job.box,
        now,
      );
    return this.get(id)!;
  }

  /** The job with this id, or undefined. */
  get(id: string): Job | undefined {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as Row | undefined;
    return row && toJob(row);
  }

  /**
   * Jobs in submission order, optionally of one state: `limit` of them from `offset` on, and how
   * many match in all.
   */
  list(options: { state?: JobState; limit?: number; offset?: number } = {}): { jobs: Job[]; total: number } {
    const where = options.state ? 'WHERE state = @state' : '';
    const args = { state: options.state, limit: options.limit ?? -1, offset: options.offset ?? 0 };
    const rows = this.db
      .prepare(`SELECT * FROM jobs ${where} ORDER BY seq LIMIT @limit OFFSET @offset`)
      .all(options.state ? args : { limit: args.limit, offset: args.offset }) as Row[];
    const { n } = this.db
      .prepare(`SELECT COUNT(*) AS n FROM jobs ${where}`)
      .get(...(options.state ? [{ state: options.state }] : [])) as { n: number };
    return { jobs: rows.map(toJob), total: n };
  }

  /** Deletes a finished job and its trace; returns false if it is not in a final state. */
  remove(id: string): boolean {
    return this.db.transaction(() => {
      const r = this.db
        .prepare("DELETE FROM jobs WHERE id = ? AND state IN ('succeeded','failed','cancelled')")
        .run(id);
      if (r.changes === 1) this.db.prepare('DELETE FROM iterations WHERE job_id = ?').run(id);
      return r.changes === 1;
    })();
  }

  /** Ids of the jobs that reached a final state before `cutoff` (ms since the epoch). */
  finishedBefore(cutoff: number): string[] {
    const rows = this.db
      .prepare(
        "SELECT id FROM jobs WHERE state IN ('succeeded','failed','cancelled') AND finished_at < ? ORDER BY seq",
      )
      .all(cutoff) as { id: string }[];
    return rows.map((r) => r.id);
  }

  /** Number of jobs in each state. */
  counts(): Record<JobState, number> {
    const out: Record<JobState, number> = { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
    const rows = this.db.prepare('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state').all() as {
      state: JobState;
      n: number;
    }[];
    for (const r of rows) out[r.state] = r.n;
    return out;
  }

  /**
   * Marks the oldest queued job running (attempts + 1) and returns it, or undefined when none is
   * queued. One transaction: two callers never claim the same job.
   */
  claimNext(now = Date.now()): Job | undefined {
    return this.db.transaction(() => {
      const row = this.db.prepare("SELECT id FROM jobs WHERE state = 'queued' ORDER BY seq LIMIT 1").get() as
        { id: string } | undefined;
      if (!row) return undefined;
      this.db
        .prepare(
          "UPDATE jobs SET state = 'running', attempts = attempts + 1, pid = NULL, started_at = COALESCE(started_at, ?) WHERE id = ? AND state = 'queued'",
        )
        .run(now, row.id);
      return this.get(row.id);
    })();
  }

  /** Records the worker process of a running job. */
  setPid(id: string, pid: number | null): void {
    this.db.prepare("UPDATE jobs SET pid = ? WHERE id = ? AND state = 'running'").run(pid, id);
  }

  /** Records the latest progress of a running job. */
  setProgress(id: string, progress: Record<string, unknown>): void {
    this.db
      .prepare("UPDATE jobs SET progress = ? WHERE id = ? AND state = 'running'")
      .run(JSON.stringify(progress), id);
  }

  /**
   * Appends one iteration to a job's trace. A record with the same `key` (an iteration redone
   * after a resume) replaces the earlier one and moves to the end.
   */
  addIteration(id: string, key: string, data: unknown): void {
    this.db
      .prepare('INSERT OR REPLACE INTO iterations (job_id, key, data) VALUES (?, ?, ?)')
      .run(id, key, JSON.stringify(data));
  }

  /** The per-iteration trace of a job, in the order the iterations ran. */
  trace(id: string): unknown[] {
    const rows = this.db.prepare('SELECT data FROM iterations WHERE job_id = ? ORDER BY seq').all(id) as {
      data: string;
    }[];
    return rows.map((r) => JSON.parse(r.data) as unknown);
  }

  /**
   * Moves a running job to a final state; returns false if it was not running (so a job is
   * finished once only).
   */
  finish(
    id: string,
    state: 'succeeded' | 'failed' | 'cancelled',
    details: { error?: string; summary?: unknown } = {},
    now = Date.now(),
  ): boolean {
    const r = this.db
      .prepare(
        "UPDATE jobs SET state = ?, error = ?, summary = ?, pid = NULL, finished_at = ? WHERE id = ? AND state = 'running'",
      )
      .run(
        state,
        details.error ?? null,
        details.summary === undefined ? null : JSON.stringify(details.summary),
        now,
        id,
      );
    return r.changes === 1;
  }

  /** Cancels a queued job at once; returns false if it was not queued. */
  cancelQueued(id: string, now = Date.now()): boolean {
    const r = this.db
      .prepare(
        "UPDATE jobs SET state = 'cancelled', cancel_requested = 1, finished_at = ? WHERE id = ? AND state = 'queued'",
      )
      .run(now, id);
    return r.changes === 1;
  }

  /** Flags a running job for cancellation (survives a restart); returns false if not running. */
  requestCancel(id: string): boolean {
    const r = this.db
      .prepare("UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND state = 'running'")
      .run(id);
    return r.changes === 1;
  }

  /**
   * Start-up recovery after a stop (clean or not): running jobs whose cancel was requested become
   * cancelled; the other running jobs go back to the queue (ahead of newer jobs, by submission
   * order) to resume from their checkpoint. Returns the interrupted jobs with their old worker pid.
   */
  recover(now = Date.now()): Interrupted[] {
    return this.db.transaction(() => {
      const rows = this.db
        .prepare("SELECT id, pid, cancel_requested FROM jobs WHERE state = 'running' ORDER BY seq")
        .all() as { id: string; pid: number | null; cancel_requested: number }[];
      this.db
        .prepare(
          "UPDATE jobs SET state = 'cancelled', pid = NULL, finished_at = ? WHERE state = 'running' AND cancel_requested = 1",
        )
        .run(now);
      this.db.prepare("UPDATE jobs SET state = 'queued', pid = NULL WHERE state = 'running'").run();
      return rows.map((r) => ({ id: r.id, pid: r.pid }));
    })();
  }

  /** Particles of the jobs that succeeded at or after `since` (ms since the epoch). */
  particlesFinishedSince(since: number): number {
    const r = this.db
      .prepare(
        "SELECT COALESCE(SUM(particles), 0) AS n FROM jobs WHERE state = 'succeeded' AND finished_at >= ?",
      )
      .get(since) as { n: number };
    return r.n;
  }
}
