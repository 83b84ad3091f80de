/**
 * The report writers: PNG figures and a self-contained report.html beside the outputs of
 * `classify` and `evaluate`. Every file is written atomically (temporary name, then rename).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Evaluation } from '../eval/metrics.js';
import { sizeStats } from '../eval/sizes.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { convergenceChart, histogramChart, type SigmaSeries, sizesChart } from './charts.js';
import { type ClassDetail, GALLERY_CSS, galleryHtml } from './gallery.js';
import { type Cell, escapeHtml, figure, paragraph, reportHtml, type Section, table } from './html.js';
import { montagePng } from './montage.js';
import { vegaLiteToPng } from './render.js';

/**
 * One iteration of a classification run: σ, and optionally its number, its time and other
 * numbers (d_c, J…) — the clustering driver's `IterationRecord` fits as it is.
 */
export interface TraceRecord {
  /** Fraction of images whose class changed in this iteration. */
  sigma: number;
  /** Iteration number (0 for the initial assignment); default: 1, 2, … in order. */
  iteration?: number;
  /** Wall time of the iteration, seconds. */
  seconds?: number;
  /** Scale engine: particle-visits per particle so far (images aligned over n). */
  visits?: number;
}

/** A run's convergence: one record per iteration, or just the σ values of iterations 1, 2, …. */
export type Trace = readonly TraceRecord[] | readonly number[];

/** What {@link writeClassifyReport} shows. */
export interface ClassifyReport {
  /** k·box·box values, class j's average at offset j·box². */
  classAverages: Float32Array;
  /** Side of an image, pixels. */
  box: number;
  /** Members per class (k values). */
  sizes: Int32Array;
  /** Convergence, iteration by iteration. */
  trace: Trace;
  /** Title of the report. */
  title: string;
  /** The parameters of the run (shown as a table). */
  params: Record<string, unknown>;
  /** A resolution estimate of the class averages in Å, shown in the summary when given. */
  resolution?: number;
  /**
   * Wall time of the whole run in seconds (the figure the CLI prints), shown as the total time;
   * without it the summary shows the clustering time (the sum of the trace's iteration times).
   */
  seconds?: number;
  /**
   * Per class (k entries): score, decision and reasons, features, resolution, FRC and a few
   * members; the gallery then sorts by score, marks rejected classes and shows each class's
   * figures on click.
   */
  classes?: readonly ClassDetail[];
  /** Pixel size of the class averages in Å (the FRC curves' axis). */
  pixelSize?: number;
  /** How the run ended ("converged", "stopped at the iteration cap", …), shown in the summary. */
  ending?: string;
}

/** One result in an evaluation report. */
export interface EvaluationResult {
  label: string;
  evaluation: Evaluation;
  /** Convergence of the run that produced it, when known. */
  trace?: Trace;
}

/** A run's class-average montage for an evaluation report. */
export interface MontageFigure {
  label: string;
  /** The montage PNG (a run's class_averages.png). */
  png: Uint8Array;
  /** Relative path of the run's own report.html (linked under the montage). */
  report?: string;
}

/** What {@link writeEvaluationReport} shows. */
export interface EvaluationReport {
  results: readonly EvaluationResult[];
  title: string;
  /** Class averages of the runs, shown after the summary. */
  montages?: readonly MontageFigure[];
}

/** The iteration number of each record of a trace. */
function iterationsOf(trace: Trace): number[] {
  return trace.map((r, i) => (typeof r === 'number' || r.iteration === undefined ? i + 1 : r.iteration));
}

/** A trace as a chart series. */
function series(label: string, trace: Trace): SigmaSeries {
  return {
    label,
    iterations: iterationsOf(trace),
    sigma: trace.map((r) => (typeof r === 'number' ? r : r.sigma)),
  };
}

/**
 * Writes `report.html`, `class_averages.png`, `class_sizes.png` and `convergence.png` into
 * `outDir` (created if needed).
 * @returns the paths written, report.html first.
 */
