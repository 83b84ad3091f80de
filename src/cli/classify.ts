/**
 * `ackmeans classify INPUT -k K -o OUTDIR` and `ackmeans classify --continue OUTDIR`: the
 * product's main job. A progress bar on a terminal, plain lines otherwise, `--quiet`, `--json`
 * (one JSON object per line: progress, iteration and done events).
 */
import { SingleBar } from 'cli-progress';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import type { ClassifyParams } from '../pipeline/params.js';
import type { ClassifyProgress } from '../pipeline/progress.js';
import { formatSeconds, iterationLine, summaryLine } from '../pipeline/job-folder.js';
import { AckmeansError } from '../errors.js';
import { action } from './common.js';
import { type ExecutorOpts, addExecutorOptions, executorRunOptions } from './executor-options.js';
import { addParamOptions, paramsFromOptions } from './params-options.js';

/** Commander's options besides the parameters (see params-options.ts). */
interface ClassifyOpts extends ExecutorOpts {
  output?: string;
  continue?: string;
  remap: string[];
  scratch?: string;
  quiet?: boolean;
  force?: boolean;
  json?: boolean;
  /** RELION's names for INPUT and --output. */
  i?: string;
  o?: string;
}

const RELION_GROUP = 'RELION option names:';

/** One of two spellings of the same thing. */
function either(a: string, x: string | undefined, b: string, y: string | undefined): string | undefined {
  if (x !== undefined && y !== undefined) throw new RangeError(`give ${a} or ${b}, not both`);
  return x ?? y;
}

/** What the command runs (the tests pass a stand-in). */
export type ClassifyRunner = typeof import('../pipeline/run.js').runClassification;

const runLazily: ClassifyRunner = async (...args) =>
  (await import('../pipeline/run.js')).runClassification(...args);

/** Signals that stop a run cleanly (the checkpoint of the last finished iteration stays). */
const HANDLED_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
/** The shell's convention: 128 + the signal number. */
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

const collect = (value: string, previous: string[]) => [...previous, value];

function parseRemap(entries: string[]): Record<string, string> | undefined {
  if (entries.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const e of entries) {
    const at = e.indexOf('=');
    if (at <= 0) throw new RangeError(`--remap must be OLD=NEW, got "${e}"`);
    out[e.slice(0, at)] = e.slice(at + 1);
  }
  return out;
}

/** One human line for a progress report. */
function progressLine(p: ClassifyProgress): string {
  const parts = [`${p.stage}`, `it ${p.iteration}/${p.maxIter}`];
  if (p.sigma !== undefined) parts.push(`σ ${p.sigma.toFixed(3)}`);
  if (p.sizeCv !== undefined) parts.push(`size cv ${p.sizeCv.toFixed(2)}`);
  if (p.etaSeconds !== undefined) parts.push(`about ${formatSeconds(p.etaSeconds)} left`);
  return parts.join('  ');
}

/** Progress output: a bar on a terminal, a line per iteration otherwise, JSON lines with --json. */
function reporter(opts: ClassifyOpts) {
  if (opts.quiet && !opts.json)
    return { onProgress: undefined, onIteration: undefined, stop: () => undefined };
  if (opts.json) {
    const emit = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
    let last = 0;
    return {
      onProgress: (p: ClassifyProgress) => {
        const now = Date.now();
        if (now - last < 500 && p.fraction < 1) return;
        last = now;
        emit({ event: 'progress', ...p });
      },
      onIteration: (t: unknown) => emit({ event: 'iteration', ...(t as object) }),
      stop: () => undefined,
    };
  }
  if (process.stderr.isTTY) {
    const bar = new SingleBar({
      // the elapsed time keeps moving through long steps without reports (the final averages)
      format: '{bar} {percentage}% | {duration_formatted} | {line}',
      stream: process.stderr,
      hideCursor: true,
    });
    bar.start(100, 0, { line: 'starting' });
    return {
      onProgress: (p: ClassifyProgress) =>
        bar.update(Math.round(p.fraction * 1000) / 10, { line: progressLine(p) }),
      onIteration: undefined,
      stop: () => bar.stop(),
    };
  }
  let lastStage = '';
  return {
    onProgress: (p: ClassifyProgress) => {
      if (p.stage !== lastStage) process.stderr.write(`${p.stage}…\n`);
      lastStage = p.stage;
    },
    onIteration: (t: unknown) =>
      process.stderr.write(`${iterationLine(t as Parameters<typeof iterationLine>[0])}\n`),
    stop: () => undefined,
  };
}

