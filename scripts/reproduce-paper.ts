/**
 * `scripts/reproduce-paper`: the simulated benchmark of Xu et al. (PLoS ONE 2016) on the 70S
 * ribosome — SNR × pipeline × method — with a results table (results.csv, results.md) and one
 * paper-style evaluation report (angular histograms, sorted class sizes, convergence) per SNR
 * and pipeline.
 *
 *   scripts/reproduce-paper [--small] [--map FILE] [--snr 1/3,1/10,1/30]
 *                           [--pipelines mra,msa,rfa] [--methods kmeans,spider,eqk,ack] [--out DIR]
 */
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseIntOption, parseNumberOption } from '../src/cli/common.js';
import {
  classifyAndEvaluate,
  type EvaluatedRun,
  summaryRow,
  type SummaryRow,
} from '../src/demo/experiment.js';
import { AckmeansError } from '../src/errors.js';
import { writeFileAtomic } from '../src/io/atomic-write.js';
import { writeEvaluationReport } from '../src/report/report.js';
import { simulate } from '../src/sim/simulate.js';
import { formatSnr, isMain, parseChoices, parseOptions, parseSnrList, runScript } from './lib/cli.js';

export const PAPER_PIPELINES = ['mra', 'msa', 'rfa'] as const;
export const PAPER_METHODS = ['kmeans', 'spider', 'eqk', 'ack'] as const;
type Pipeline = (typeof PAPER_PIPELINES)[number];
type Method = (typeof PAPER_METHODS)[number];

/** Names in the paper's figures. */
const METHOD_LABELS: Record<Method, string> = {
  kmeans: 'K-means',
  spider: 'SPIDER K-means',
  eqk: 'EQK-means',
  ack: 'ACK-means',
};
const PIPELINE_LABELS: Record<Pipeline, string> = { mra: 'MRA', msa: 'MRA/MSA', rfa: 'RFA' };

/** The paper's map, in the shared data folder beside the repository. */
export const DEFAULT_MAP = fileURLToPath(
  new URL('../../shared/data/maps/ribosome70s_65px.mrc', import.meta.url),
);

/** Options of {@link reproducePaper}. */
export interface ReproduceOptions {
  small: boolean;
  map: string;
  pixelSize: number;
  snr: number[];
  pipelines: Pipeline[];
  methods: Method[];
  n: number;
  k: number;
  maxIter: number;
  seed: number;
  threads?: number;
  out: string;
}

/** The command line of the script (options only). */
export function reproduceCommand(): Command {
  return new Command('reproduce-paper')
    .description(
      "the ACK-means paper's simulated benchmark: 70S ribosome projections at several SNRs, classified by every pipeline and method; writes results.csv, results.md and a report per SNR and pipeline",
    )
    .option('--small', 'the small preset: 2,000 images and 20 classes (instead of 10,000 and 100)', false)
    .option('--map <file>', 'MRC map to project', DEFAULT_MAP)
    .option(
      '--pixel-size <A>',
      'pixel size of the map in Å (the ribosome map has none)',
      parseNumberOption('--pixel-size'),
      5,
    )
    .option('--snr <list>', 'comma-separated SNRs', parseSnrList, [1 / 3, 1 / 10, 1 / 30])
    .option(
      '--pipelines <list>',
      'comma-separated: mra, msa, rfa',
      parseChoices('--pipelines', PAPER_PIPELINES),
      [...PAPER_PIPELINES],
    )
    .option(
      '--methods <list>',
      'comma-separated: kmeans, spider, eqk, ack',
      parseChoices('--methods', PAPER_METHODS),
      [...PAPER_METHODS],
    )
    .option('--n <count>', 'number of images (default 10,000; 2,000 with --small)', parseIntOption('--n'))
    .option(
      '--k <count>',
      'number of classes and of true views (default 100; 20 with --small)',
      parseIntOption('--k'),
    )
    .option('--max-iter <count>', 'iteration cap of every classification', parseIntOption('--max-iter'), 30)
    .option('--seed <int>', 'seed of the simulations and classifications', parseIntOption('--seed'), 1)
    .option('--threads <count>', 'worker threads (default: all cores)', parseIntOption('--threads'))
    .option('--out <dir>', 'output folder', 'reproduce-paper-out');
}

/** Parses the script's arguments (applying the --small preset). @throws CommanderError on a usage error. */
export function parseReproduceArgs(argv: readonly string[]): ReproduceOptions {
  const o = parseOptions<Omit<ReproduceOptions, 'n' | 'k'> & { n?: number; k?: number }>(
    reproduceCommand(),
    argv,
  );
  const n = o.n ?? (o.small ? 2000 : 10000);
  const k = o.k ?? (o.small ? 20 : 100);
  if (n < 10 || k < 2 || k > n / 2 || o.maxIter < 1 || !(o.seed >= 0) || !(o.pixelSize > 0))
    throw new RangeError('need --n ≥ 10, 2 ≤ --k ≤ n/2, --max-iter ≥ 1, --seed ≥ 0, --pixel-size > 0');
  return { ...o, n, k };
}

