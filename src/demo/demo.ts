/**
 * `ackmeans demo`: the whole story on one machine in a couple of minutes — the built-in phantom,
 * simulated projections at a low SNR, ACK-means and K-means (MRA) on them, both evaluated
 * against the true angles, one report overlaying them.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { checkInt, checkNumber } from '../errors.js';
import { evaluationToJson } from '../eval/format.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { type Evaluation } from '../eval/metrics.js';
import { evaluateOracleFile } from '../eval/oracle.js';
import { simulate } from '../sim/simulate.js';
import { DEMO_DEFAULTS } from './defaults.js';
import {
  classifyAndEvaluate,
  type EvaluatedRun,
  formatSummary,
  type SummaryRow,
  summaryRow,
} from './experiment.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Output folder (default `./ackmeans-demo`). */
  out?: string;
  /** Number of simulated images (default 2,000). */
  n?: number;
  /** Number of classes, also the number of true views (default 20). */
  k?: number;
  /** Signal-to-noise ratio of the images (default 0.1). */
  snr?: number;
  /** Seed of the simulation and of both classifications (default 1). */
  seed?: number;
  /** Worker threads (default: all cores; the results do not depend on it). */
  threads?: number;
  /** Iteration cap of each classification (default 20). */
  maxIter?: number;
  signal?: AbortSignal;
  /** Progress lines for a person. */
  log?: (line: string) => void;
}

/** What {@link runDemo} did. */
export interface DemoResult {
  /** The output folder (absolute). */
  outDir: string;
  /** The simulated particle set (RELION 3.1 STAR with the true angles). */
  particles: string;
  /** ACK-means then K-means. */
  runs: EvaluatedRun[];
  /** The key numbers of both runs, in the same order, then the oracle's. */
  rows: SummaryRow[];
  /** The oracle: k-means on the true directions, the best classes possible (see oracle.ts). */
  oracle: Evaluation;
  /** {@link formatSummary} of `rows`, then what the paper claims against what was measured. */
  table: string;
  /** report.html and its figures, then summary.json. */
  files: string[];
  /** Wall time of the simulation, seconds. */
  simulateSeconds: number;
}

export { DEMO_DEFAULTS };

/**
 * Runs the demo into `out`: `data/particles.{mrcs,star}` (phantom projections about k centre
 * directions, CTF, noise at `snr`), `ack/` and `kmeans/` (the two classifications, MRA pipeline,
 * same seed), and `report.html` (overlaid angular histograms, sorted class sizes, convergence)
 * with `summary.json` (both evaluations); the report shows both runs' class averages and links their reports.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const o = { ...DEMO_DEFAULTS, ...options };
  const n = checkInt('n', o.n, 10, 1e6);
  const k = checkInt('k', o.k, 2, Math.floor(n / 2));
  const snr = checkNumber('snr', o.snr, 1e-6, Infinity);
  const seed = checkInt('seed', o.seed, 0, 2 ** 31 - 1);
  const maxIter = checkInt('maxIter', o.maxIter, 1, 1000);
  const log = o.log ?? (() => {});
  const outDir = resolve(o.out);
  await mkdir(outDir, { recursive: true });

  log(`simulating ${n} projections of the phantom about ${k} views at SNR ${snr}…`);
  const t0 = performance.now();
  const sim = await simulate(
    { n, views: k, snr, seed, threads: o.threads, signal: o.signal },
    join(outDir, 'data'),
  );
  const simulateSeconds = (performance.now() - t0) / 1000;
  log(`simulated in ${simulateSeconds.toFixed(1)} s`);

  const runs: EvaluatedRun[] = [];
  for (const [label, method] of [
    ['ACK-means', 'ack'],
    ['K-means', 'kmeans'],
  ] as const) {
    const params = { k, method, pipeline: 'mra', seed, maxIter, threads: o.threads } as const;
    const run = await classifyAndEvaluate(sim.star, join(outDir, method), label, params, {
      signal: o.signal,
      log,
    });
    log(
      `${label}: ${run.iterations} iterations${run.converged ? '' : ' (cap)'} in ${run.seconds.toFixed(1)} s`,
    );
    runs.push(run);
  }

  const oracle = await evaluateOracleFile(sim.star, k, { seed });
  const rows = [
    ...runs.map((r) => summaryRow(r.label, r.evaluation, r.seconds)),
    summaryRow('oracle', oracle, NaN),
  ];
  // loaded here, not at the top: the report pulls in vega (start-up time, issue 11)
  const { writeEvaluationReport } = await import('../report/report.js');
  const files = await writeEvaluationReport(outDir, {
    results: runs,
    montages: await Promise.all(
      runs.map(async (r) => ({
        label: r.label,
        png: await readFile(join(r.outDir, 'class_averages.png')),
        report: `${relative(outDir, r.outDir)}/report.html`,
      })),
    ),
    title: `ackmeans demo: ${n} images, ${k} classes, SNR ${snr}`,
  });
  const summary = join(outDir, 'summary.json');
  await writeFileAtomic(
    summary,
    JSON.stringify(
      {
        n,
        k,
        snr,
        seed,
        maxIter,
        simulateSeconds,
        oracle: evaluationToJson(oracle),
        runs: runs.map((r) => ({
          label: r.label,
          seconds: r.seconds,
          iterations: r.iterations,
          converged: r.converged,
          outDir: r.outDir,
          evaluation: evaluationToJson(r.evaluation),
        })),
      },
      null,
      2,
    ) + '\n',
  );
  return {
    outDir,
    particles: sim.star,
    runs,
    rows,
    oracle,
    table: formatSummary(rows) + '\n' + claims(rows[0], rows[1], rows[2]),
    files: [...files, summary],
    simulateSeconds,
  };
}

/**
 * What the paper claims and what this run measured, one line each: accuracy against the oracle,
 * ACK-means against K-means on accuracy (median angle, ARI) and balance (size CV, classes ≤ 1).
 */
export function claims(ack: SummaryRow, km: SummaryRow, oracle: SummaryRow): string {
  const verdict = (ok: boolean) => (ok ? 'yes' : 'NO');
  const f = (x: number) => x.toFixed(1);
  return (
    [
      'paper: ACK-means is more accurate than K-means, and balanced. measured:',
      `  accuracy vs the oracle: ACK ${f(ack.median)}° = ${(ack.median / oracle.median).toFixed(2)}× the oracle's ${f(oracle.median)}°, K-means ${(km.median / oracle.median).toFixed(2)}×`,
      `  ACK ahead of K-means on median angle: ${verdict(ack.median < km.median)} (${f(ack.median)}° vs ${f(km.median)}°); on ARI: ${verdict(ack.ari > km.ari)} (${ack.ari.toFixed(3)} vs ${km.ari.toFixed(3)})`,
      `  balance: size CV ${ack.sizeCv.toFixed(3)} vs ${km.sizeCv.toFixed(3)}; classes with ≤ 1 member ${ack.tiny} vs ${km.tiny}`,
    ].join('\n') + '\n'
  );
}
