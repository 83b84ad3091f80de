/**
 * `ackmeans demo`: phantom → simulated projections → ACK-means and K-means (MRA) → evaluation
 * and report in ./ackmeans-demo/, the key numbers printed side by side.
 */
import { type Command } from 'commander';
import { DEMO_DEFAULTS } from '../demo/defaults.js';
import { action, parseIntOption } from './common.js';
import { parseSnr } from './simulate.js';

interface DemoOpts {
  out: string;
  n: number;
  k: number;
  snr: number;
  seed: number;
  threads?: number;
  maxIter: number;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description(
      'run the whole pipeline on simulated data: phantom projections at a low SNR, classified with ACK-means and with K-means (MRA), evaluated against the true angles; writes a report and prints the key numbers side by side',
    )
    .option('-o, --out <dir>', 'output folder (created if needed)', `./${DEMO_DEFAULTS.out}`)
    .option('-n, --n <count>', 'number of simulated images', parseIntOption('-n'), DEMO_DEFAULTS.n)
    .option(
      '-k, --k <count>',
      'number of classes (also the number of true views)',
      parseIntOption('-k'),
      DEMO_DEFAULTS.k,
    )
    .option(
      '--snr <ratio>',
      'signal-to-noise ratio: a number or a fraction like 1/10',
      parseSnr,
      DEMO_DEFAULTS.snr,
    )
    .option(
      '--seed <int>',
      'seed of the simulation and both classifications',
      parseIntOption('--seed'),
      DEMO_DEFAULTS.seed,
    )
    .option(
      '--threads <count>',
      'worker threads (default: all cores; results do not depend on it)',
      parseIntOption('--threads'),
    )
    .option(
      '--max-iter <count>',
      'iteration cap of each classification',
      parseIntOption('--max-iter'),
      DEMO_DEFAULTS.maxIter,
    )
    .action(
      action(async (opts: DemoOpts) => {
        const { runDemo } = await import('../demo/demo.js');
        const t0 = performance.now();
        const result = await runDemo({
          out: opts.out,
          n: opts.n,
          k: opts.k,
          snr: opts.snr,
          seed: opts.seed,
          threads: opts.threads,
          maxIter: opts.maxIter,
          log: (line) => process.stderr.write(`${line}\n`),
        });
        const total = (performance.now() - t0) / 1000;
        process.stdout.write(`\n${result.table}\nreport: ${result.files[0]}\ntotal ${total.toFixed(1)} s\n`);
      }),
    );
}
