/** Evaluations for people (a plain-text table) and for programs (plain JSON). */
import { type Evaluation } from './metrics.js';

/** A labelled evaluation. */
export interface LabelledEvaluation {
  label: string;
  evaluation: Evaluation;
}

/** `evaluation` as plain JSON data: arrays instead of typed arrays, null instead of NaN. */
export function evaluationToJson(evaluation: Evaluation): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(evaluation, (_key, value: unknown) =>
      ArrayBuffer.isView(value) ? Array.from(value as Float64Array) : value,
    ),
  ) as Record<string, unknown>;
}

const fixed = (digits: number) => (v: number | undefined) =>
  v === undefined || Number.isNaN(v) ? '—' : v.toFixed(digits);
const degrees = (v: number) => (Number.isNaN(v) ? '—' : `${v.toFixed(2)}°`);
const percent = (v: number) => (Number.isNaN(v) ? '—' : `${(100 * v).toFixed(1)} %`);

/**
 * A table with one row per measure and one column per result: medians and fractions under
 * 10°/15°/20° with a view and its mirror as one (≡) and as distinct (≠), class sizes, ARI.
 */
export function formatEvaluationTable(results: readonly LabelledEvaluation[]): string {
  const measures: [string, (e: Evaluation) => string][] = [
    ['images', (e) => String(e.n)],
    ['classes', (e) => String(e.k)],
    ['within-class pairs', (e) => String(e.pairs) + (e.sampledClasses > 0 ? ' (sampled)' : '')],
    ['median angle, view ≡ mirror', (e) => degrees(e.mirror.median)],
    ['  pairs < 10°', (e) => percent(e.mirror.fractionUnder[10])],
    ['  pairs < 15°', (e) => percent(e.mirror.fractionUnder[15])],
    ['  pairs < 20°', (e) => percent(e.mirror.fractionUnder[20])],
    ['median angle, view ≠ mirror', (e) => degrees(e.direct.median)],
    ['  pairs < 10°', (e) => percent(e.direct.fractionUnder[10])],
    ['  pairs < 15°', (e) => percent(e.direct.fractionUnder[15])],
    ['  pairs < 20°', (e) => percent(e.direct.fractionUnder[20])],
    ['class sizes min / median / max', (e) => sizeSummary(e.sizes)],
    ['class-size CV', (e) => fixed(3)(e.sizeCv)],
    ['classes with 0 members', (e) => String(e.emptyClasses)],
    ['classes with 1 member', (e) => String(e.singletonClasses)],
    ['adjusted Rand index (views)', (e) => fixed(3)(e.ari)],
  ];
  const header = ['', ...results.map((r) => r.label)];
  const rows = measures.map(([name, f]) => [name, ...results.map((r) => f(r.evaluation))]);
  const widths = header.map((_, c) => Math.max(...[header, ...rows].map((row) => row[c].length)));
  const line = (row: string[]) =>
    row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n') + '\n';
}

function sizeSummary(sorted: Int32Array): string {
  if (sorted.length === 0) return '—';
  const m = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
  return `${sorted[0]} / ${median} / ${sorted[sorted.length - 1]}`;
}
