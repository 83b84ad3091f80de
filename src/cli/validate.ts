/**
 * `ackmeans validate FILE…`: lists every problem found in each file; exit code 1 if any.
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
        'check MRC, SPIDER, STAR or .cs files and the stacks they reference; list every problem (exit 1 if any)',
      )
      .argument('<files...>', 'the files to check')
      .option('--json', 'print one JSON object per file: {"file", "problems"}'),
  ).action(
    action(async (files: string[], opts: { json?: boolean; remap?: Record<string, string> }) => {
      const { validateFile } = await import('../io/validate.js');
      let failed = false;
      for (const file of files) {
        const problems = await validateFile(file, { remap: opts.remap });
        failed ||= problems.length > 0;
        if (opts.json) process.stdout.write(`${JSON.stringify({ file, problems })}\n`);
        else if (problems.length === 0) process.stdout.write(`${basename(file)}: ok\n`);
        else for (const p of problems) process.stdout.write(`${basename(file)}: ${p}\n`);
      }
      if (failed) process.exitCode = EXIT_FAILURE;
    }),
  );
}
