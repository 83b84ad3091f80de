import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { register as registerClassify } from '../../src/cli/classify.js';
import { register as registerSelect } from '../../src/cli/select.js';
import { readStar } from '../../src/io/index.js';
import { CHECKPOINT_FILE } from '../../src/pipeline/checkpoint.js';
import { runCommand } from '../helpers/cli.js';
import { type SimulatedStack, simulateStack } from './simulate.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tmp = (): string => mkdtempSync(join(tmpdir(), 'ack-cli-'));
let sim: SimulatedStack;

beforeAll(async () => {
  sim = await simulateStack(tmp(), { perView: 8, snr: 3, seed: 4 });
});

/** Runs `ackmeans classify|select` in this process. */
const inProcess = (...args: string[]) =>
  runCommand(
    (program) => {
      registerClassify(program);
      registerSelect(program);
    },
    ...args,
  );

describe('ackmeans classify / select', () => {
  it('--json prints progress, iteration and done events; select writes the chosen classes', async () => {
    const out = tmp();
    const r = await inProcess(
      'classify',
      sim.star,
      '-k',
      '4',
      '-o',
      out,
      '--max-iter',
      '4',
      '--threads',
      '2',
      '--json',
    );
    expect(r.code).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; files?: string[] });
    expect(events.some((e) => e.event === 'iteration')).toBe(true);
    expect(events.at(-1)?.event).toBe('done');
    expect(events.at(-1)?.files?.some((f) => f.endsWith('run_data.star'))).toBe(true);
    const s = await inProcess(
      'select',
      join(out, 'run_data.star'),
      '--classes',
      '1,2',
      '-o',
      join(out, 'subset.star'),
    );
    expect(s.code).toBe(0);
    const subset = (await readStar(join(out, 'subset.star'))).block('particles')!;
    expect(new Set(subset.numeric('rlnClassNumber'))).toEqual(new Set([1, 2]));
  });

  it('bad parameters and inputs: one clear line, non-zero exit, no outputs', async () => {
    const out = join(tmp(), 'out');
    const cases: Array<[string[], number, RegExp]> = [
      [['classify', sim.star, '-k', '0', '-o', out], 2, /k must be/],
      [['classify', sim.star, '-k', '4', '-o', out, '--method', 'fast'], 2, /--method must be one of/],
      [['classify', sim.star, '-k', '4'], 2, /-o OUTDIR/],
      [['classify', join(out, 'nope.star'), '-k', '4', '-o', out], 1, /nope\.star/],
      [['classify', '--continue', out], 1, /checkpoint/],
    ];
    for (const [args, code, message] of cases) {
      const r = await inProcess(...args);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
    expect(existsSync(out)).toBe(false);
  });
});

/** Runs the real CLI in a child process; resolves with its output and exit code. */
function child(
  args: string[],
  onLine?: (line: string, kill: (signal?: NodeJS.Signals) => void) => void,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: root });
    let buffer = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        onLine?.(buffer.slice(0, nl), (signal = 'SIGKILL') => p.kill(signal));
        buffer = buffer.slice(nl + 1);
      }
    });
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('a killed run', () => {
  it('continues with --continue and ends exactly like an uninterrupted run', async () => {
    const args = ['-k', '4', '--max-iter', '5', '--sigma0', '0', '--seed', '3', '--threads', '2', '--json'];
    const full = tmp();
    expect((await child(['classify', sim.star, '-o', full, ...args])).code).toBe(0);
    const cut = tmp();
    const killed = await child(['classify', sim.star, '-o', cut, ...args], (line, kill) => {
      const e = JSON.parse(line) as { event: string; iteration?: number };
      if (e.event === 'iteration' && e.iteration === 2) kill();
    });
    expect(killed.code).toBe(null);
    expect(readdirSync(cut)).toContain(CHECKPOINT_FILE);
    expect(readdirSync(cut)).not.toContain('run_data.star');
    const resumed = await child(['classify', '--continue', cut, '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    for (const f of ['run_data.star', 'run_classes.mrcs', 'run_model.star'])
      expect(readFileSync(join(cut, f)).equals(readFileSync(join(full, f))), f).toBe(true);
  }, 600_000);
});

describe('an interrupted run (Ctrl-C, SIGTERM) and a damaged checkpoint', () => {
  it('exits 130 / 143 naming --continue OUTDIR; a damaged checkpoint.json says so and how to recover', async () => {
    const args = ['-k', '4', '--max-iter', '30', '--sigma0', '0', '--threads', '2', '--json'];
    for (const [signal, code] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
    ] as const) {
      const out = tmp();
      let sent = false;
      const r = await child(['classify', sim.star, '-o', out, ...args], (line, kill) => {
        const e = JSON.parse(line) as { event: string };
        if (e.event === 'iteration' && !sent) {
          sent = true;
          kill(signal);
        }
      });
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).toContain(
        `ackmeans: interrupted (${signal}); continue with: ackmeans classify --continue ${out}`,
      );
      expect(readdirSync(out)).toContain(CHECKPOINT_FILE);
      if (signal === 'SIGTERM') {
        const path = join(out, CHECKPOINT_FILE);
        const cp = JSON.parse(readFileSync(path, 'utf8')) as { phases: Record<string, { n: number }> };
        for (const phase of Object.values(cp.phases)) phase.n = 10;
        writeFileSync(path, JSON.stringify(cp));
        const resumed = await inProcess('classify', '--continue', out, '--quiet');
        expect(resumed.code).toBe(1);
        expect(resumed.stderr).toMatch(
          /^ackmeans: checkpoint\.json is damaged \(phase [\w-]+: state\.n \(10\) differs .*start it again into a new output folder\n$/,
        );
      }
    }
  }, 600_000);
});
