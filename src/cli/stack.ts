/**
 * `ackmeans stack run_data.star -o aligned.mrcs`: the aligned (and, where `_ackMirror` says so,
 * flipped) particles of a classification, one image per row.
 */
import type { Command } from 'commander';
import { VERSION } from '../pipeline/version.js';
import { action, parseIntOption } from './common.js';
import { remapOption } from './remap-option.js';

export function register(program: Command): void {
  const command = program
    .command('stack')
    .description(
      'write the particles of a run_data.star aligned to their class averages (rotated, shifted and mirrored as _ackMirror says) as an MRC stack',
    )
    .argument('<run_data.star>', 'a run_data.star written by "ackmeans classify" (ψ, origins, _ackMirror)')
    .requiredOption('-o, --output <file.mrcs>', 'the MRC stack to write (row order of the STAR file)')
    .option('--threads <n>', 'worker threads (default: all cores)', parseIntOption('--threads'))
    .option('--json', 'print one JSON object { output, particles }');
  remapOption(command).action(
    action(
      async (
        input: string,
        opts: { output: string; threads?: number; json?: boolean; remap?: Record<string, string> },
      ) => {
        const { writeAlignedStack } = await import('../pipeline/aligned-stack.js');
        const n = await writeAlignedStack(input, opts.output, {
          version: VERSION,
          ...(opts.threads === undefined ? {} : { threads: opts.threads }),
          ...(opts.remap ? { remap: opts.remap } : {}),
        });
        process.stdout.write(
          opts.json
            ? `${JSON.stringify({ output: opts.output, particles: n })}\n`
            : `${n} aligned particles written to ${opts.output}\n`,
        );
      },
    ),
  );
}
