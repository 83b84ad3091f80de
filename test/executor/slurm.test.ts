/**
 * The Slurm job-array runner against a real Slurm (scripts/slurm-local.sh start: slurmctld +
 * slurmd on localhost). Skips with a message where no Slurm answers.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSlurm, runArray } from '../../src/executor/slurm.js';

const LOCAL_CONF = '/tmp/ackmeans-slurm/slurm.conf';
const env: NodeJS.ProcessEnv = {
  ...process.env,
  SLURM_CONF: process.env.SLURM_CONF ?? (existsSync(LOCAL_CONF) ? LOCAL_CONF : undefined),
};

function slurmAnswers(): boolean {
  try {
    const state = execFileSync('sinfo', ['-h', '-o', '%T'], { env, timeout: 20_000, encoding: 'utf8' });
    return /idle|mixed|allocated|completing/.test(state);
  } catch {
    return false;
  }
}

const available = slurmAnswers();
if (!available)
  console.warn('Slurm tests skipped: no Slurm answers (run: bash scripts/slurm-local.sh start)');

const node = process.execPath;
const tmp = (): string => mkdtempSync(join(tmpdir(), 'ackmeans-slurm-test-'));

/** A task that appends a line to attempts-<task> in `dir`, sleeps `ms`, then writes out-<task>. */
function task(dir: string, ms: number, failTask = -1): string[] {
  const code = `const fs=require('fs'),p=require('path'),t=process.argv[1],d=${JSON.stringify(dir)};
fs.appendFileSync(p.join(d,'attempts-'+t),'x');
if(Number(t)===${failTask}) process.exit(3);
setTimeout(()=>fs.writeFileSync(p.join(d,'out-'+t),'done '+t),${ms});`;
  return [node, '-e', code, '{task}'];
}

function squeueIds(name: string): string[] {
  const out = execFileSync('squeue', ['-h', '-r', '-n', name, '-o', '%i'], {
    env,
    encoding: 'utf8',
    timeout: 20_000,
  });
  return out.split('\n').filter(Boolean);
}

describe.skipIf(!available)('Slurm job arrays (single-node Slurm)', () => {
  it('runs every task once and resolves when all exit 0', { timeout: 180_000 }, async () => {
    const dir = tmp();
    const seen: number[] = [];
    await runArray(
      { name: 'ack-test-ok', dir: join(dir, 'job'), tasks: 4, command: task(dir, 10) },
      { env, pollMs: 200 },
      { onProgress: (p) => seen.push(p.done) },
    );
    for (let t = 0; t < 4; t++) {
      expect(readFileSync(join(dir, `out-${t}`), 'utf8')).toBe(`done ${t}`);
      expect(readFileSync(join(dir, `attempts-${t}`), 'utf8')).toBe('x');
    }
    expect(seen.at(-1)).toBe(4);
  });

  it(
    'submits a task again after scancel of that task, and the result is unchanged',
    { timeout: 240_000 },
    async () => {
      const dir = tmp();
      const name = `ack-test-kill-${process.pid}`;
      const run = runArray(
        { name, dir: join(dir, 'job'), tasks: 3, command: task(dir, 4000) },
        { env, pollMs: 200, maxRetries: 2 },
      );
      // Wait until task 1 has started (its attempts file exists), then cancel just that task.
      for (let i = 0; i < 600 && !existsSync(join(dir, 'attempts-1')); i++)
        await new Promise((r) => setTimeout(r, 100));
      const id = squeueIds(name).find((s) => s.endsWith('_1'));
      expect(id).toBeDefined();
      execFileSync('scancel', [id as string], { env, timeout: 20_000 });
      await run;
      expect(readFileSync(join(dir, 'attempts-1'), 'utf8')).toBe('xx');
      for (let t = 0; t < 3; t++) expect(readFileSync(join(dir, `out-${t}`), 'utf8')).toBe(`done ${t}`);
    },
  );

  it('fails with the task and its log named once the retries are used up', { timeout: 180_000 }, async () => {
    const dir = tmp();
    await expect(
      runArray(
        { name: 'ack-test-fail', dir: join(dir, 'job'), tasks: 2, command: task(dir, 10, 1) },
        { env, pollMs: 200, maxRetries: 1 },
      ),
    ).rejects.toThrow(/Slurm task 1 of "ack-test-fail" exited with 3 2 times; its log/);
    expect(readFileSync(join(dir, 'attempts-1'), 'utf8')).toBe('xx');
  });

  it('cancelling the signal cancels the array', { timeout: 180_000 }, async () => {
    const dir = tmp();
    const name = `ack-test-cancel-${process.pid}`;
    const ac = new AbortController();
    const run = runArray(
      { name, dir: join(dir, 'job'), tasks: 2, command: task(dir, 60_000) },
      { env, pollMs: 200 },
      { signal: ac.signal },
    );
    for (let i = 0; i < 600 && squeueIds(name).length === 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    ac.abort();
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    for (let i = 0; i < 100 && squeueIds(name).length > 0; i++) await new Promise((r) => setTimeout(r, 200));
    expect(squeueIds(name)).toEqual([]);
    expect(readdirSync(dir).filter((f) => f.startsWith('out-'))).toEqual([]);
  });

  it(
    'refuses bad settings before any work: unknown partition, bad sbatch option',
    { timeout: 120_000 },
    async () => {
      await expect(checkSlurm({ env, partition: 'no-such-partition' })).rejects.toThrow(
        /unknown Slurm partition "no-such-partition"/,
      );
      await expect(checkSlurm({ env, sbatchArgs: ['--no-such-option'] })).rejects.toThrow(
        /sbatch --test-only failed/,
      );
      await expect(checkSlurm({ env })).resolves.toBeUndefined();
    },
  );
});

describe('Slurm settings without Slurm', () => {
  it('names the missing command when sbatch is not on PATH', async () => {
    await expect(checkSlurm({ env: { ...env, PATH: '/nonexistent' } })).rejects.toThrow(
      /squeue not found on PATH: install Slurm's client commands/,
    );
  });
});
