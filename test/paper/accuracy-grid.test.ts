import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { accuracyGrid, type GridRun, gridTable, parseGridArgs } from '../../scripts/accuracy-grid.js';

const root = mkdtempSync(join(tmpdir(), 'ackmeans-grid-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('scripts/accuracy-grid', () => {
  it('has the issue-17 grid by default, a small and a large preset', () => {
    const full = parseGridArgs([]);
    expect(full.molecules).toEqual(['70s', '80s']);
    expect(full.snr).toEqual([1 / 3, 1 / 10, 1 / 30]);
    expect(full.seeds).toEqual([1, 2, 3]);
    expect([full.views, full.perView, full.k, full.box]).toEqual([100, 20, 20, 64]);
    const small = parseGridArgs(['--small']);
    expect([small.molecules, small.seeds, small.views * small.perView, small.k]).toEqual([
      ['70s'],
      [1],
      1000,
      10,
    ]);
    const large = parseGridArgs(['--large']);
    expect([large.snr, large.views * large.perView, large.k]).toEqual([[0.1], 10000, 100]);
    const o = parseGridArgs(['--snr', '1/30', '--param', 'alignResolution=40', '--param', 'mirror=false']);
    expect(o.snr).toEqual([1 / 30]);
    expect(o.params).toEqual({ alignResolution: 40, mirror: false });
    expect(() => parseGridArgs(['--small', '--large'])).toThrow(/exclude/);
    expect(() => parseGridArgs(['--molecules', 'tmv'])).toThrow(/70s, 80s, betagal/);
  });

  it('tabulates medians over seeds per molecule and SNR, with the ratio to the oracle', () => {
    const run = (method: GridRun['method'], seed: number, median: number): GridRun => ({
      molecule: '70s', snr: 0.1, seed, method, median, ari: 0.5, sizeCv: 0.1 * seed, tiny: seed - 1, seconds: 1,
      iterations: 3 }); // prettier-ignore
    const table = gridTable(
      [run('oracle', 1, 10), run('ack', 1, 11), run('oracle', 2, 20), run('ack', 2, 13), run('oracle', 3, 12), run('ack', 3, 15)],
      ['ack'],
    ); // prettier-ignore
    const row = table
      .trim()
      .split('\n')[2]
      .split('|')
      .map((c) => c.trim());
    // molecule, SNR, seeds, oracle median of 10/20/12, ACK median of 11/13/15, ratio, ARI, worst CV, worst ≤1
    expect(row.slice(1, 10)).toEqual(['70s', '1/10', '3', '12.0', '13.0', '1.08', '0.500', '0.300', '2']);
  });

  it('names a missing map folder', async () => {
    const o = { ...parseGridArgs(['--small']), maps: join(root, 'nope'), out: join(root, 'out') };
    await expect(accuracyGrid(o, () => {})).rejects.toThrow(/ribosome70s_65px\.mrc: the map does not exist/);
  });
});
