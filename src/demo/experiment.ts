/**
 * One classification of a simulated set, evaluated against its true angles — the building block
 * of `ackmeans demo`, `scripts/compare-relion` and `scripts/reproduce-paper` — and the compact
 * side-by-side table they print.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { evaluateFiles } from '../eval/evaluate.js';
import { type Evaluation } from '../eval/metrics.js';
import { type ClassifyParams, type ClassifyProgress, runClassification } from '../pipeline/run.js';
import { type EvaluationResult, type TraceRecord } from '../report/report.js';

/** A classification run, evaluated. */
export interface EvaluatedRun extends EvaluationResult {
  /** Wall time of the run, seconds. */
  seconds: number;
  /** Clustering iterations after the initial assignment. */
  iterations: number;
  /** False when the run stopped at its iteration cap. */
  converged: boolean;
  /** The run's output folder. */
  outDir: string;
}

/** Hooks of {@link classifyAndEvaluate}. */
export interface ExperimentHooks {
  signal?: AbortSignal;
  /** Progress lines for a person (a few per run). */
  log?: (line: string) => void;
}

/** Reports progress at most once per tenth of a run, prefixed with `label`. */
export function progressLogger(label: string, log: (line: string) => void): (p: ClassifyProgress) => void {
  let lastTenth = -1;
  return (p) => {
    const tenth = Math.floor(p.fraction * 10);
    if (tenth === lastTenth) return;
    lastTenth = tenth;
    const sigma = p.sigma === undefined ? '' : `, σ ${p.sigma.toFixed(3)}`;
    log(`${label}: ${(100 * p.fraction).toFixed(0)}% (${p.stage}, iteration ${p.iteration}${sigma})`);
  };
}

/** The main-phase trace of a run, from its report.json. */
async function readTrace(outDir: string): Promise<TraceRecord[]> {
  const report = JSON.parse(await readFile(join(outDir, 'report.json'), 'utf8')) as {
    trace?: { sigma: number; iteration?: number; seconds?: number; phase?: string }[];
  };
  const rows = report.trace ?? [];
  const phase = rows.at(-1)?.phase;
  return rows
    .filter((r) => r.phase === phase)
    .map(({ sigma, iteration, seconds }) => ({ sigma, iteration, seconds }));
}

/**
 * Classifies the simulated set `truthStar` into `outDir` with `params` and evaluates the result
 * against the true angles in `truthStar` (see {@link evaluateFiles}).
 */
export async function classifyAndEvaluate(
  truthStar: string,
  outDir: string,
  label: string,
  params: ClassifyParams,
  hooks: ExperimentHooks = {},
): Promise<EvaluatedRun> {
  const log = hooks.log ?? (() => {});
  const summary = await runClassification(truthStar, outDir, params, {
    signal: hooks.signal,
    onProgress: progressLogger(label, log),
  });
  const evaluation = await evaluateFiles(truthStar, join(outDir, 'run_data.star'), { classes: params.k });
  return {
    label,
    evaluation,
    trace: await readTrace(outDir),
    seconds: summary.seconds,
    iterations: summary.iterations,
    converged: summary.converged,
    outDir,
  };
}

/** The key numbers of one result, as in the paper's comparison. */
export interface SummaryRow {
  label: string;
  /** Median within-class angle, a view and its mirror as one, degrees. */
  median: number;
  /** Fraction of within-class pairs under 15° (mirror-equivalent). */
  under15: number;
  /** Coefficient of variation of the class sizes. */
  sizeCv: number;
  /** Classes with at most one member. */
  tiny: number;
  /** Adjusted Rand index against the true views (NaN when the truth has no view ids). */
  ari: number;
  /** Wall time, seconds (NaN for the oracle). */
  seconds: number;
}

/** The key numbers of an evaluation that took `seconds`. */
export function summaryRow(label: string, evaluation: Evaluation, seconds: number): SummaryRow {
  return {
    label,
    median: evaluation.mirror.median,
    under15: evaluation.mirror.fractionUnder[15],
    sizeCv: evaluation.sizeCv,
    tiny: evaluation.emptyClasses + evaluation.singletonClasses,
    ari: evaluation.ari ?? NaN,
    seconds,
  };
}

/** The measures of {@link formatSummary}, in order: name and formatter. */
export const SUMMARY_MEASURES: readonly [string, (r: SummaryRow) => string][] = [
  ['median angle (°, mirror ≡ view)', (r) => r.median.toFixed(2)],
  ['pairs under 15° (%)', (r) => (100 * r.under15).toFixed(1)],
  ['class-size CV', (r) => r.sizeCv.toFixed(3)],
  ['classes with ≤ 1 member', (r) => String(r.tiny)],
  ['ARI against the true views', (r) => (Number.isNaN(r.ari) ? '–' : r.ari.toFixed(3))],
  ['time (s)', (r) => (Number.isNaN(r.seconds) ? '–' : r.seconds.toFixed(1))],
];

/** A plain-text table: one row per measure, one column per result (the numbers side by side). */
export function formatSummary(rows: readonly SummaryRow[]): string {
  const header = ['', ...rows.map((r) => r.label)];
  const body = SUMMARY_MEASURES.map(([name, f]) => [name, ...rows.map(f)]);
  const widths = header.map((_, c) => Math.max(...[header, ...body].map((row) => row[c].length)));
  const line = (row: string[]) =>
    row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map(line)].join('\n') + '\n';
}
