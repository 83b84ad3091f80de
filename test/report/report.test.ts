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

/** The data URIs of report.html decode to the PNG files written beside it. */
function expectSelfContained(htmlPath: string, pngPaths: string[]) {
  const html = readFileSync(htmlPath, 'utf8');
  expect(html).not.toMatch(/<script|https?:\/\/|<link/);
  const uris = [...html.matchAll(/src="data:image\/png;base64,([^"]+)"/g)].map((m) =>
    Buffer.from(m[1], 'base64'),
  );
  expect(uris).toHaveLength(pngPaths.length);
  for (const p of pngPaths) expect(uris.some((u) => u.equals(readFileSync(p)))).toBe(true);
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
    expect(readdirSync(out).filter((f) => f.includes('.tmp'))).toEqual([]);
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
