/**
 * `scripts/compare-relion`: one simulated stack, classified by RELION 3.1's 2D classification
 * and by ackmeans (ACK-means and K-means, MRA) with the same number of classes; accuracy,
 * balance and time side by side, and an evaluation report overlaying the three.
 *
 *   scripts/compare-relion [--install] [--n 2000] [--k 20] [--snr 0.1] [--iter 25] [--out DIR]
 */
import { Command } from 'commander';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseIntOption } from '../src/cli/common.js';
import { parseSnr } from '../src/cli/simulate.js';
import { classifyAndEvaluate, type EvaluatedRun, formatSummary, summaryRow } from '../src/demo/experiment.js';
import { evaluateFiles } from '../src/eval/evaluate.js';
import { writeFileAtomic } from '../src/io/atomic-write.js';
import { DEFAULT_DIAMETER_FRACTION } from '../src/pipeline/preprocess.js';
import { writeEvaluationReport } from '../src/report/report.js';
import { simulate } from '../src/sim/simulate.js';
import { formatSnr, isMain, parseOptions, runScript } from './lib/cli.js';
import { ensureRelion, runRelion, writeRelionInput } from './lib/relion.js';

/** Options of {@link compareRelion}. */
export interface CompareOptions {
  install: boolean;
  n: number;
  k: number;
  snr: number;
  iter: number;
  maxIter: number;
  seed: number;
  threads: number;
  out: string;
}

/** The command line of the script (options only). */
export function compareCommand(): Command {
  return new Command('compare-relion')
    .description(
      "simulate one stack, classify it with RELION 3.1's 2D classification and with ackmeans (ACK-means, K-means; MRA), and compare accuracy, balance and time",
    )
    .option('--install', 'apt-get install -y relion when relion_refine is absent', false)
    .option('--n <count>', 'number of simulated images', parseIntOption('--n'), 2000)
    .option('--k <count>', 'number of classes (and of true views)', parseIntOption('--k'), 20)
    .option('--snr <ratio>', 'signal-to-noise ratio (a number or 1/10)', parseSnr, 0.1)
    .option('--iter <count>', 'RELION iterations', parseIntOption('--iter'), 25)
    .option('--max-iter <count>', 'ackmeans iteration cap', parseIntOption('--max-iter'), 30)
    .option('--seed <int>', 'seed of the simulation and of every classification', parseIntOption('--seed'), 1)
    .option('--threads <count>', 'threads for every program (RELION --j)', parseIntOption('--threads'), 2)
    .option('--out <dir>', 'output folder', 'compare-relion-out');
}

/** Parses the script's arguments. @throws CommanderError on a usage error. */
export function parseCompareArgs(argv: readonly string[]): CompareOptions {
  const o = parseOptions<CompareOptions>(compareCommand(), argv);
  if (o.n < 10 || o.k < 2 || o.k > o.n / 2 || o.iter < 1 || o.maxIter < 1 || o.threads < 1 || !(o.seed >= 0))
    throw new RangeError('need --n ≥ 10, 2 ≤ --k ≤ n/2, --iter, --max-iter and --threads ≥ 1, --seed ≥ 0');
  return o;
}

/** What {@link compareRelion} measured. */
export interface CompareResult {
  runs: EvaluatedRun[];
  table: string;
  relionCommand: string;
  relionIterationSeconds: number[];
  relionCpuSeconds: number;
}

/** Runs the comparison into `o.out`: data/, relion/, ack/, kmeans/, report.html, comparison.json/.md. */
export async function compareRelion(o: CompareOptions, log: (line: string) => void): Promise<CompareResult> {
  ensureRelion(o.install, log);
  const out = resolve(o.out);
  await mkdir(out, { recursive: true });
  log(`simulating ${o.n} phantom projections about ${o.k} views at SNR ${formatSnr(o.snr)}…`);
  const sim = await simulate(
    { n: o.n, views: o.k, snr: o.snr, seed: o.seed, threads: o.threads },
    join(out, 'data'),
  );

  const relionInput = join(out, 'data', 'relion_in.star');
  await writeRelionInput(sim.star, relionInput);
  const diameter = Math.round(DEFAULT_DIAMETER_FRACTION * sim.box * sim.pixelSize);
  log(`RELION 2D classification, ${o.iter} iterations…`);
  const relion = await runRelion(
    relionInput,
    join(out, 'relion', 'run'),
    { k: o.k, iter: o.iter, diameter, threads: o.threads, seed: o.seed },
    { log },
  );
  const relionRun: EvaluatedRun = {
    label: 'RELION 3.1',
    evaluation: await evaluateFiles(sim.star, relion.dataStar, { classes: o.k }),
    seconds: relion.seconds,
    iterations: relion.iteration,
    converged: false,
    outDir: join(out, 'relion'),
  };

  const runs = [relionRun];
  for (const [label, method] of [
    ['ACK-means', 'ack'],
    ['K-means', 'kmeans'],
  ] as const) {
    const params = {
      k: o.k,
      method,
      pipeline: 'mra',
      seed: o.seed,
      maxIter: o.maxIter,
      threads: o.threads,
    } as const;
    runs.push(await classifyAndEvaluate(sim.star, join(out, method), label, params, { log }));
  }
  const table = formatSummary(runs.map((r) => summaryRow(r.label, r.evaluation, r.seconds)));
  await writeEvaluationReport(out, {
    results: runs,
    title: `RELION 3.1 vs ackmeans: ${o.n} images, ${o.k} classes, SNR ${formatSnr(o.snr)}`,
  });
  const result = {
    runs,
    table,
    relionCommand: relion.command,
    relionIterationSeconds: relion.iterationSeconds,
    relionCpuSeconds: relion.cpuSeconds,
  };
  await writeFileAtomic(
    join(out, 'comparison.md'),
    `# RELION 3.1 vs ackmeans\n\n${o.n} images, ${o.k} classes, SNR ${formatSnr(o.snr)}, seed ${o.seed}\n\n` +
      '```\n' +
      table +
      '```\n\nRELION: `' +
      relion.command +
      `\`\n\nRELION seconds per iteration: ${relion.iterationSeconds.map((s) => s.toFixed(1)).join(', ')}; ` +
      `CPU ${relion.cpuSeconds.toFixed(0)} s over ${relion.seconds.toFixed(0)} s wall.\n`,
  );
  await writeFileAtomic(
    join(out, 'comparison.json'),
    JSON.stringify(
      {
        options: o,
        relion: {
          command: relion.command,
          iterationSeconds: relion.iterationSeconds,
          cpuSeconds: relion.cpuSeconds,
        },
        rows: runs.map((r) => ({
          ...summaryRow(r.label, r.evaluation, r.seconds),
          iterations: r.iterations,
        })),
      },
      null,
      2,
    ) + '\n',
  );
  return result;
}

if (isMain(import.meta.url))
  await runScript('compare-relion', async () => {
    const o = parseCompareArgs(process.argv.slice(2));
    const r = await compareRelion(o, (line) => process.stderr.write(`${line}\n`));
    process.stdout.write(`\n${r.table}\nreport: ${join(resolve(o.out), 'report.html')}\n`);
  });