export async function writeClassifyReport(outDir: string, report: ClassifyReport): Promise<string[]> {
  const { classAverages, box, sizes, trace, title, params } = report;
  if (!(sizes instanceof Int32Array)) throw new TypeError('sizes must be an Int32Array');
  const convergence = series(title, trace);
  const sigma = convergence.sigma;
  const montage = montagePng(classAverages, box, sizes);
  const sizesPng = await vegaLiteToPng(sizesChart([{ label: title, sizes }]));
  const convergencePng = await vegaLiteToPng(convergenceChart([convergence]));
  const stats = sizeStats(sizes);
  const n = sizes.reduce((a, s) => a + s, 0);
  const seconds = report.seconds ?? secondsOf(trace);
  const summary: [string, Cell][] = [
    ['images', n],
    ['classes', sizes.length],
    ['iterations', iterationsOf(trace).filter((i) => i > 0).length],
    ...(report.ending === undefined ? [] : [['ended', report.ending] as [string, Cell]]),
    ['final σ', sigma.at(-1)],
    [report.seconds !== undefined ? 'total time (s)' : 'clustering time (s)', seconds],
    ['class-size CV', stats.sizeCv],
    ['smallest / largest class', `${stats.sizes[0]} / ${stats.sizes.at(-1)}`],
    ['empty classes', stats.emptyClasses],
    ['single-member classes', stats.singletonClasses],
  ];
  const last = trace.at(-1);
  if (typeof last === 'object' && last.visits !== undefined)
    summary.push(['particle-visits per particle', last.visits]);
  if (report.resolution !== undefined) summary.push(['best class resolution (Å)', report.resolution]);
  if (report.classes) {
    const kept = report.classes.filter((c) => c.accepted);
    let particles = 0;
    report.classes.forEach((c, j) => (particles += c.accepted ? sizes[j] : 0));
    summary.push([
      'classes accepted by their score',
      `${kept.length} of ${sizes.length} (${particles} particles)`,
    ]);
  }
  const gallery = galleryHtml(classAverages, box, sizes, report.classes, {
    ...(report.pixelSize !== undefined ? { pixelSize: report.pixelSize } : {}),
  });
  const sections: Section[] = [
    { heading: 'Class averages', body: gallery },
    { heading: 'Summary', body: table(['quantity', 'value'], summary) },
    { heading: 'Class sizes', body: figure(sizesPng, 'Class sizes sorted ascending; flat is balanced.') },
    {
      heading: 'Convergence',
      body:
        figure(convergencePng, 'σ, the fraction of images whose class changed, per iteration.') +
        iterationTable(trace),
    },
    {
      heading: 'Parameters',
      body: table(
        ['parameter', 'value'],
        Object.entries(params).map(([key, v]) => [
          key,
          typeof v === 'number' || typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v)),
        ]),
      ),
    },
  ];
  return writeAll(outDir, title, sections, [
    ['class_averages.png', montage],
    ['class_sizes.png', sizesPng],
    ['convergence.png', convergencePng],
  ]);
}

/**
 * Writes `report.html`, `angular_histogram.png` (a view and its mirror as one),
 * `angular_histogram_direct.png`, `class_sizes.png`, and `convergence.png` when a result has a
 * trace, into `outDir` (created if needed). Several results are overlaid on each chart.
 * @returns the paths written, report.html first.
 */
