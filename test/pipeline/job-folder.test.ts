import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHECKPOINT_FILE } from '../../src/pipeline/checkpoint.js';
import { LOCK_FILE, shellLine, summaryLine } from '../../src/pipeline/job-folder.js';
import { runClassification } from '../../src/pipeline/run.js';
import { type SimulatedStack, simulateStack } from './simulate.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'ack-jobdir-'));
const params = { k: 4, maxIter: 3, seed: 1, threads: 2 };
let sim: SimulatedStack;

beforeAll(async () => {
  sim = await simulateStack(tmp(), { perView: 8, snr: 2, seed: 2 });
});

/** Every file under `dir` with its bytes and modification time. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    const st = statSync(path);
    out[name] = st.isFile() ? `${st.mtimeMs}:${readFileSync(path).toString('base64')}` : 'dir';
  }
  return out;
}

describe('the output folder of a run', () => {
  it('records note.txt and run.log, and refuses an existing folder leaving it byte-identical', async () => {
    const out = join(tmp(), 'run');
    const summary = await runClassification(sim.star, out, params, {
      existing: 'refuse',
      commandLine: 'ackmeans classify particles.star -k 4 -o run',
    });
    const note = readFileSync(join(out, 'note.txt'), 'utf8');
    expect(note).toMatch(/Executing new job on \d{4}-\d\d-\d\dT.* \(ackmeans \d+\.\d+\.\d+\) in \//);
    expect(note).toContain('ackmeans classify particles.star -k 4 -o run\n');
    const log = readFileSync(join(out, 'run.log'), 'utf8');
    expect(log).toMatch(/preprocess…\n/);
    expect(log).toMatch(/\w+ iteration 1: σ [\d.]+, size cv /);
    expect(log.trimEnd().split('\n').at(-1)).toMatch(/after \d+ iterations in .*outputs in /);
    expect(readdirSync(out)).not.toContain(LOCK_FILE);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
      timings: { run: number };
    };
    expect(report.timings.run).toBe(summary.seconds);
    const before = snapshot(out);
    await expect(runClassification(sim.star, out, params, { existing: 'refuse' })).rejects.toMatchObject({
      code: 'ERR_OUTPUT_EXISTS',
      message: expect.stringMatching(/--force/) as unknown,
    });
    expect(snapshot(out)).toEqual(before);
    await expect(runClassification('', out, {} as never, { resume: true })).rejects.toMatchObject({
      code: 'ERR_ALREADY_FINISHED',
    });
    expect(snapshot(out)).toEqual(before);
  });

  it('two runs into one folder cannot both succeed', async () => {
    const out = join(tmp(), 'both');
    const results = await Promise.allSettled([
      runClassification(sim.star, out, params),
      runClassification(sim.star, out, params),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const failed = results.find((r) => r.status === 'rejected');
    expect((failed as PromiseRejectedResult).reason).toMatchObject({ code: 'ERR_OUTPUT_LOCKED' });
  });

  it('leftovers of a killed run do not count, and are removed; --continue works from the start', async () => {
    const out = tmp();
    // what a kill during staging and a dead run's lock leave
    mkdirSync(join(out, '.staging-abc123'));
    writeFileSync(join(out, LOCK_FILE), '999999999\n');
    await runClassification(sim.star, out, params, { existing: 'refuse' });
    expect(readdirSync(out).filter((f) => f.startsWith('.'))).toEqual([]);
    // a kill during preprocessing leaves the first checkpoint: --continue restarts the run
    const killed = tmp();
    const controller = new AbortController();
    await expect(
      runClassification(sim.star, killed, params, {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.stage === 'preprocess') controller.abort();
        },
      }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(readdirSync(killed)).toContain(CHECKPOINT_FILE);
    const resumed = await runClassification('', killed, {} as never, { resume: true });
    expect(resumed.sizes.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(readFileSync(join(killed, 'run_data.star')).equals(readFileSync(join(out, 'run_data.star')))).toBe(
      true,
    );
    expect(readFileSync(join(killed, 'note.txt'), 'utf8')).toMatch(/Executing new job[^]*Continuing the job/);
  });

  it('quotes command lines as a shell takes them back', () => {
    expect(shellLine(['ackmeans', 'classify', 'a b.star', "it's", '-k', '4'])).toBe(
      "ackmeans classify 'a b.star' 'it'\\''s' -k 4",
    );
  });
});

describe('the closing line', () => {
  it('says why the run stopped: converged, the iteration cap or the particle-visit budget', () => {
    const s = { iterations: 3, seconds: 12, sizes: [2, 5], quarantined: 0, outDir: 'out' };
    expect(summaryLine({ ...s, converged: true })).toMatch(/^converged after 3 iterations/);
    expect(summaryLine({ ...s, converged: false })).toMatch(/^stopped at the iteration cap after 3/);
    expect(summaryLine({ ...s, converged: false, budgetReached: true })).toMatch(
      /^stopped at the particle-visit budget after 3/,
    );
  });
});
