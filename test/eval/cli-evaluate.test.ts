import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register } from '../../src/cli/evaluate.js';
import { runCli, runCommand } from '../helpers/cli.js';
import { decodePng } from '../report/png.js';
import { truthViews, writeResult, writeTruth } from './star-fixtures.js';
import { randomClasses } from './views.js';

const dir = mkdtempSync(join(tmpdir(), 'ackmeans-cli-evaluate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = runCli;
const inProcess = (...args: string[]) => runCommand(register, ...args);

let truth = '';
let perfect = '';
let random = '';
beforeAll(async () => {
  const v = truthViews();
  truth = await writeTruth(dir, v);
  perfect = (await writeResult(join(dir, 'perfect.star'), v.viewIds, { shuffle: 1 })).path;
  random = (await writeResult(join(dir, 'random.star'), randomClasses(v.rot.length, 12, 3))).path;
});

describe('ackmeans evaluate', () => {
  it('prints a table comparing several results, and writes the report with -o', async () => {
    const out = join(dir, 'out');
    const r = await cli(
      'evaluate',
      '--truth',
      truth,
      '--result',
      perfect,
      '--label',
      'by view',
      '--result',
      random,
      '-o',
      out,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/by view\s+random/);
    expect(r.stdout).toMatch(/adjusted Rand index \(views\)\s+1\.000/);
    expect(r.stdout).toMatch(/classes with 0 members\s+0\s+\d/);
    const json = JSON.parse(readFileSync(join(out, 'evaluation.json'), 'utf8'));
    expect(json.results.map((x: { label: string }) => x.label)).toEqual(['by view', 'random']);
    expect(json.results[0].sizes).toEqual(Array(12).fill(10));
    for (const f of ['angular_histogram.png', 'angular_histogram_direct.png', 'class_sizes.png'])
      expect(decodePng(join(out, f)).colours).toBeGreaterThan(10);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
  });

  it('prints one JSON object with --json', async () => {
    const r = await inProcess(
      'evaluate',
      '--truth',
      truth,
      '--result',
      perfect,
      '--json',
      '--bin-width',
      '2',
    );
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.results).toHaveLength(1);
    expect(json.results[0].label).toBe('perfect');
    expect(json.results[0].ari).toBe(1);
    expect(json.results[0].mirror.histogram).toHaveLength(45);
  });

  it('rejects bad arguments with one line and exit code 2, bad files with exit code 1', async () => {
    const usage = [
      ['evaluate', '--result', perfect],
      ['evaluate', '--truth', truth, '--result', perfect, '--bin-width', '3'],
      ['evaluate', '--truth', truth, '--result', perfect, '--label', 'a', '--label', 'b'],
      ['evaluate', '--truth', truth, '--result', perfect, '--classes', 'x'],
    ];
    for (const args of usage) {
      const r = await inProcess(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')[0]).toMatch(/^(ackmeans: |error: )/);
    }
    const missing = await inProcess('evaluate', '--truth', join(dir, 'nope.star'), '--result', perfect);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^ackmeans: nope.star: no such file\n$/);
    const wrong = await inProcess('evaluate', '--truth', perfect, '--result', perfect);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(
      /^ackmeans: perfect.star: no particle table with _rlnAngleRot, _rlnAngleTilt\n$/,
    );
    // The real command line maps commander's usage errors to exit code 2 too.
    const real = await cli('evaluate', '--result', perfect);
    expect(real.code).toBe(2);
    expect(real.stderr).toMatch(/required option '--truth <file>' not specified/);
  });
});
