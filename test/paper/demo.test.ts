import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../src/demo/demo.js';
import { formatSummary, SUMMARY_MEASURES, summaryRow } from '../../src/demo/experiment.js';
import { evaluateClasses } from '../../src/eval/metrics.js';

const root = mkdtempSync(join(tmpdir(), 'ackmeans-demo-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The numbers of a formatSummary table: measure name → one number per column. */
function parseSummary(table: string): Map<string, number[]> {
  const lines = table.split('\n\n')[0].trimEnd().split('\n').slice(2);
  const out = new Map<string, number[]>();
  for (const line of lines) {
    const cells = line.split(/\s{2,}/);
    out.set(cells[0], cells.slice(1).map(Number));
  }
  return out;
}

describe('formatSummary', () => {
  it('puts the key numbers of each result side by side', () => {
    // two classes of two images each: views 0° and 10° apart in class 0, 0° and 90° in class 1
    const e = evaluateClasses({
      rot: new Float64Array([0, 0, 0, 0]),
      tilt: new Float64Array([0, 10, 0, 90]),
      classes: new Int32Array([0, 0, 1, 1]),
      k: 3,
    });
    const row = summaryRow('A', e, 1.25);
    expect(row.tiny).toBe(1); // the empty third class
    const table = formatSummary([row, { ...row, label: 'B', seconds: 2 }]);
    const nums = parseSummary(table);
    expect([...nums.keys()]).toEqual(SUMMARY_MEASURES.map(([name]) => name));
    expect(nums.get('pairs under 15° (%)')).toEqual([50, 50]);
    expect(nums.get('classes with ≤ 1 member')).toEqual([1, 1]);
    expect(nums.get('time (s)')).toEqual([1.3, 2]);
    expect(nums.get('class-size CV')![0]).toBeCloseTo(e.sizeCv, 3);
  });
});

describe('runDemo', () => {
  it('simulates, classifies with ACK-means and K-means, evaluates and writes one report', async () => {
    const lines: string[] = [];
    const out = join(root, 'demo');
    const r = await runDemo({
      out,
      n: 120,
      k: 4,
      snr: 1,
      seed: 2,
      maxIter: 3,
      threads: 2,
      log: (l) => lines.push(l),
    });
    expect(r.outDir).toBe(out);
    expect(r.runs.map((x) => x.label)).toEqual(['ACK-means', 'K-means']);
    for (const f of ['report.html', 'angular_histogram.png', 'class_sizes.png', 'summary.json'])
      expect(existsSync(join(out, f))).toBe(true);
    for (const m of ['ack', 'kmeans']) expect(existsSync(join(out, m, 'run_data.star'))).toBe(true);
    // the main report shows both runs' class averages (their montages, byte for byte) and links their reports
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<h2>Class averages</h2>');
    for (const m of ['ack', 'kmeans']) {
      expect(html).toContain(readFileSync(join(out, m, 'class_averages.png')).toString('base64'));
      expect(html).toContain(`href="${m}/report.html"`);
    }
    expect(existsSync(join(out, 'data', 'particles.star'))).toBe(true);
    for (const run of r.runs) {
      expect(run.evaluation.n).toBe(120);
      expect(run.evaluation.sizes.reduce((a, b) => a + b, 0)).toBe(120);
      expect(run.iterations).toBeLessThanOrEqual(3);
    }
    // the printed numbers parse and are the evaluations' own
    const nums = parseSummary(r.table);
    const medians = nums.get('median angle (°, mirror ≡ view)')!;
    expect(medians).toHaveLength(3);
    r.runs.forEach((run, i) => expect(medians[i]).toBeCloseTo(run.evaluation.mirror.median, 2));
    expect(medians[2]).toBeCloseTo(r.oracle.mirror.median, 2);
    expect(nums.get('ARI against the true views')![0]).toBeCloseTo(r.runs[0].evaluation.ari!, 3);
    // the claims: ACK against the oracle and against K-means
    expect(r.table).toMatch(/accuracy vs the oracle: ACK [\d.]+° = [\d.]+× the oracle's/);
    expect(r.table).toMatch(/ahead of K-means on median angle: (yes|NO)/);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      runs: { label: string }[];
    };
    expect(summary.runs.map((x) => x.label)).toEqual(['ACK-means', 'K-means']);
    expect(lines.some((l) => /^simulating 120 projections/.test(l))).toBe(true);
    expect(lines.some((l) => /^ACK-means: \d+% /.test(l))).toBe(true);
  }, 600_000);

  it('rejects bad options before doing any work', async () => {
    await expect(runDemo({ out: join(root, 'bad'), k: 1 })).rejects.toThrow(/k/);
    await expect(runDemo({ out: join(root, 'bad'), n: 100, k: 60 })).rejects.toThrow(/k/);
    await expect(runDemo({ out: join(root, 'bad'), snr: -1 })).rejects.toThrow(/snr/);
    expect(existsSync(join(root, 'bad'))).toBe(false);
  });
});
