/**
 * `ackmeans classify INPUT -k K -o OUTDIR` and `ackmeans classify --continue OUTDIR`: the
 * product's main job. A progress bar on a terminal, plain lines otherwise, `--quiet`, `--json`
 * (one JSON object per line: progress, iteration and done events).
 */
import { SingleBar } from 'cli-progress';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { CLASSIFY_METHODS, type ClassifyParams, PIPELINES } from '../pipeline/params.js';
import type { ClassifyProgress } from '../pipeline/progress.js';
import { runClassification } from '../pipeline/run.js';
import { formatSeconds, iterationLine, summaryLine } from '../pipeline/job-folder.js';
import { AckmeansError } from '../errors.js';
import { action, parseIntOption, parseNumberOption } from './common.js';
import { type ExecutorOpts, addExecutorOptions, executorRunOptions } from './executor-options.js';

/** Commander's options: the classify() parameters (named the same) plus the CLI's own. */
interface ClassifyOpts extends Partial<Omit<ClassifyParams, 'mirror'>>, ExecutorOpts {
  output?: string;
  continue?: string;
  mirror: boolean;
  remap: string[];
  scratch?: string;
  quiet?: boolean;
  force?: boolean;
  json?: boolean;
}

/** Signals that stop a run cleanly (the checkpoint of the last finished iteration stays). */
const HANDLED_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
/** The shell's convention: 128 + the signal number. */
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

const collect = (value: string, previous: string[]) => [...previous, value];

function choice<T extends string>(name: string, choices: readonly T[]) {
  return (value: string): T => {
    if (!choices.includes(value as T))
      throw new InvalidArgumentError(`${name} must be one of ${choices.join(', ')}, got "${value}"`);
    return value as T;
  };
}

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

export function register(program: Command): void {
  const cmd = program.command('classify');
  cmd
    .description(
      'classify particle images into K balanced 2D classes; writes RELION-style outputs into OUTDIR',
    )
    .argument('[input]', 'particles: a RELION .star, a cryoSPARC .cs or an MRC stack (.mrcs)')
    .option('-k, --k <K>', 'number of classes', parseIntOption('-k'))
    .option('-o, --output <dir>', 'output folder (created if needed)')
    .option(
      '--continue <dir>',
      'continue the interrupted run in this folder (input and parameters come from its checkpoint)',
    )
    .option(
      '--method <name>',
      `clustering method: ${CLASSIFY_METHODS.join(', ')} (default ack)`,
      choice('--method', CLASSIFY_METHODS),
    )
    .option(
      '--pipeline <name>',
      `pipeline: ${PIPELINES.join(', ')} (default mra)`,
      choice('--pipeline', PIPELINES),
    )
    .option('--beta <b>', 'ACK-means constraint weight β (default 0.5)', parseNumberOption('--beta'))
    .option(
      '--sigma0 <s>',
      'stop when at most this fraction of images changes class (default 0.01)',
      parseNumberOption('--sigma0'),
    )
    .option('--max-iter <n>', 'iteration cap (default 30)', parseIntOption('--max-iter'))
    .option('--seed <n>', 'seed of every random choice (default 0)', parseIntOption('--seed'))
    .option(
      '--threads <n>',
      'worker threads (default: all cores; results do not depend on it)',
      parseIntOption('--threads'),
    )
    .option(
      '--diameter <Å>',
      'particle diameter in Å (default 0.8 · box · pixel size)',
      parseNumberOption('--diameter'),
    )
    .option(
      '--box <px>',
      'working box in pixels (default: the input box up to 96, otherwise 64)',
      parseIntOption('--box'),
    )
    .option(
      '--shift-range <px>',
      'largest shift searched, working pixels (default 2)',
      parseNumberOption('--shift-range'),
    )
    .option(
      '--shift-step <px>',
      'shift grid step, working pixels (default 1)',
      parseNumberOption('--shift-step'),
    )
    .option(
      '--align-resolution <Å>',
      'finest detail used to align, Å (default 25; frequencies above 1/Å are ignored)',
      parseNumberOption('--align-resolution'),
    )
    .option(
      '--exhaustive',
      'MRA + ACK: align every image to every class in every iteration (the round-1 engine) instead of the scale engine',
    )
    .option(
      '--shortlist <m>',
      'scale engine: candidate classes per image after the coarse stage (default 12)',
      parseIntOption('--shortlist'),
    )
    .option('--no-mirror', 'do not search mirrored images')
    .option('--invert', 'invert the contrast before normalising')
    .option(
      '--no-phase-flip',
      'do not phase-flip with the CTF (default: flip when the input has CTF parameters)',
    )
    .option(
      '--remap <old=new>',
      'a stack path as written in the input (or its base name) = the real file, or OLD_DIR/=NEW_DIR/ for a moved folder (repeatable)',
      collect,
      [],
    )
    .option(
      '--scratch <dir>',
      'folder for the float16 scratch copy of a working stack too big for memory (default: the output folder)',
    )
    .option(
      '--force',
      'write into the output folder even if it already holds something (default: refuse, nothing touched)',
    );
  addExecutorOptions(cmd);
  cmd
    .option('--quiet', 'print only the final summary')
    .option('--json', 'print JSON lines on stdout: {"event":"progress"|"iteration"|"done", …}')
    .action(
      action(async (input: string | undefined, opts: ClassifyOpts) => {
        const resume = opts.continue !== undefined;
        if (resume && (input !== undefined || opts.output !== undefined || opts.k !== undefined))
          throw new RangeError('--continue DIR takes no INPUT, -k or -o: they come from the checkpoint');
        if (!resume && (input === undefined || opts.k === undefined || opts.output === undefined))
          throw new RangeError('classify needs INPUT, -k K and -o OUTDIR (or --continue OUTDIR)');
        const params: ClassifyParams = { k: opts.k ?? 0 };
        const passed = [
          'method',
          'pipeline',
          'beta',
          'sigma0',
          'maxIter',
          'seed',
          'threads',
          'diameter',
          'box',
          'shiftRange',
          'shiftStep',
          'alignResolution',
          'exhaustive',
          'shortlist',
        ] as const satisfies readonly (keyof ClassifyParams)[];
        for (const key of passed) if (opts[key] !== undefined) Object.assign(params, { [key]: opts[key] });
        if (!opts.mirror) params.mirror = false;
        if (opts.invert) params.invert = true;
        if (opts.phaseFlip === false) params.phaseFlip = false;
        const out = reporter(opts);
        const remap = parseRemap(opts.remap);
        const executor = executorRunOptions(opts);
        const controller = new AbortController();
        const dir = (opts.continue ?? opts.output) as string;
        let signalled: NodeJS.Signals | undefined;
        const onSignal = (signal: NodeJS.Signals) => {
          if (signalled) process.exit(SIGNAL_EXIT[signal]); // a second Ctrl-C: stop now
          signalled = signal;
          controller.abort();
        };
        for (const s of HANDLED_SIGNALS) process.on(s, onSignal);
        try {
          const summary = await runClassification(input ?? '', dir, params, {
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
