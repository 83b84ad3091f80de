/**
 * `node dist/executor/shard-main.js PASS_DIR TASK`: one Slurm array task of a distributed pass,
 * what `ackmeans shard-task` does, but loading only the pass code (not the whole CLI with the
 * server and every command): a task starts several times faster, and every pass pays that
 * start-up. Started by the arrays `--executor slurm` submits; not for users.
 */
import { runShardTask } from './slurm-pass.js';

// `shard-main.js [shard-task] PASS_DIR TASK`: with the word, it also serves as the executor's
// `ackmeans` command (e.g. `nice -n 5 node …/shard-main.js`).
const args = process.argv.slice(2);
const [passDir, task] = args[0] === 'shard-task' ? args.slice(1) : args;
try {
  if (passDir === undefined || !/^\d+$/.test(task ?? ''))
    throw new RangeError('usage: shard-main.js PASS_DIR TASK');
  await runShardTask(passDir, Number(task));
} catch (err) {
  process.stderr.write(`ackmeans shard-task: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
