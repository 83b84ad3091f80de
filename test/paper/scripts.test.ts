import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CommanderError } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { writeMrc } from '../../src/io/index.js';
import { phantom } from '../../src/sim/phantom.js';
import { compareRelion, parseCompareArgs } from '../../scripts/compare-relion.js';
import { formatSnr } from '../../scripts/lib/cli.js';
import {
  DEFAULT_MAP,
  gridCsv,
  gridMarkdown,
  type GridRow,
  parseReproduceArgs,
  reproducePaper,
} from '../../scripts/reproduce-paper.js';
import { describeRelion } from '../helpers/relion.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'ackmeans-scripts-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs an executable script; resolves with its exit code and output. */
async function runScript(name: string, ...args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(join(repo, 'scripts', name), args, { cwd: repo });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('scripts/compare-relion arguments', () => {
  it('has the documented defaults', () => {
    expect(parseCompareArgs([])).toMatchObject({
      install: false,
      n: 2000,
      k: 20,
      snr: 0.1,
      iter: 25,
      threads: 2,
    });
  });

  it('reads every option', () => {
    const o = parseCompareArgs([
      '--install',
      '--n',
      '500',
      '--k',
      '10',
      '--snr',
      '1/30',
      '--iter',
      '3',
      '--out',
      'x',
    ]);
    expect(o).toMatchObject({ install: true, n: 500, k: 10, iter: 3, out: 'x' });
    expect(o.snr).toBeCloseTo(1 / 30, 12);
  });

  it('rejects bad values and unknown options', () => {
    expect(() => parseCompareArgs(['--n', 'many'])).toThrow(CommanderError);
    expect(() => parseCompareArgs(['--snr', '-1'])).toThrow(CommanderError);
    expect(() => parseCompareArgs(['--bogus'])).toThrow(CommanderError);
    expect(() => parseCompareArgs(['--n', '100', '--k', '80'])).toThrow(RangeError);
  });
});

describe('scripts/reproduce-paper arguments', () => {
  it('runs the paper grid by default and 2,000 images in 20 classes with --small', () => {
    const full = parseReproduceArgs([]);
    expect(full).toMatchObject({ n: 10000, k: 100, map: DEFAULT_MAP, pixelSize: 5 });
    expect(full.pipelines).toEqual(['mra', 'msa', 'rfa']);
    expect(full.methods).toEqual(['kmeans', 'spider', 'eqk', 'ack']);
    expect(full.snr.map(formatSnr)).toEqual(['1/3', '1/10', '1/30']);
    expect(parseReproduceArgs(['--small'])).toMatchObject({ n: 2000, k: 20 });
    expect(parseReproduceArgs(['--small', '--n', '300'])).toMatchObject({ n: 300, k: 20 });
  });

  it('reads lists, keeping their order and dropping repeats', () => {
    const o = parseReproduceArgs(['--snr', '0.5,1/10', '--pipelines', 'rfa,MRA', '--methods', 'ack,ack,eqk']);
    expect(o.snr).toEqual([0.5, 0.1]);
    expect(o.pipelines).toEqual(['rfa', 'mra']);
    expect(o.methods).toEqual(['ack', 'eqk']);
  });

  it('rejects unknown pipelines and methods, naming the option', () => {
    expect(() => parseReproduceArgs(['--pipelines', 'mra,cnn'])).toThrow(/--pipelines/);
    expect(() => parseReproduceArgs(['--methods', 'dbscan'])).toThrow(/--methods/);
    expect(() => parseReproduceArgs(['--snr', '1/0'])).toThrow(CommanderError);
  });

  it('formats SNRs as the paper writes them', () => {
    expect([1 / 3, 0.1, 1 / 30, 0.25, 2].map(formatSnr)).toEqual(['1/3', '1/10', '1/30', '1/4', '2']);
    expect(formatSnr(0.3)).toBe('0.3');
  });

  it('writes the results table as CSV and Markdown', () => {
    const row: GridRow = {
      label: 'ACK-means',
      snr: 0.1,
      pipeline: 'mra',
      method: 'ack',
      median: 12.345,
      under15: 0.61234,
      ari: 0.5,
      sizeCv: 0.05,
      tiny: 0,
      seconds: 61.2,
      iterations: 30,
      converged: false,
    };
    const csv = gridCsv([row]).trim().split('\n');
    expect(csv[0].split(',')).toHaveLength(10);
    expect(csv[1]).toBe('1/10,mra,ack,12.345,0.6123,0.0500,0,61.2,30,false');
    const md = gridMarkdown([row]);
    expect(md).toContain('| 1/10 | MRA | ACK-means | 12.3 | 61.2 % | 0.050 | 0 | 61 | 30 (cap) |');
  });
});

describe('the executable scripts', () => {
  it('print their help and exit 0; a usage error exits 2 with one line', async () => {
    const help = await runScript('reproduce-paper', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--small/);
    const bad = await runScript('compare-relion', '--k', 'x');
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toMatch(/^compare-relion: .*--k/);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  }, 600_000);

  it('reproduce-paper fails with exit 1 and names a missing map', async () => {
    const r = await runScript('reproduce-paper', '--map', join(root, 'nope.mrc'), '--out', join(root, 'x'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nope\.mrc: the map does not exist/);
  }, 600_000);
});

describe('reproducePaper (a tiny grid)', () => {
  it('simulates per SNR, runs every pipeline × method and writes the tables and reports', async () => {
    const size = 32;
    const map = join(root, 'map.mrc');
    await writeMrc(map, phantom(size), { nx: size, ny: size, nz: size, pixelSize: 6 });
    const out = join(root, 'grid');
    const o = parseReproduceArgs(['--map', map, '--pixel-size', '6', '--n', '60', '--k', '3', '--snr', '1']);
    const rows = await reproducePaper(
      { ...o, pipelines: ['mra'], methods: ['kmeans', 'ack'], maxIter: 2, threads: 2, out },
      () => {},
    );
    expect(rows.map((r) => `${r.pipeline}/${r.method}`)).toEqual(['mra/kmeans', 'mra/ack']);
    const csv = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(3);
    expect(csv[2].startsWith('1,mra,ack,')).toBe(true);
    expect(existsSync(join(out, 'snr-1', 'mra', 'report.html'))).toBe(true);
    expect(existsSync(join(out, 'snr-1', 'mra', 'ack', 'run_data.star'))).toBe(true);
    // The table holds each run's own median (not a placeholder), an angle in [0°, 180°].
    for (const [i, r] of rows.entries()) {
      expect(csv[i + 1].split(',')[3]).toBe(r.median.toFixed(3));
      expect(r.median).toBeLessThanOrEqual(180);
    }
  }, 600_000);
});

describeRelion('compareRelion (a tiny comparison)', () => {
  it('runs RELION and both ackmeans methods on one stack and tabulates them', async () => {
    const out = join(root, 'compare');
    const o = parseCompareArgs([
      '--n',
      '40',
      '--k',
      '2',
      '--iter',
      '1',
      '--max-iter',
      '2',
      '--snr',
      '1',
      '--out',
      out,
    ]);
    const r = await compareRelion(o, () => {});
    expect(r.runs.map((x) => x.label)).toEqual(['RELION 3.1', 'ACK-means', 'K-means']);
    for (const run of r.runs) expect(run.evaluation.sizes.reduce((a, b) => a + b, 0)).toBe(40);
    expect(r.table.split('\n')[0]).toMatch(/RELION 3\.1\s+ACK-means\s+K-means/);
    expect(r.relionIterationSeconds).toHaveLength(1);
    for (const f of ['report.html', 'comparison.md', 'comparison.json', 'data/relion_in.star'])
      expect(existsSync(join(out, f))).toBe(true);
  }, 600_000);
});
