/**
 * `ackmeans validate FILE… [--strict]`: lists every problem found in each file — errors (the
 * file cannot be read right, or classify would refuse it) and warnings (readable oddities such
 * as nversion 0 or stale header statistics); exit code 1 if any file has an error. `--strict`
 * counts warnings as errors (mrcfile's strictness).
 */
import type { Command } from 'commander';
import { basename } from 'node:path';
import { EXIT_FAILURE, action } from './common.js';
import { remapOption } from './remap-option.js';

export function register(program: Command): void {
  remapOption(
    program
      .command('validate')
      .description(
        'check MRC, SPIDER, STAR or .cs files and the stacks they reference; list every error and warning (exit 1 if any error)',
      )
      .argument('<files...>', 'the files to check')
      .option(
        '--strict',
        "count warnings (nversion 0, stale header statistics, …) as errors, as mrcfile's validate does",
      )
      .option('--json', 'print one JSON object per file: {"file", "errors", "warnings", "problems" (both)}'),
  ).action(
    action(
      async (files: string[], opts: { json?: boolean; strict?: boolean; remap?: Record<string, string> }) => {
        const { checkFile } = await import('../io/validate.js');
        let failed = false;
        for (const file of files) {
          const { errors, warnings } = await checkFile(file, {
            remap: opts.remap,
            strict: opts.strict === true,
          });
          failed ||= errors.length > 0;
          const name = basename(file);
          if (opts.json)
            process.stdout.write(
              `${JSON.stringify({ file, errors, warnings, problems: [...errors, ...warnings] })}\n`,
            );
          else if (errors.length + warnings.length === 0) process.stdout.write(`${name}: ok\n`);
          else {
            for (const p of errors) process.stdout.write(`${name}: ${p}\n`);
            for (const p of warnings) process.stdout.write(`${name}: warning: ${p}\n`);
          }
        }
        if (failed) process.exitCode = EXIT_FAILURE;
      },
    ),
  );
}
