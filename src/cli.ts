#!/usr/bin/env node
/**
 * The `ackmeans` command line. Each command lives in src/cli/<name>.ts and registers itself.
 */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { register as registerClassify } from './cli/classify.js';
import { register as registerDoctor } from './cli/doctor.js';
import { register as registerEvaluate } from './cli/evaluate.js';
import { register as registerInfo } from './cli/info.js';
import { register as registerValidate } from './cli/validate.js';
import { register as registerSimulate } from './cli/simulate.js';
import { register as registerSelect } from './cli/select.js';
import { register as registerStack } from './cli/stack.js';
import { register as registerServe } from './cli/serve.js';
import { register as registerDemo } from './cli/demo.js';
import { register as registerShardTask } from './cli/shard-task.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const program = new Command();
program
  .name('ackmeans')
  .description('Balanced unsupervised 2D classification of cryo-EM particle images (ACK-means)')
  .version(pkg.version)
  // One line, like every other error: `ackmeans: <problem> (see ackmeans <command> --help)`.
  .configureOutput({
    outputError: (text, write) =>
      write(
        `ackmeans: ${text
          .replace(/^error: /, '')
          .replace(/\s*\n\s*/g, ' ')
          .trim()} (see --help)\n`,
      ),
  });

// Before the commands are registered, so they inherit it: usage errors exit with 2.
program.exitOverride((err) => {
  if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') process.exit(0);
  process.exit(err.exitCode === 1 ? 2 : err.exitCode);
});

registerDoctor(program);
registerClassify(program);
registerEvaluate(program);
registerInfo(program);
registerValidate(program);
registerSimulate(program);
registerSelect(program);
registerStack(program);
registerServe(program);
registerDemo(program);
registerShardTask(program);

await program.parseAsync(process.argv);
