/**
 * The report's charts as vega-lite specifications (rendered by render.ts): the within-class
 * angular-distance histograms of several methods overlaid (the paper's Fig. 1 A/C/E), the sorted
 * class sizes (Fig. 1 B/D/F) and the convergence curves, σ per iteration (Fig. 2).
 */
import type { TopLevelSpec } from 'vega-lite';
import type { AngularStats } from '../eval/histogram.js';
import { FONT_FAMILY } from './render.js';

/** One method's within-class angular-distance statistics. */
export interface HistogramSeries {
  label: string;
  stats: AngularStats;
}

/** One method's class sizes (any order; they are sorted ascending). */
export interface SizeSeries {
  label: string;
  sizes: ArrayLike<number>;
}

/** One method's convergence: σ (fraction of images that changed class) per iteration. */
export interface SigmaSeries {
  label: string;
  sigma: readonly number[];
  /** The iteration number of each σ (default 1, 2, …). */
  iterations?: readonly number[];
}

const WIDTH = 460;

/** Colour by method, with a legend only when there is more than one. */
function colour(count: number) {
  return { field: 'method', type: 'nominal', title: null, sort: null, legend: count > 1 ? {} : null };
}
const HEIGHT = 280;

/**
 * Common look: paper-like fonts, light grid, the legend inside the frame in the corner the data
 * leave empty. Titles stay short: vega estimates text widths without a canvas, generously.
 */
function base(title: string, subtitle: string, legend: 'top-right' | 'top-left'): Partial<TopLevelSpec> {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: WIDTH,
    height: HEIGHT,
    background: 'white',
    padding: 12,
    title: { text: title, subtitle, anchor: 'start', fontSize: 15, subtitleFontSize: 11, offset: 10 },
    config: {
      font: FONT_FAMILY,
      view: { stroke: '#888' },
      axis: {
        labelFontSize: 11,
        titleFontSize: 12,
        titleFontWeight: 'normal',
        grid: true,
        gridColor: '#eee',
      },
      legend: {
        labelFontSize: 11,
        titleFontSize: 11,
        orient: legend,
        fillColor: 'rgba(255,255,255,0.85)',
        padding: 6,
      },
      range: { category: { scheme: 'tableau10' } },
    },
  } as Partial<TopLevelSpec>;
}

/**
 * Overlaid histograms of within-class angular distances, as the percentage of pairs per bin
 * (sharper and further left is better).
 */
export function histogramChart(series: readonly HistogramSeries[], title?: string): TopLevelSpec {
  if (series.length === 0) throw new RangeError('histogramChart needs at least one series');
  const { binWidth, maxAngle } = series[0].stats;
  const mirror = maxAngle === 90;
  const values = series.flatMap(({ label, stats }) =>
    Array.from(stats.histogram, (f, b) => ({
      method: label,
      angle: (b + 0.5) * stats.binWidth,
      percent: 100 * f,
    })),
  );
  return {
    ...base(
      title ?? 'Within-class angular distances',
      `${mirror ? 'view ≡ mirror' : 'view ≠ mirror'}; all member pairs; ${binWidth}° bins`,
      'top-right',
    ),
    data: { values },
    mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.6 },
    encoding: {
      x: {
        field: 'angle',
        type: 'quantitative',
        title: 'Angular distance between class members (°)',
        scale: { domain: [0, maxAngle], nice: false },
        axis: { values: Array.from({ length: maxAngle / 10 + 1 }, (_, i) => 10 * i) },
      },
      y: { field: 'percent', type: 'quantitative', title: `Pairs per ${binWidth}° bin (%)` },
      color: colour(series.length),
    },
  } as TopLevelSpec;
}

/** Class sizes sorted ascending against their rank (flat is balanced). */
export function sizesChart(series: readonly SizeSeries[], title = 'Class sizes, sorted'): TopLevelSpec {
  if (series.length === 0) throw new RangeError('sizesChart needs at least one series');
  const values = series.flatMap(({ label, sizes }) =>
    Array.from(sizes)
      .sort((a, b) => a - b)
      .map((size, i) => ({ method: label, rank: i + 1, size })),
  );
  return {
    ...base(title, 'flat is balanced', 'top-left'),
    data: { values },
    mark: { type: 'line', point: { size: 14 }, strokeWidth: 1.4 },
    encoding: {
      x: {
        field: 'rank',
        type: 'quantitative',
        title: 'Class rank (by size)',
        scale: { domain: [1, Math.max(2, ...series.map((s) => s.sizes.length))], nice: false },
        axis: { tickMinStep: 1 },
      },
      y: { field: 'size', type: 'quantitative', title: 'Number of images in class' },
      color: colour(series.length),
    },
  } as TopLevelSpec;
}

/**
 * σ, the fraction of images whose class changed, per iteration, on a log scale (convergence is
 * exponential). Iterations with σ = 0 cannot be drawn on a log scale and are left out.
 */
export function convergenceChart(series: readonly SigmaSeries[], title = 'Convergence'): TopLevelSpec {
  if (series.length === 0) throw new RangeError('convergenceChart needs at least one series');
  const values = series.flatMap(({ label, sigma, iterations }) =>
    sigma.flatMap((s, i) =>
      s > 0 ? [{ method: label, iteration: iterations?.[i] ?? i + 1, sigma: s }] : [],
    ),
  );
  return {
    ...base(title, 'fraction of images whose class changed', 'top-right'),
    data: { values },
    mark: { type: 'line', point: { size: 20 }, strokeWidth: 1.6 },
    encoding: {
      x: { field: 'iteration', type: 'quantitative', title: 'Iteration', axis: { tickMinStep: 1 } },
      y: { field: 'sigma', type: 'quantitative', title: 'σ (fraction changed)', scale: { type: 'log' } },
      color: colour(series.length),
    },
  } as TopLevelSpec;
}
