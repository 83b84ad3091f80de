import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readMrcHeader, readStar, writeMrc } from '../../src/io/index.js';
import { register } from '../../src/cli/simulate.js';
import { runCli, runCommand } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ackmeans-cli-simulate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ackmeans simulate', () => {
  it('writes particles.mrcs and particles.star and reports them as JSON', async () => {
    const out = join(dir, 'a');
    const r = await runCli(
      'simulate',
      ...[
        '-o',
        out,
        '-n',
        '40',
        '--views',
        '4',
        '--snr',
        '1/3',
        '--defocus',
        '12000,25000',
        '--max-shift',
        '2',
      ],
      ...['--phase-flip', '--seed', '3', '--threads', '1', '--box', '48', '--json'],
    );
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout) as { n: number; box: number; snr: number; star: string };
    expect(res).toMatchObject({ n: 40, box: 48 });
    expect(res.snr).toBeCloseTo(1 / 3, 12);
    expect((await readMrcHeader(join(out, 'particles.mrcs'))).nz).toBe(40);
    const defocus = (await readStar(res.star)).block('particles')?.numeric('rlnDefocusU');
    expect(Math.min(...(defocus ?? []))).toBeGreaterThanOrEqual(12000);
    expect(Math.max(...(defocus ?? []))).toBeLessThanOrEqual(25000);
  });

  it('rejects bad arguments with one clear line and exit code 2', async () => {
    const cases = [
      [['--snr', '0'], /--snr must be a positive number/],
      [['--defocus', '3000'], /--defocus must be MIN,MAX/],
      [['-n', '10', '--views', '20'], /views must be in \[1, 10\]/],
      [['--amp-contrast', '1.5'], /amplitudeContrast/],
    ] as const;
    const runs = await Promise.all(
      cases.map(([args]) => runCli('simulate', '-o', join(dir, 'bad'), ...args)),
    );
    runs.forEach((r, k) => {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(cases[k][1]);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
    const missing = await runCommand(register, 'simulate');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--out/);
  });

  it('fails with exit code 1 naming the map when it has no pixel size', async () => {
    const map = join(dir, 'nopixel.mrc');
    await writeMrc(map, new Float32Array(8 ** 3).fill(1), { nx: 8, ny: 8, nz: 8 });
    const r = await runCommand(
      register,
      'simulate',
      '-o',
      join(dir, 'c'),
      '--map',
      map,
      '-n',
      '2',
      '--views',
      '1',
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nopixel\.mrc: the header has no pixel size; give one with --pixel-size/);
  });
});
