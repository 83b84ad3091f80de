/**
 * `--executor slurm` end to end on the single-node Slurm (scripts/slurm-local.sh start): the
 * same classes, poses and averages as the local executor, a coordinator killed with kill -9 and
 * continued, bad settings refused before any work. Skips where no Slurm answers.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runClassification } from '../../src/pipeline/run.js';
import { simulateStack } from '../pipeline/simulate.js';

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
    'Slurm executor tests skipped: no Slurm answers or dist/cli.js is not built (scripts/slurm-local.sh start; npm run build:ts)',
  );

// Small, but with real shortlists (m = 2 of k = 4) so the sparse passes are what is distributed.
const PARAMS = { k: 4, seed: 3, exhaustive: false, shortlist: 2, maxIter: 6, threads: 1 };
const OUTPUTS = ['run_data.star', 'run_classes.mrcs', 'run_model.star'];

const same = (a: string, b: string): void => {
  for (const f of OUTPUTS) expect(readFileSync(join(b, f)), f).toEqual(readFileSync(join(a, f)));
};

function runCli(args: string[], timeoutMs: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stderr });
    });
  });
}

/** The tasks of the arrays `ids` that Slurm still lists (any state). */
function queued(ids: string[]): string[] {
  try {
    const out = execFileSync('squeue', ['-h', '-r', '-j', ids.join(','), '-o', '%i %T'], {
      timeout: 20_000,
      encoding: 'utf8',
    });
    return out.split('\n').filter(Boolean);
  } catch (err) {
    // squeue refuses ids it has forgotten: none of them is listed
    if (/Invalid job id/i.test(String((err as { stderr?: unknown }).stderr))) return [];
    throw err;
  }
}

describe.skipIf(!available)('--executor slurm', () => {
  it('gives the same outputs as the local executor', { timeout: 600_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ackmeans-slurm-classify-'));
    const sim = await simulateStack(dir, { perView: 15, snr: 1 });
    const local = join(dir, 'local');
    const viaSlurm = join(dir, 'slurm');
    await runClassification(sim.star, local, PARAMS);
    const summary = await runClassification(sim.star, viaSlurm, PARAMS, {
      slurm: { shards: 3, pollMs: 200, ackmeans: [process.execPath, cli] },
    });
    expect(summary.iterations).toBeGreaterThan(0);
    same(local, viaSlurm);
    expect(existsSync(join(viaSlurm, 'slurm')), 'the job folder is removed after a run').toBe(false);
  });

  it('a run that fails after a pass leaves none of its arrays queued', { timeout: 300_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ackmeans-slurm-fail-'));
    const sim = await simulateStack(dir, { perView: 15, snr: 1 });
    const out = join(dir, 'out');
    const run = runClassification(sim.star, out, PARAMS, {
      slurm: { shards: 2, pollMs: 200, ackmeans: [process.execPath, cli] },
      onIteration: () => {
        throw new Error('made to fail after the first pass');
      },
    });
    await expect(run).rejects.toThrow(/made to fail/);
    // the folder (and the list of arrays) stays after a failure: the tasks' logs are there
    const ids = readFileSync(join(out, 'slurm', 'arrays'), 'utf8')
      .split('\n')
      .filter(Boolean);
    expect(ids.length, 'the first pass and the array submitted ahead').toBeGreaterThanOrEqual(2);
    // Cancelled tasks may be listed as completing for a moment; one waiting for a pass that
    // never comes would stay for 10 minutes.
    let listed = queued(ids);
    for (let i = 0; i < 120 && listed.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 500));
      listed = queued(ids);
    }
    expect(listed).toEqual([]);
  });

  it('a coordinator killed with kill -9 continues to the same result', { timeout: 900_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ackmeans-slurm-resume-'));
    const sim = await simulateStack(dir, { perView: 15, snr: 1 });
    const local = join(dir, 'local');
    await runClassification(sim.star, local, PARAMS);
    const out = join(dir, 'out');
    const args = [
      'classify',
      sim.star,
      '-k',
      '4',
      '--seed',
      '3',
      '--no-exhaustive',
      '--shortlist',
      '2',
      '--max-iter',
      '6',
    ];
    const slurmArgs = ['--threads', '1', '--executor', 'slurm', '--shards', '2', '--quiet'];
    const child = spawn(process.execPath, [cli, ...args, '-o', out, ...slurmArgs], { stdio: 'ignore' });
    // Kill the coordinator once an iteration has been checkpointed (the first trace row exists).
    const checkpoint = join(out, 'checkpoint.json');
    let killed = false;
    for (let i = 0; i < 3000 && child.exitCode === null; i++) {
      if (existsSync(checkpoint) && /"iteration":\s*[1-9]/.test(readFileSync(checkpoint, 'utf8'))) {
        child.kill('SIGKILL');
        killed = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) =>
      child.exitCode === null && child.signalCode === null ? child.on('close', r) : r(0),
    );
    const resumed = await runCli(['classify', '--continue', out, ...slurmArgs], 600_000);
    expect(resumed.code, resumed.stderr).toBe(0);
    if (!killed)
      console.warn('the run finished before it could be killed; resume was checked on a finished run');
    same(local, out);
  });

  it('refuses bad Slurm settings before any work, in one line', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ackmeans-slurm-bad-'));
    const sim = await simulateStack(dir, { perView: 4 });
    const out = join(dir, 'out');
    const bad = await runCli(
      [
        'classify',
        sim.star,
        '-k',
        '4',
        '-o',
        out,
        '--no-exhaustive',
        '--executor',
        'slurm',
        '--partition',
        'nope',
      ],
      120_000,
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^ackmeans: unknown Slurm partition "nope"[^\n]*\n$/);
    expect(existsSync(out)).toBe(false);
    const exhaustive = await runCli(
      ['classify', sim.star, '-k', '4', '-o', out, '--executor', 'slurm', '--exhaustive'],
      120_000,
    );
    expect(exhaustive.code).toBe(1);
    expect(exhaustive.stderr).toMatch(
      /^ackmeans: --executor slurm runs only the scale engine's passes, and this run would not use it: exhaustive was asked for\n$/,
    );
    expect(existsSync(out)).toBe(false);
    // a small set without --no-exhaustive runs the exhaustive engine: the executor never changes results
    const small = await runCli(['classify', sim.star, '-k', '4', '-o', out, '--executor', 'slurm'], 120_000);
    expect(small.code).toBe(1);
    expect(small.stderr).toMatch(
      /run the exhaustive engine unless exhaustive is false \(--no-exhaustive\)\n$/,
    );
    expect(existsSync(out)).toBe(false);
    const noSlurm = await runCli(['classify', sim.star, '-k', '4', '-o', out, '--shards', '3'], 120_000);
    expect(noSlurm.code).toBe(2);
    expect(noSlurm.stderr).toMatch(/need --executor slurm/);
  });
});