/** Adds `classify` to `program`; `run` does the work (default: runClassification, loaded when used). */
export function register(program: Command, run: ClassifyRunner = runLazily): void {
  const command = program
    .command('classify')
    .description(
      'classify particle images into K balanced 2D classes; writes RELION-style outputs into OUTDIR',
    )
    .argument('[input]', 'particles: a RELION .star, a cryoSPARC .cs or an MRC stack (.mrcs)')
    .option('-o, --output <dir>', 'output folder (created if needed)')
    .option(
      '--continue <dir>',
      'continue the interrupted run in this folder (input and parameters come from its checkpoint)',
    );
  addParamOptions(command);
  command
    .option(
      '--remap <old=new>',
      'a stack path as written in the input (or its base name) = the real file, or OLD_DIR/=NEW_DIR/ for a moved folder (repeatable)',
      collect,
      [],
    )
    .option(
      '--scratch <dir>',
      "folder for the scratch files of a working stack too big for memory (its float16 images and the scale engine's kept spectra; default: the output folder)",
    )
    .option(
      '--force',
      'write into the output folder even if it already holds something (default: refuse, nothing touched)',
    )
    .option('--quiet', 'print only the final summary');
  addExecutorOptions(command);
  command
    .addOption(new Option('--i <file>', "RELION's name for INPUT").helpGroup(RELION_GROUP))
    .addOption(new Option('--o <dir>', "RELION's name for --output").helpGroup(RELION_GROUP))
    .option('--json', 'print JSON lines on stdout: {"event":"progress"|"iteration"|"done", …}')
    .action(
      action(async (positional: string | undefined, opts: ClassifyOpts) => {
        const given = paramsFromOptions(opts as unknown as Record<string, unknown>);
        const input = either('INPUT', positional, '--i', opts.i);
        const output = either('--output', opts.output, '--o', opts.o);
        const resume = opts.continue !== undefined;
        if (resume && (input !== undefined || output !== undefined || given.k !== undefined))
          throw new RangeError('--continue DIR takes no INPUT, -k or -o: they come from the checkpoint');
        if (!resume && (input === undefined || given.k === undefined || output === undefined))
          throw new RangeError('classify needs INPUT, -k K and -o OUTDIR (or --continue OUTDIR)');
        const params: ClassifyParams = { ...given, k: given.k ?? 0 };
        const out = reporter(opts);
        const remap = parseRemap(opts.remap);
        const executor = executorRunOptions(opts);
        const controller = new AbortController();
        const dir = (opts.continue ?? output) as string;
        let signalled: NodeJS.Signals | undefined;
        const onSignal = (signal: NodeJS.Signals) => {
          if (signalled) process.exit(SIGNAL_EXIT[signal]); // a second Ctrl-C: stop now
          signalled = signal;
          controller.abort();
        };
        for (const s of HANDLED_SIGNALS) process.on(s, onSignal);
        try {
          const summary = await run(input ?? '', dir, params, {
            signal: controller.signal,
            resume,
            existing: opts.force ? 'overwrite' : 'refuse',
            onWarning: (w) => process.stderr.write(`ackmeans: warning: ${w}\n`),
            ...(remap ? { remap } : {}),
            ...(opts.scratch === undefined ? {} : { scratch: opts.scratch }),
            ...executor,
            ...(out.onProgress ? { onProgress: out.onProgress } : {}),
            ...(out.onIteration ? { onIteration: out.onIteration } : {}),
          }).catch((err: unknown) => {
            if (signalled && err instanceof DOMException && err.name === 'AbortError') return signalled;
            if (err instanceof AckmeansError && err.code === 'ERR_ALREADY_FINISHED') return err;
            throw err;
          });
          if (summary instanceof AckmeansError) {
            // continuing a finished run is not a failure (a retried job lands here)
            out.stop();
            process.stderr.write(`${summary.message}\n`);
            return;
          }
          if (typeof summary === 'string') {
            out.stop();
            const canContinue = existsSync(join(resolve(dir), 'checkpoint.json'));
            process.stderr.write(
              `ackmeans: interrupted (${summary}); ${canContinue ? `continue with: ackmeans classify --continue ${dir}` : 'no iteration had finished, so there is nothing to continue: start the run again'}\n`,
            );
            process.exitCode = SIGNAL_EXIT[summary];
            return;
          }
          out.stop();
          if (opts.json) process.stdout.write(`${JSON.stringify({ event: 'done', ...summary })}\n`);
          else process.stdout.write(`${summaryLine(summary)}\n`);
        } finally {
          out.stop();
          for (const s of HANDLED_SIGNALS) process.off(s, onSignal);
        }
      }),
    );
}