export async function writeEvaluationReport(outDir: string, report: EvaluationReport): Promise<string[]> {
  const { results, title } = report;
  if (!Array.isArray(results) || results.length === 0)
    throw new RangeError('results must list at least one result');
  const mirrorPng = await vegaLiteToPng(
    histogramChart(results.map((r) => ({ label: r.label, stats: r.evaluation.mirror }))),
  );
  const directPng = await vegaLiteToPng(
    histogramChart(results.map((r) => ({ label: r.label, stats: r.evaluation.direct }))),
  );
  const sizesPng = await vegaLiteToPng(
    sizesChart(results.map((r) => ({ label: r.label, sizes: r.evaluation.sizes }))),
  );
  const traced = results.filter((r) => r.trace !== undefined && r.trace.length > 0);
  const files: [string, Buffer][] = [
    ['angular_histogram.png', mirrorPng],
    ['angular_histogram_direct.png', directPng],
    ['class_sizes.png', sizesPng],
  ];
  const sections: Section[] = [{ heading: 'Summary', body: evaluationTable(results) }];
  if (report.montages?.length)
    sections.push({
      heading: 'Class averages',
      body: report.montages
        .map(
          (m) =>
            figure(m.png, `${m.label}: class averages (class number top left, members bottom right).`) +
            (m.report
              ? `<p><a href="${escapeHtml(m.report)}">${escapeHtml(m.label)}: the run's report (scores, FRC curves, members)</a></p>`
              : ''),
        )
        .join('\n'),
    });
  sections.push(
    {
      heading: 'Within-class angular distances',
      body:
        figure(
          mirrorPng,
          'A view and its mirror counted as one: arccos(|v1·v2|). Sharper and further left is better.',
        ) + figure(directPng, 'A view and its mirror distinct: arccos(v1·v2).'),
    },
    { heading: 'Class sizes', body: figure(sizesPng, 'Class sizes sorted ascending; flat is balanced.') },
  );
  if (traced.length > 0) {
    const png = await vegaLiteToPng(convergenceChart(traced.map((r) => series(r.label, r.trace!))));
    files.push(['convergence.png', png]);
    sections.push({
      heading: 'Convergence',
      body: figure(png, 'σ, the fraction of images whose class changed, per iteration.'),
    });
  }
  const sampled = results.filter((r) => r.evaluation.sampledClasses > 0);
  if (sampled.length > 0)
    sections.push({
      heading: 'Notes',
      body: paragraph(
        `Pairs were sampled (seeded) in the largest classes of: ${sampled.map((r) => r.label).join(', ')}; each sampled pair is weighted so its class keeps its full share.`,
      ),
    });
  return writeAll(outDir, title, sections, files);
}

/** The summary table of several evaluations (one row per result). */
export function evaluationTable(results: readonly EvaluationResult[]): string {
  const header = [
    'result',
    'images',
    'classes',
    'median (°) mirror ≡',
    '<10°',
    '<15°',
    '<20°',
    'median (°) direct',
    'size CV',
    'empty',
    '1 member',
    'ARI',
  ];
  const pct = (f: number) => (Number.isNaN(f) ? undefined : `${(100 * f).toFixed(1)} %`);
  const rows = results.map(({ label, evaluation: e }) => [
    label,
    e.n,
    e.k,
    e.mirror.median,
    pct(e.mirror.fractionUnder[10]),
    pct(e.mirror.fractionUnder[15]),
    pct(e.mirror.fractionUnder[20]),
    e.direct.median,
    e.sizeCv,
    e.emptyClasses,
    e.singletonClasses,
    e.ari,
  ]);
  return table(header, rows);
}

function secondsOf(trace: Trace): number | undefined {
  let total = 0;
  for (const r of trace) {
    if (typeof r === 'number' || typeof r.seconds !== 'number') return undefined;
    total += r.seconds;
  }
  return trace.length > 0 ? total : undefined;
}

/**
 * Iteration-by-iteration table: σ and every other number, text or set flag the records carry
 * (e.g. the scale engine's stage, and `kept` on the passes that aligned only to kept classes).
 */
function iterationTable(trace: Trace): string {
  const keys = ['sigma'];
  const fields = (r: TraceRecord | number) => (typeof r === 'number' ? { sigma: r } : (r as object));
  // a flag gets a column when some record sets it
  const shown = (v: unknown): boolean => typeof v === 'number' || typeof v === 'string' || v === true;
  for (const r of trace)
    for (const [key, v] of Object.entries(fields(r)))
      if (shown(v) && key !== 'iteration' && !keys.includes(key)) keys.push(key);
  const iterations = iterationsOf(trace);
  const cell = (v: unknown): Cell =>
    typeof v === 'number' || typeof v === 'string' ? v : v === true ? 'yes' : undefined;
  const rows = trace.map((r, i) => {
    const f = fields(r) as Record<string, unknown>;
    return [iterations[i], ...keys.map((key) => cell(f[key]))];
  });
  return table(['iteration', ...keys.map((key) => (key === 'sigma' ? 'σ' : key))], rows);
}

async function writeAll(
  outDir: string,
  title: string,
  sections: Section[],
  files: [string, Buffer][],
): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const written: string[] = [];
  for (const [name, data] of files) {
    const path = join(outDir, name);
    await writeFileAtomic(path, data);
    written.push(path);
  }
  const html = join(outDir, 'report.html');
  await writeFileAtomic(
    html,
    reportHtml(title, `Generated by ackmeans on ${new Date().toISOString()}`, sections, GALLERY_CSS),
  );
  return [html, ...written];
}
