/**
 * `ackmeans select run_data.star --classes 3,7,12 -o subset.star [--remap OLD=NEW]`: the particles
 * of chosen classes, image names rewritten to resolve from the current folder.
 */
import type { Command } from 'commander';
import { parseClassList, selectClasses } from '../pipeline/select.js';
import { action } from './common.js';
import { remapOption } from './remap-option.js';

export function register(program: Command): void {
  const command = program
    .command('select')
    .description('write the particles of chosen classes of a run_data.star to a new STAR file')
    .argument('<run_data.star>', 'a run_data.star written by "ackmeans classify" (or RELION)')
    .requiredOption('--classes <list>', 'class numbers (1-based), e.g. "3,7,12" or "3-5,9"')
    .requiredOption(
      '-o, --output <file>',
      'the STAR file to write (every block and column kept; image names resolve from the current folder)',
    )
    .option('--json', 'print one JSON object { output, particles, classes }');
  remapOption(command).action(
    action(
      async (
        input: string,
        opts: { classes: string; output: string; json?: boolean; remap?: Record<string, string> },
      ) => {
        const classes = parseClassList(opts.classes);
        const particles = await selectClasses(input, classes, opts.output, {
          ...(opts.remap ? { remap: opts.remap } : {}),
          warn: (m) => process.stderr.write(`ackmeans: warning: ${m}\n`),
        });
        if (opts.json)
          process.stdout.write(`${JSON.stringify({ output: opts.output, particles, classes })}\n`);
        else
          process.stdout.write(
            `${particles} particles of classes ${classes.join(',')} written to ${opts.output}\n`,
          );
      },
    ),
  );
}
