/**
 * RELION 3.1 2D classification (`relion_refine`) as a baseline: preparing its input from a
 * simulated particle set, the command line, running it, and reading its result back.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { AckmeansError, checkInt, checkNumber } from '../../src/errors.js';
import { readStar, StarFile, writeStar } from '../../src/io/index.js';

/** Settings of a RELION 2D classification. */
export interface RelionOptions {
  /** Number of classes. */
  k: number;
  /** Iterations (default 25, RELION's GUI default). */
  iter?: number;
  /** Particle diameter of the circular mask, Å. */
  diameter: number;
  /** Correct for the CTF (the input must carry defocus columns; default true). */
  ctf?: boolean;
  /** The images were phase-flipped already (default false). */
  phaseFlipped?: boolean;
  /** Threads (`--j`, default 2). */
  threads?: number;
  /** Random seed (default 1). */
  seed?: number;
  /** In-plane angle step before oversampling, degrees (default 10). */
  psiStep?: number;
  /** Offset search range, pixels (default 5). */
  offsetRange?: number;
  /** Offset step, pixels (default 2). */
  offsetStep?: number;
  /** Regularisation T (default 2, RELION's 2D default). */
  tau2Fudge?: number;
}

/** Columns of a simulated set that would tell RELION the answer: dropped from its input. */
const ANSWER = /^(rlnAngle|rlnOrigin|rlnClassNumber|rlnNormCorrection|rlnLogLikeli|rlnMaxValue)|^(?!rln)/;

/**
 * Writes RELION's input beside `truthStar` (so image paths stay valid): the same particles
 * without their poses, origins, classes or any non-RELION column (a simulation's view id).
 */
export async function writeRelionInput(truthStar: string, outStar: string): Promise<void> {
  const star = await readStar(truthStar);
  if (resolve(dirname(outStar)) !== resolve(dirname(truthStar)))
    throw new RangeError('the RELION input must be written beside the truth STAR (image paths are relative)');
  const blocks = star.blocks.map((b) => {
    if (b.name === 'optics') return b;
    const keep = b.columns.filter((c) => !ANSWER.test(c));
    const out = b.selectRows(Uint32Array.from({ length: b.rowCount }, (_, i) => i));
    for (const c of b.columns) if (!keep.includes(c)) out.deleteColumn(c);
    return out;
  });
  if (!blocks.some((b) => b.has('rlnImageName')))
    throw new AckmeansError('ERR_STAR_COLUMN', `${basename(truthStar)}: no _rlnImageName column`, {
      file: truthStar,
    });
  await writeStar(outStar, new StarFile(blocks));
}

/** The `relion_refine` arguments of a 2D classification of `input` into `outRoot` (`<dir>/run`). */
export function relionArgs(input: string, outRoot: string, o: RelionOptions): string[] {
  const k = checkInt('k', o.k, 1, 10000);
  const args = [
    '--i', input,
    '--o', outRoot,
    '--K', String(k),
    '--iter', String(checkInt('iter', o.iter ?? 25, 1, 1000)),
    '--tau2_fudge', String(checkNumber('tau2Fudge', o.tau2Fudge ?? 2, 0.1, 100)),
    '--particle_diameter', String(checkNumber('diameter', o.diameter, 1, 1e5)),
    '--zero_mask', '--flatten_solvent',
    '--oversampling', '1',
    '--psi_step', String(checkNumber('psiStep', o.psiStep ?? 10, 0.1, 90)),
    '--offset_range', String(checkNumber('offsetRange', o.offsetRange ?? 5, 0, 1000)),
    '--offset_step', String(checkNumber('offsetStep', o.offsetStep ?? 2, 0.1, 1000)),
    '--norm', '--scale',
    '--j', String(checkInt('threads', o.threads ?? 2, 1, 1024)),
    '--dont_combine_weights_via_disc', '--pool', '3',
    '--random_seed', String(checkInt('seed', o.seed ?? 1, 0, 2 ** 31 - 1)),
  ]; // prettier-ignore
  if (o.ctf ?? true) args.push('--ctf');
  if (o.phaseFlipped) args.push('--ctf_phase_flipped');
  return args;
}

/** True when `relion_refine` is on the PATH. */
export function hasRelionRefine(): boolean {
  return spawnSync('relion_refine', ['--version'], { encoding: 'utf8' }).error === undefined;
}

/**
 * Makes sure `relion_refine` exists: with `install`, runs `apt-get install -y relion` when it is
 * absent. @throws AckmeansError `ERR_RELION_MISSING` when it is absent and cannot be installed.
 */
export function ensureRelion(install: boolean, log: (line: string) => void): void {
  if (hasRelionRefine()) return;
  if (install) {
    log('installing RELION: apt-get install -y relion');
    const r = spawnSync('apt-get', ['install', '-y', 'relion'], { stdio: 'inherit' });
    if (r.status === 0 && hasRelionRefine()) return;
  }
  throw new AckmeansError(
    'ERR_RELION_MISSING',
    install
      ? 'relion_refine is still missing after apt-get install -y relion'
      : 'relion_refine is not installed: rerun with --install (apt-get install -y relion)',
  );
}

