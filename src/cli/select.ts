/**
 * `ackmeans select run_data.star --classes 3,7,12 -o subset.star`: the particles of chosen classes.
 */
import type { Command } from 'commander';
import { parseClassList, selectClasses } from '../pipeline/select.js';
import { action } from './common.js';

export function register(program: Command): void {
  program
    .command('select')
    .description('write the particles of chosen classes of a run_data.star to a new STAR file')
    .argument('<run_data.star>', 'a run_data.star written by "ackmeans classify" (or RELION)')
    .requiredOption('--classes <list>', 'class numbers (1-based), e.g. "3,7,12" or "3-5,9"')
    .requiredOption('-o, --output <file>', 'the STAR file to write (every block and column kept)')
    .option('--json', 'print one JSON object { output, particles, classes }')
    .action(
      action(async (input: string, opts: { classes: string; output: string; json?: boolean }) => {
        const classes = parseClassList(opts.classes);
        const particles = await selectClasses(input, classes, opts.output);
        if (opts.json)
          process.stdout.write(`${JSON.stringify({ output: opts.output, particles, classes })}\n`);
        else
          process.stdout.write(
            `${particles} particles of classes ${classes.join(',')} written to ${opts.output}\n`,
          );
      }),
    );
}
