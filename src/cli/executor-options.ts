/**
 * `--executor slurm [--shards N] [--partition P] [--account A] [--sbatch-arg ARG …]
 * [--cpus-per-task C] [--slurm-dir DIR]`: where the scale engine's alignment passes run, shared
 * by `classify` and `serve`. They change where the work runs, never the results.
 */
import { type Command, InvalidArgumentError } from 'commander';
import type { RunOptions } from '../pipeline/run.js';
import { parseIntOption } from './common.js';

/** The options as commander hands them over. */
export interface ExecutorOpts {
  executor: 'local' | 'slurm';
  shards?: number;
  partition?: string;
  account?: string;
  sbatchArg: string[];
  cpusPerTask?: number;
  slurmDir?: string;
}

/** Adds the executor options to `cmd`. */
export function addExecutorOptions(cmd: Command): Command {
  return cmd
    .option(
      '--executor <name>',
      'where the alignment passes run: local, or slurm (job arrays; a shared filesystem is assumed)',
      (v: string) => {
        if (v !== 'local' && v !== 'slurm')
          throw new InvalidArgumentError(`--executor must be local or slurm, got "${v}"`);
        return v;
      },
      'local',
    )
    .option('--shards <n>', 'slurm: array tasks per pass (default 4)', parseIntOption('--shards'))
    .option('--partition <name>', 'slurm: the partition to submit to (sbatch --partition)')
    .option('--account <name>', 'slurm: the account to charge (sbatch --account)')
    .option(
      '--sbatch-arg <arg>',
      'slurm: one more sbatch argument, e.g. --sbatch-arg=--time=02:00:00 (repeatable)',
      (v: string, prev: string[]) => [...prev, v],
      [],
    )
    .option(
      '--cpus-per-task <n>',
      'slurm: threads of each task (default 1)',
      parseIntOption('--cpus-per-task'),
    )
    .option('--slurm-dir <dir>', 'slurm: job folder on the shared filesystem (default: OUTDIR/slurm)');
}

/** The run options for the executor the user chose (none for local). */
export function executorRunOptions(opts: ExecutorOpts): Pick<RunOptions, 'slurm'> {
  const slurmOnly = [opts.shards, opts.partition, opts.account, opts.cpusPerTask, opts.slurmDir];
  if (opts.executor !== 'slurm') {
    if (slurmOnly.some((v) => v !== undefined) || opts.sbatchArg.length > 0)
      throw new RangeError(
        '--shards, --partition, --account, --sbatch-arg, --cpus-per-task and --slurm-dir need --executor slurm',
      );
    return {};
  }
  return {
    slurm: {
      shards: opts.shards ?? 4,
      ...(opts.partition === undefined ? {} : { partition: opts.partition }),
      ...(opts.account === undefined ? {} : { account: opts.account }),
      ...(opts.sbatchArg.length ? { sbatchArgs: opts.sbatchArg } : {}),
      ...(opts.cpusPerTask === undefined ? {} : { cpusPerTask: opts.cpusPerTask }),
      ...(opts.slurmDir === undefined ? {} : { dir: opts.slurmDir }),
    },
  };
}
