import { describe, expect, it } from 'vitest';
import { convergenceChart, histogramChart, sizesChart } from '../../src/report/charts.js';
import { svgToPng, vegaLiteToPng, vegaLiteToSvg } from '../../src/report/render.js';
import { twoEvaluations } from './fixtures.js';
import { decodePng } from './png.js';

describe('charts', () => {
  const { perfect, random } = twoEvaluations();

  it('overlays the histograms of several methods, in percent per bin, with axis titles', async () => {
    const spec = histogramChart([
      { label: 'perfect', stats: perfect.mirror },
      { label: 'random', stats: random.mirror },
    ]);
    const values = (spec as { data: { values: { method: string; angle: number; percent: number }[] } }).data
      .values;
    expect(values).toHaveLength(180);
    expect(values.filter((v) => v.method === 'perfect').reduce((a, v) => a + v.percent, 0)).toBeCloseTo(
      100,
      9,
    );
    expect(values[0].angle).toBe(0.5);
    const svg = await vegaLiteToSvg(spec);
    expect(svg).toContain('Angular distance between class members (°)');
    expect(svg).toContain('Pairs per 1° bin (%)');
    expect(svg).toContain('random');
  });

  it('renders sorted sizes and convergence (σ = 0 left off the log scale) to PNGs that decode', async () => {
    const sizes = sizesChart([{ label: 'a', sizes: [5, 1, 3] }]);
    const ranks = (sizes as { data: { values: { size: number }[] } }).data.values.map((v) => v.size);
    expect(ranks).toEqual([1, 3, 5]);
    const conv = convergenceChart([{ label: 'a', sigma: [0.5, 0.1, 0] }]);
    expect((conv as { data: { values: unknown[] } }).data.values).toHaveLength(2);
    for (const spec of [sizes, conv]) {
      const png = decodePng(await vegaLiteToPng(spec));
      expect(png.width).toBeGreaterThan(600);
      expect(png.height).toBeGreaterThan(400);
      expect(png.colours).toBeGreaterThan(10);
    }
  });

  it('renders SVG at the requested scale', () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="30" height="20"><rect width="10" height="10" fill="red"/></svg>';
    const png = decodePng(svgToPng(svg, 3));
    expect([png.width, png.height]).toEqual([90, 60]);
    expect(png.colours).toBe(2);
  });

  it('needs at least one series', () => {
    expect(() => histogramChart([])).toThrow(RangeError);
    expect(() => sizesChart([])).toThrow(RangeError);
    expect(() => convergenceChart([])).toThrow(RangeError);
  });
});
