import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cluster } from '../../src/cluster/index.js';
import { writeClassifyReport, writeEvaluationReport } from '../../src/report/report.js';
import { discAverages, twoEvaluations } from './fixtures.js';
import { decodePng } from './png.js';

const dir = mkdtempSync(join(tmpdir(), 'ackmeans-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * report.html has no script or external resource, every data URI decodes as a PNG, and the PNG
 * files written beside it (but class_averages.png, which the gallery replaces) are among them.
 */
function expectSelfContained(htmlPath: string, pngPaths: string[]) {
  const html = readFileSync(htmlPath, 'utf8');
  expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)|<link/);
  const uris = [...html.matchAll(/src="data:image\/png;base64,([^"]+)"/g)].map((m) =>
    Buffer.from(m[1], 'base64'),
  );
  for (const u of uris) expect(decodePng(u).width).toBeGreaterThan(0);
  for (const p of pngPaths.filter((p) => basename(p) !== 'class_averages.png'))
    expect(uris.some((u) => u.equals(readFileSync(p)))).toBe(true);
  return html;
}

describe('writeClassifyReport', () => {
  it('writes report.html and three PNGs that decode, with the key numbers', async () => {
    const out = join(dir, 'classify', 'nested');
    const sizes = Int32Array.from([30, 0, 12, 1, 57, 20]);
    const trace = [
      { sigma: 0.6, seconds: 1.5, dc: 12.5 },
      { sigma: 0.05, seconds: 1.25, dc: 11 },
    ];
    const paths = await writeClassifyReport(out, {
      classAverages: discAverages(6, 40),
      box: 40,
      sizes,
      trace,
      title: 'ACK-means <test>',
      params: { beta: 0.5, pipeline: 'mra' },
    });
    expect(paths.map((p) => basename(p))).toEqual([
      'report.html',
      'class_averages.png',
      'class_sizes.png',
      'convergence.png',
    ]);
    for (const p of paths.slice(1)) {
      const png = decodePng(p);
      expect(png.width).toBeGreaterThan(300);
      expect(png.colours).toBeGreaterThan(10);
    }
    const html = expectSelfContained(paths[0], paths.slice(1));
    expect(html).toContain('ACK-means &#60;test&#62;');
    expect(html).toMatch(/<td>images<\/td><td class="num">120<\/td>/);
    expect(html).toMatch(/<td>empty classes<\/td><td class="num">1<\/td>/);
    expect(html).toMatch(/<td>clustering time \(s\)<\/td><td class="num">2.75<\/td>/);
    expect(html).toContain('<th>dc</th>');
    expect(html).not.toMatch(/<td>ended<\/td>|particle-visits/);
    expect(readdirSync(out).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('says how the run ended and, for the scale engine, its particle-visits per particle', async () => {
    const trace = [
      { sigma: 1, visits: 0.4, stage: 'batch', capReached: false },
      { sigma: 0.2, visits: 1.4, stage: 'full', capReached: false },
      { sigma: 0.1, visits: 2.4, stage: 'full', kept: true, capReached: false },
    ];
    const paths = await writeClassifyReport(join(dir, 'ended'), {
      classAverages: discAverages(2, 16),
      box: 16,
      sizes: Int32Array.from([5, 6]),
      trace,
      title: 'scale',
      params: {},
      ending: 'stopped at the particle-visit budget',
    });
    const html = readFileSync(paths[0], 'utf8');
    expect(html).toMatch(/<td>ended<\/td><td>stopped at the particle-visit budget<\/td>/);
    expect(html).toMatch(/<td>particle-visits per particle<\/td><td class="num">2.4<\/td>/);
    // the stage and the kept passes in the iteration table; a flag no record sets has no column
    expect(html).toContain('<th>stage</th>');
    expect(html).toMatch(/<td>full<\/td><td>yes<\/td>/);
    expect(html).not.toContain('<th>capReached</th>');
  });

  it('puts the class gallery first: sorted by score, rejected marked, a panel per class', async () => {
    const box = 40;
    const sizes = Int32Array.from([30, 12, 50, 8]);
    const feature = (g: number) => ({ value: g * 2, goodness: g, weight: 0.5, contribution: 0.5 * g });
    const members = discAverages(3, box, 9);
    const classes = [0.9, 0.3, 0.6, 0.95].map((score, j) => ({
      score,
      accepted: score > 0.5,
      reasons: score > 0.5 ? [] : ['halves disagree <r = 0.1>'],
      features: { halves: feature(score), edge: feature(score) },
      resolution: [12, Infinity, 20, 9][j],
      frc: Float32Array.from({ length: box / 2 + 1 }, (_, s) => Math.exp(-s / (4 + j))),
      members,
      memberBox: box,
    }));
    const paths = await writeClassifyReport(join(dir, 'gallery'), {
      classAverages: discAverages(4, box),
      box,
      sizes,
      trace: [0.5, 0.1],
      title: 'gallery',
      params: { k: 4 },
      classes,
      pixelSize: 3,
    });
    const html = expectSelfContained(paths[0], paths.slice(1));
    // the gallery comes before the summary and the parameters
    expect(html.indexOf('id="classes"')).toBeLessThan(html.indexOf('<h2>Summary</h2>'));
    expect(html.indexOf('<h2>Summary</h2>')).toBeLessThan(html.indexOf('<h2>Parameters</h2>'));
    // sort orders: score (accepted first, best first), size, resolution (undetermined last)
    const order = (n: number, key: string) =>
      Number(new RegExp(`id="tile-${n}"[^>]*--by-${key}:(\\d+)`).exec(html)![1]);
    expect([1, 2, 3, 4].map((n) => order(n, 'score'))).toEqual([1, 3, 2, 0]);
    expect([1, 2, 3, 4].map((n) => order(n, 'size'))).toEqual([1, 2, 0, 3]);
    expect([1, 2, 3, 4].map((n) => order(n, 'res'))).toEqual([1, 3, 2, 0]);
    for (const id of ['sort-score', 'sort-size', 'sort-res', 'sort-class'])
      expect(html).toContain(`id="${id}"`);
    // labels: class number, count, resolution, score; only class 2 is rejected, with its reason
    expect(html).toMatch(/id="tile-3"[^]*?n=50[^]*?20\.0 Å/);
    expect(html).toContain('<span class="t-score">0.95</span>');
    expect(html.match(/class="tile rejected"/g)).toHaveLength(1);
    expect(html).toMatch(/class="tile rejected" id="tile-2"/);
    expect(html).toContain('halves disagree &#60;r = 0.1&#62;');
    // a panel per class, linked from its tile: features with contributions, FRC curve, members
    for (const n of [1, 2, 3, 4]) {
      expect(html).toContain(`href="#class-${n}"`);
      expect(html).toContain(`<div class="detail" id="class-${n}">`);
    }
    expect(html.match(/<svg class="frc"/g)).toHaveLength(4);
    expect(html.match(/class="member"/g)).toHaveLength(12);
    expect(html).toContain('<td>score (Σ contributions)</td>');
    expect(html).toMatch(/\.detail:target \{ display: block; \}/);
    expect(html).toMatch(/<td>classes accepted by their score<\/td><td>3 of 4 \(88 particles\)<\/td>/);
  });

  it('takes the result of cluster() as it is (trace from iteration 0)', async () => {
    const box = 16;
    const data = discAverages(60, box, 7);
    const result = await cluster(data, { dim: box * box, k: 5, seed: 3 });
    const paths = await writeClassifyReport(join(dir, 'classify-run'), {
      classAverages: result.references,
      box,
      sizes: result.sizes,
      trace: result.trace,
      title: 'ACK-means on discs',
      params: { k: 5, seed: 3 },
    });
    const html = readFileSync(paths[0], 'utf8');
    expect(html).toMatch(/<tr><td class="num">0<\/td><td class="num">1<\/td>/); // iteration 0, σ = 1
    expect(html).toContain('<th>lambda</th>');
    expect(html).toMatch(new RegExp(`<td>iterations</td><td class="num">${result.trace.length - 1}</td>`));
    expect(decodePng(paths[1]).colours).toBeGreaterThan(10);
  });
});

describe('writeEvaluationReport', () => {
  it('overlays several results and writes the convergence chart only when a trace is given', async () => {
    const { perfect, random } = twoEvaluations();
    const out = join(dir, 'eval');
    const noTrace = await writeEvaluationReport(out, {
      title: 'two',
      results: [
        { label: 'by view', evaluation: perfect },
        { label: 'random', evaluation: random },
      ],
    });
    expect(noTrace.map((p) => basename(p))).toEqual([
      'report.html',
      'angular_histogram.png',
      'angular_histogram_direct.png',
      'class_sizes.png',
    ]);
    const html = expectSelfContained(noTrace[0], noTrace.slice(1));
    expect(html).toContain('<td>by view</td>');
    expect(html).toContain('<td>random</td>');
    const withTrace = await writeEvaluationReport(out, {
      title: 'traced',
      results: [{ label: 'x', evaluation: perfect, trace: [0.4, 0.1, 0.01] }],
    });
    expect(withTrace.map((p) => basename(p))).toContain('convergence.png');
    expect(decodePng(withTrace.at(-1)!).colours).toBeGreaterThan(10);
  });

  it('rejects an empty list of results', async () => {
    await expect(writeEvaluationReport(join(dir, 'none'), { title: 't', results: [] })).rejects.toThrow(
      /at least one result/,
    );
  });
});