/** One cell of the grid. */
export interface GridRow extends SummaryRow {
  snr: number;
  pipeline: Pipeline;
  method: Method;
  iterations: number;
  converged: boolean;
}

const CSV_HEADER = 'snr,pipeline,method,median_deg,under15,size_cv,classes_le1,seconds,iterations,converged';

/** The rows as CSV (one line per run). */
export function gridCsv(rows: readonly GridRow[]): string {
  const line = (r: GridRow) =>
    [formatSnr(r.snr), r.pipeline, r.method, r.median.toFixed(3), r.under15.toFixed(4), r.sizeCv.toFixed(4), r.tiny,
      r.seconds.toFixed(1), r.iterations, r.converged].join(','); // prettier-ignore
  return [CSV_HEADER, ...rows.map(line)].join('\n') + '\n';
}

/** The rows as a Markdown table, in the paper's terms. */
export function gridMarkdown(rows: readonly GridRow[]): string {
  const head =
    '| SNR | pipeline | method | median angle (°) | pairs < 15° | size CV | classes ≤ 1 | time (s) | iterations |\n' +
    '|---|---|---|---:|---:|---:|---:|---:|---:|\n';
  const line = (r: GridRow) =>
    `| ${formatSnr(r.snr)} | ${PIPELINE_LABELS[r.pipeline]} | ${METHOD_LABELS[r.method]} | ${r.median.toFixed(1)} | ` +
    `${(100 * r.under15).toFixed(1)} % | ${r.sizeCv.toFixed(3)} | ${r.tiny} | ${r.seconds.toFixed(0)} | ` +
    `${r.iterations}${r.converged ? '' : ' (cap)'} |`;
  return head + rows.map(line).join('\n') + '\n';
}

/**
 * Runs the grid into `o.out`: per SNR a simulated set (`snr-1_10/data/`), per pipeline a report
 * (`snr-1_10/mra/report.html`) over one run folder per method; results.csv and results.md are
 * rewritten after every run, so an interrupted grid keeps what it finished.
 */
export async function reproducePaper(o: ReproduceOptions, log: (line: string) => void): Promise<GridRow[]> {
  if (!existsSync(o.map))
    throw new AckmeansError('ERR_MAP_MISSING', `${o.map}: the map does not exist (give one with --map)`, {
      file: o.map,
    });
  const out = resolve(o.out);
  await mkdir(out, { recursive: true });
  const rows: GridRow[] = [];
  for (const snr of o.snr) {
    const snrDir = join(out, `snr-${formatSnr(snr).replace('/', '_')}`);
    log(`SNR ${formatSnr(snr)}: simulating ${o.n} projections about ${o.k} views…`);
    const sim = await simulate(
      { map: o.map, pixelSize: o.pixelSize, n: o.n, views: o.k, snr, seed: o.seed, threads: o.threads },
      join(snrDir, 'data'),
    );
    for (const pipeline of o.pipelines) {
      const runs: EvaluatedRun[] = [];
      for (const method of o.methods) {
        const label = `${METHOD_LABELS[method]} (${PIPELINE_LABELS[pipeline]}, SNR ${formatSnr(snr)})`;
        const params = { k: o.k, method, pipeline, seed: o.seed, maxIter: o.maxIter, threads: o.threads };
        const run = await classifyAndEvaluate(sim.star, join(snrDir, pipeline, method), label, params, {
          log,
        });
        runs.push({ ...run, label: METHOD_LABELS[method] });
        rows.push({ ...summaryRow(METHOD_LABELS[method], run.evaluation, run.seconds), snr, pipeline, method,
          iterations: run.iterations, converged: run.converged }); // prettier-ignore
        log(
          `${label}: median ${run.evaluation.mirror.median.toFixed(1)}°, size CV ${run.evaluation.sizeCv.toFixed(3)}, ${run.seconds.toFixed(0)} s`,
        );
        await writeFileAtomic(join(out, 'results.csv'), gridCsv(rows));
        await writeFileAtomic(join(out, 'results.md'), gridMarkdown(rows));
      }
      await writeEvaluationReport(join(snrDir, pipeline), {
        results: runs,
        title: `${PIPELINE_LABELS[pipeline]}, SNR ${formatSnr(snr)}: ${o.n} images of the 70S ribosome, ${o.k} classes`,
      });
    }
  }
  return rows;
}

if (isMain(import.meta.url))
  await runScript('reproduce-paper', async () => {
    const o = parseReproduceArgs(process.argv.slice(2));
    const rows = await reproducePaper(o, (line) => process.stderr.write(`${line}\n`));
    process.stdout.write(`\n${gridMarkdown(rows)}\nresults: ${join(resolve(o.out), 'results.md')}\n`);
  });
