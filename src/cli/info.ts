/**
 * `ackmeans info FILE`: what a cryo-EM file holds (MRC/SPIDER header, STAR blocks, .cs fields,
 * and the particle set it describes).
 */
import type { Command } from 'commander';
import { action } from './common.js';
import { remapOption } from './remap-option.js';

export function register(program: Command): void {
  remapOption(
    program
      .command('info')
      .description(
        'summarise an MRC, SPIDER, STAR or cryoSPARC .cs file (header, blocks, particles, CTF ranges)',
      )
      .argument('<file>', 'the file to describe')
      .option('--json', 'print one JSON object instead of text'),
  ).action(
    action(async (file: string, opts: { json?: boolean; remap?: Record<string, string> }) => {
      const { describeFile, formatSummary } = await import('../io/describe.js');
      const summary = await describeFile(file, { remap: opts.remap });
      process.stdout.write(
        opts.json ? `${JSON.stringify(summary)}\n` : `${formatSummary(summary).join('\n')}\n`,
      );
    }),
  );
}