/** What RELION produced, read back from its files. */
export interface RelionResult {
  /** The last iteration written. */
  iteration: number;
  /** `<root>_itNNN_data.star` of that iteration (holds `_rlnClassNumber`). */
  dataStar: string;
  /** `<root>_itNNN_model.star` of that iteration. */
  modelStar: string;
  /** RELION's class distribution of that iteration (fractions of the particles, K values). */
  classDistribution: Float64Array;
  /** Seconds between the model files of consecutive iterations (iteration 1, 2, …). */
  iterationSeconds: number[];
}

const ITER_FILE = /_it(\d{3})_model\.star$/;

/**
 * Reads the result of `relion_refine --o <outRoot>`: its last `_itNNN_model.star` and data file,
 * the class distribution of the model, and per-iteration times from the files' modification times.
 * @throws AckmeansError `ERR_RELION_OUTPUT` when no iteration beyond 0 was written or a file is
 *   malformed.
 */
export async function readRelionResult(outRoot: string): Promise<RelionResult> {
  const dir = dirname(outRoot);
  const prefix = basename(outRoot);
  const files = (await readdir(dir)).filter((f) => f.startsWith(prefix + '_it') && ITER_FILE.test(f));
  const iterations = files.map((f) => Number(ITER_FILE.exec(f)![1])).sort((a, b) => a - b);
  const last = iterations[iterations.length - 1];
  if (last === undefined || last === 0)
    throw new AckmeansError('ERR_RELION_OUTPUT', `${outRoot}: RELION wrote no finished iteration`, {
      file: dir,
    });
  const name = (it: number, kind: string) =>
    join(dir, `${prefix}_it${String(it).padStart(3, '0')}_${kind}.star`);
  const modelStar = name(last, 'model');
  const model = await readStar(modelStar);
  const distribution = model.block('model_classes')?.numeric('rlnClassDistribution');
  if (!distribution)
    throw new AckmeansError(
      'ERR_RELION_OUTPUT',
      `${basename(modelStar)}: no data_model_classes/_rlnClassDistribution`,
      {
        file: modelStar,
      },
    );
  const times = await Promise.all(iterations.map(async (it) => (await stat(name(it, 'model'))).mtimeMs));
  const iterationSeconds = times.slice(1).map((t, i) => (t - times[i]) / 1000);
  return {
    iteration: last,
    dataStar: name(last, 'data'),
    modelStar,
    classDistribution: distribution,
    iterationSeconds,
  };
}

/** The CPU seconds (user + system) of this process's finished children, from /proc (Linux). */
export function childCpuSeconds(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); cutime and cstime are fields 16 and 17, in clock ticks (100/s)
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return NaN;
  }
}

/** Timing of a RELION run. */
export interface RelionRun extends RelionResult {
  /** Wall time, seconds. */
  seconds: number;
  /** CPU seconds used by relion_refine (NaN where /proc is absent). */
  cpuSeconds: number;
  /** The full command line. */
  command: string;
}

/**
 * Runs `relion_refine` on `input` (a STAR file written by {@link writeRelionInput}) from the
 * current folder — RELION's project folder, where image paths written by ackmeans resolve — logging each "Expectation iteration" line, and reads its result.
 * @throws AckmeansError `ERR_RELION_FAILED` (with the end of its output) when it exits non-zero.
 */
export async function runRelion(
  input: string,
  outRoot: string,
  options: RelionOptions,
  { log = () => {}, signal }: { log?: (line: string) => void; signal?: AbortSignal } = {},
): Promise<RelionRun> {
  const cwd = process.cwd();
  const args = relionArgs(relative(cwd, resolve(input)), relative(cwd, resolve(outRoot)), options);
  await mkdir(dirname(resolve(outRoot)), { recursive: true });
  const cpu0 = childCpuSeconds();
  const t0 = performance.now();
  const tail: string[] = [];
  const code = await new Promise<number>((ok, fail) => {
    const child = spawn('relion_refine', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], signal });
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split(/[\r\n]+/)) {
        if (line.trim() === '') continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
        if (/Expectation iteration/.test(line)) log(`relion: ${line.trim()}`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', fail);
    child.on('close', (c) => ok(c ?? 1));
  });
  const seconds = (performance.now() - t0) / 1000;
  const command = ['relion_refine', ...args].join(' ');
  if (code !== 0)
    throw new AckmeansError('ERR_RELION_FAILED', `relion_refine exited with ${code}:\n${tail.join('\n')}`, {
      file: input,
    });
  const result = await readRelionResult(outRoot);
  return { ...result, seconds, cpuSeconds: childCpuSeconds() - cpu0, command };
}
