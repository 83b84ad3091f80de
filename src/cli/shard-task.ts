/**
 * `ackmeans shard-task PASS_DIR TASK` (hidden): one Slurm array task of a distributed pass,
 * started by the job array that `--executor slurm` submits; not for users.
 */
import type { Command } from 'commander';
import { action, parseIntOption } from './common.js';

export function register(program: Command): void {
  program
    .command('shard-task <passDir> <task>', { hidden: true })
    .description('one task of a Slurm job array (started by --executor slurm)')
    .action(
      action(async (passDir: string, task: string) => {
        const { runShardTask } = await import('../executor/slurm-pass.js');
        await runShardTask(passDir, parseIntOption('TASK')(task));
      }),
    );
}
