/**
 * `ackmeans select run_data.star --classes 3,7,12 -o subset.star [--remap OLD=NEW]`: the particles
 * of chosen classes, image names rewritten to resolve from the current folder.
 * `ackmeans select run_data.star --auto [--min-score S] -o subset.star`: the classes whose score
 * (run_model.star, src/pipeline/class-score.ts) passes, and a table of every class and why.
 * A run_particles.cs input gives a .cs output (+ .csg) for cryoSPARC; `--cs` writes one beside a
 * STAR output too.
 */
import type { Command } from 'commander';
import { DEFAULT_MIN_SCORE } from '../pipeline/class-score.js';
import { action, parseNumberOption } from './common.js';
import { remapOption } from './remap-option.js';

interface SelectOpts {
  classes?: string;
  auto?: boolean;
  minScore?: number;
  model?: string;
  output: string;
  json?: boolean;
  remap?: Record<string, string>;
  cs?: boolean;
}

export function register(program: Command): void {
  const command = program
    .command('select')
    .description(
      'write the particles of chosen classes (--classes) or of the classes that pass their scores (--auto) to a new STAR file',
    )
    .argument(
      '<run_data.star>',
      'a run_data.star written by "ackmeans classify" (or RELION, with --classes), or its run_particles.cs (then OUTPUT is a .cs)',
    )
    .option('--classes <list>', 'class numbers (1-based), e.g. "3,7,12" or "3-5,9"')
    .option(
      '--auto',
      'keep the classes whose score (run_model.star) is at least --min-score and that no gate rejects; writes a table of every class (OUTPUT with .star → _classes.tsv)',
    )
    .option(
      '--min-score <s>',
      `smallest score of a kept class with --auto, in [0, 1] (default ${DEFAULT_MIN_SCORE})`,
      parseNumberOption('--min-score'),
    )
    .option('--model <run_model.star>', 'the class scores for --auto (default: beside the input)')
    .requiredOption(
      '-o, --output <file>',
      'the STAR file to write (every block and column kept; image names resolve from the current folder), or the .cs file (+ .csg) for a .cs input',
    )
    .option(
      '--cs',
      'also write the particles for cryoSPARC: OUTPUT with .star → .cs and .csg, from the run_particles.cs beside the input',
    )
    .option('--json', 'print one JSON object { output, particles, classes[, table, decisions] }');
  remapOption(command).action(
    action(async (input: string, opts: SelectOpts) => {
      const { decisionTable, parseClassList, selectAuto, selectClasses } =
        await import('../pipeline/select.js');
      if ((opts.classes === undefined) === (opts.auto !== true))
        throw new RangeError('select needs exactly one of --classes LIST and --auto');
      if (opts.auto !== true && (opts.minScore !== undefined || opts.model !== undefined))
        throw new RangeError('--min-score and --model go with --auto');
      const options = {
        ...(opts.remap ? { remap: opts.remap } : {}),
        ...(opts.cs ? { cs: true } : {}),
        warn: (m: string) => process.stderr.write(`ackmeans: warning: ${m}\n`),
      };
      if (opts.auto) {
        const r = await selectAuto(input, opts.output, {
          ...options,
          ...(opts.minScore !== undefined ? { minScore: opts.minScore } : {}),
          ...(opts.model !== undefined ? { model: opts.model } : {}),
        });
        const classes = r.decisions.filter((d) => d.accepted).map((d) => d.class);
        if (opts.json)
          process.stdout.write(
            `${JSON.stringify({ output: opts.output, particles: r.particles, classes, table: r.table, decisions: r.decisions })}\n`,
          );
        else
          process.stdout.write(
            `${decisionTable(r.decisions)}${r.particles} particles of ${classes.length} classes (${classes.join(',')}) written to ${opts.output}; table in ${r.table}\n`,
          );
        return;
      }
      const classes = parseClassList(opts.classes as string);
      const particles = await selectClasses(input, classes, opts.output, options);
      if (opts.json) process.stdout.write(`${JSON.stringify({ output: opts.output, particles, classes })}\n`);
      else
        process.stdout.write(
          `${particles} particles of classes ${classes.join(',')} written to ${opts.output}\n`,
        );
    }),
  );
}
