/**
 * `runClassification`: a whole classification of a particle file into an output folder, with a
 * checkpoint after every iteration so `resume: true` continues an interrupted run and ends with
 * exactly the result of an uninterrupted one. The CLI (`ackmeans classify`) and the server call it.
 */
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AckmeansError } from '../errors.js';
import { type SlurmExecutorOptions, createSlurmExecutor } from '../executor/slurm-pass.js';
import { type ParticleSet, openParticles } from '../io/index.js';
import { checkOutputDir } from '../io/output-dir.js';
import { UID_COLUMN } from '../io/particles-star.js';
import {
  CHECKPOINT_FILE,
  type Checkpoint,
  fileChecksum,
  loadCheckpoint,
  removeCheckpoint,
  saveCheckpoint,
} from './checkpoint.js';
import { reportClasses } from './averages.js';
import { checkParams, classifyParticles } from './classify.js';
import { OUTPUT_FILES, type ParticleTable, particleImageNames, stackTable, writeOutputs } from './outputs.js';
import { accepted } from './class-score.js';
import { csParticleSource } from './cs-outputs.js';
import { VERSION } from './version.js';
import type { ClassifyParams } from './params.js';
import type { ClassifyProgress } from './progress.js';
import {
  type ExistingFolder,
  checkOutputFolder,
  endingOf,
  iterationLine,
  openJobFolder,
  summaryLine,
} from './job-folder.js';
import { whyNotScaleEngine } from './mra.js';
import { particleInput } from './particles.js';
import type { PassExecutor } from './scale.js';
import type { ClassificationResult } from './types.js';

export type { ClassifyParams } from './params.js';
export type { ClassifyProgress } from './progress.js';

/**
 * How the run ended: converged, or (the scale engine; its last trace record says so) stopped at
 * its particle-visit budget or settled after its visit allowance.
 */
function endingFlags(result: Pick<ClassificationResult, 'trace' | 'converged'>) {
  const last = result.trace.at(-1) as { budgetReached?: boolean; settled?: boolean } | undefined;
  return {
    converged: result.converged,
    budgetReached: last?.budgetReached === true,
    settled: last?.settled === true,
  };
}

/** What a finished run reports. */
export interface RunSummary {
  outDir: string;
  /** Paths of the files written. */
  files: string[];
  /** Main clustering iterations after the initial assignment. */
  iterations: number;
  converged: boolean;
  /** The scale engine stopped at its particle-visit budget (`maxVisits`), before converging. */
  budgetReached: boolean;
  /** The scale engine settled (`settleSigma`) after its visit allowance, before converging. */
  settled: boolean;
  /** Members per class. */
  sizes: number[];
  /**
   * Wall time of the run in seconds, up to writing its outputs (of this invocation, when
   * resumed): the figure report.json (`timings.run`) and report.html give.
   */
  seconds: number;
  /** Particles left out by the screening. */
  quarantined: number;
}

/** Options of {@link runClassification}. */
export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (p: ClassifyProgress) => void;
  /** Called after every clustering iteration with its trace row. */
  onIteration?: (t: unknown) => void;
  /** Continue from outDir's checkpoint (`input` and `params` then come from it). */
  resume?: boolean;
  /** Stack paths as written in the STAR/.cs file (or base names, or `DIR/` prefixes) → real files. */
  remap?: Record<string, string>;
  /**
   * A new run into an outDir that already holds something: 'overwrite' (the default) or
   * 'refuse' (`ERR_OUTPUT_EXISTS`, nothing touched; the CLI's default without `--force`).
   */
  existing?: 'refuse' | 'overwrite';
  /** The command line note.txt records (default: this process's arguments). */
  commandLine?: string;
  /** Called with each oddity of the input that did not stop the run (also listed in report.json). */
  onWarning?: (message: string) => void;
  /** Folder for the working stack's float16 scratch file when it is too big for memory (default: outDir). */
  scratch?: string;
  /**
   * Largest working stack kept in memory, in bytes of float32 pixels (default 512 MiB; 0 always
   * streams through the scratch file). Results are the same either way.
   */
  inMemoryLimit?: number;
  /**
   * Run the scale engine's alignment passes as Slurm job arrays (README, "Beyond one machine"):
   * same results as in this process. `dir` (default `<outDir>/slurm`) must be on a filesystem
   * the compute nodes share. The settings are checked (`sbatch --test-only`) before any work.
   */
  slurm?: Omit<SlurmExecutorOptions, 'dir'> & { dir?: string };
}

/**
 * The particle table run_data.star extends: the input STAR, or one built from the set (with a
 * .cs input's origins and uids); and the input side of the cryoSPARC outputs.
 */
async function tableOf(set: ParticleSet, pixelSize: number, invert: boolean): Promise<ParticleTable> {
  const imageNames = particleImageNames(set);
  const cs = await csParticleSource(set, invert);
  if (set.star) return { star: set.star.file, block: set.star.particlesBlock, pixelSize, imageNames, cs };
  const { originXAngst, originYAngst } = set.poses ?? {};
  const extra = {
    ...(originXAngst && originYAngst ? { rlnOriginXAngst: originXAngst, rlnOriginYAngst: originYAngst } : {}),
    ...(set.uids ? { [UID_COLUMN]: Array.from(set.uids, String) } : {}),
  };
  return { ...stackTable(imageNames, set.box, pixelSize, set.ctf, extra), imageNames, cs };
}

function reportJson(cp: Checkpoint, set: ParticleSet, result: ClassificationResult): Record<string, unknown> {
  const { params } = result;
  return {
    program: 'ackmeans classify',
    version: VERSION,
    input: {
      path: cp.input,
      sha256: cp.inputChecksum,
      format: set.format,
      count: set.count,
      box: set.box,
      pixelSize: set.pixelSize,
    },
    params,
    seed: params.seed,
    // the shift search in every unit a user may think in (params.shiftRange is in working pixels)
    working: {
      box: result.box,
      pixelSize: result.pixelSize,
      shiftRangeInputPixels: (params.shiftRange * set.box) / result.box,
      shiftRangeAngst: params.shiftRange * result.pixelSize,
    },
    iterations: result.iterations,
    ...endingFlags(result),
    sizes: result.sizes,
    resolution: result.resolution.map((r) => (Number.isFinite(r) ? r : null)),
    averages: {
      box: result.classes.box,
      pixelSize: result.classes.pixelSize,
      correction: result.classes.correction,
    },
    classes: result.scores.map((c, j) => ({
      class: j + 1,
      members: result.sizes[j],
      resolution: Number.isFinite(result.resolution[j]) ? result.resolution[j] : null,
      score: c.score,
      accepted: accepted(c),
      gated: c.gated,
      reasons: c.reasons,
      features: c.features,
    })),
    trace: result.trace,
    timings: result.timings,
    quarantined: result.quarantined.map((q) => ({ ...q, particle: q.index + 1 })),
    warnings: set.warnings,
  };
}

/** The Slurm executor of a run, checked before any work (settings, and an engine it can run). */
async function slurmExecutor(
  slurm: NonNullable<RunOptions['slurm']>,
  params: ClassifyParams,
  count: number,
  outDir: string,
): Promise<PassExecutor> {
  const refusal = whyNotScaleEngine(params, count);
  if (refusal)
    throw new AckmeansError(
      'ERR_EXECUTOR',
      `ackmeans: --executor slurm runs only the scale engine's passes, and this run would not use it: ${refusal}`,
    );
  return createSlurmExecutor({ ...slurm, dir: slurm.dir ?? join(outDir, 'slurm') });
}

/** True when `dir` holds a finished run (its report, no checkpoint). */
async function finishedRun(dir: string): Promise<boolean> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  return entries.includes(OUTPUT_FILES.report) && !entries.includes(CHECKPOINT_FILE);
}

/** The checkpoint to continue from, or `ERR_ALREADY_FINISHED` when the run finished. */
async function checkpointToContinue(dir: string): Promise<Checkpoint> {
  try {
    return await loadCheckpoint(dir);
  } catch (err) {
    if (await finishedRun(dir))
      throw new AckmeansError(
        'ERR_ALREADY_FINISHED',
        `ackmeans: the run in ${dir} already finished (its outputs are there); nothing to continue`,
        { file: dir },
      );
    throw err;
  }
}

/** The log line of a progress report when the stage changes. */
function stageLogger(log: (line: string) => void): (p: ClassifyProgress) => void {
  let last = '';
  return (p) => {
    if (p.stage !== last) log(`${p.stage}…`);
    last = p.stage;
  };
}

/**
 * Runs a whole classification of `input` (.star/.cs/.mrcs) into `outDir`; with resume: true
 * continues from outDir's checkpoint. Writes run_data.star, run_classes.mrcs, run_model.star,
 * report.json and report.html (+ figures), and keeps the folder as src/pipeline/job-folder.ts
 * says (lock, note.txt, run.log). A checkpoint is saved before preprocessing and after every
 * iteration, so a failed, cancelled or killed run can be continued; a bad input leaves nothing.
 * @throws RangeError/TypeError for bad parameters, FormatError for bad input files,
 *   AckmeansError `ERR_OUTPUT_EXISTS` (outDir holds something and `existing` is 'refuse'),
 *   `ERR_OUTPUT_LOCKED` (another run is writing there), `ERR_CHECKPOINT` / `ERR_INPUT_CHANGED`
 *   when resuming is impossible, `ERR_ALREADY_FINISHED` when the run to continue finished;
 *   AbortError when `opts.signal` fires.
 */
export async function runClassification(
  input: string,
  outDir: string,
  params: ClassifyParams,
  opts: RunOptions = {},
): Promise<RunSummary> {
  const t0 = performance.now();
  const dir = resolve(outDir);
  await checkOutputDir(dir);
  const existing: ExistingFolder = opts.resume ? 'continue' : (opts.existing ?? 'overwrite');
  await checkOutputFolder(dir, existing);
  let cp: Checkpoint;
  if (opts.resume) {
    cp = await checkpointToContinue(dir);
    const sum = await fileChecksum(cp.input).catch((err: unknown) => {
      throw new AckmeansError(
        'ERR_INPUT_CHANGED',
        `ackmeans: cannot read the input ${cp.input} of the checkpoint in ${dir}`,
        { file: cp.input, cause: err },
      );
    });
    // the thread count may change on resume: results do not depend on it
    if (params?.threads !== undefined) cp.params = { ...cp.params, threads: params.threads };
    if (sum !== cp.inputChecksum)
      throw new AckmeansError(
        'ERR_INPUT_CHANGED',
        `ackmeans: ${cp.input} changed since the run in ${dir} started (checksum differs); start a new run`,
        { file: cp.input },
      );
  } else {
    const path = resolve(input);
    cp = {
      version: 1,
      input: path,
      inputChecksum: '',
      params,
      phases: {},
      ...(opts.remap ? { remap: opts.remap } : {}),
    };
  }
  const set = await openParticles(cp.input, cp.remap ? { remap: cp.remap } : {});
  try {
    const particles = particleInput(set);
    for (const w of set.warnings) opts.onWarning?.(w);
    checkParams(particles, cp.params); // bad parameters leave nothing behind
    const executor = opts.slurm
      ? await slurmExecutor(opts.slurm, cp.params, particles.count, dir)
      : undefined;
    // Every way out closes the executor, so nothing it submitted (ahead) is left on the
    // cluster: after the passes with its files removed, on a failure or cancellation with its
    // files (the tasks' logs) kept.
    let executorOpen = executor !== undefined;
    const closeExecutor = async (keepFiles: boolean): Promise<void> => {
      if (!executorOpen) return;
      executorOpen = false;
      await executor?.close({ keepFiles });
    };
    try {
      if (!opts.resume) cp.inputChecksum = await fileChecksum(cp.input);
      const folder = await openJobFolder(dir, existing, VERSION, opts.commandLine);
      try {
        folder.log(
          `ackmeans ${VERSION}: ${opts.resume ? 'continuing' : 'classifying'} ${cp.input} (${set.count} particles) into ${dir}`,
        );
        if (!opts.resume) await saveCheckpoint(dir, cp); // --continue works from the very start
        const logStage = stageLogger(folder.log);
        const result = await classifyParticles(particles, cp.params, {
          signal: opts.signal,
          onProgress: (p) => {
            logStage(p);
            opts.onProgress?.(p);
          },
          onIteration: (t) => {
            folder.log(iterationLine(t as Parameters<typeof iterationLine>[0]));
            opts.onIteration?.(t);
          },
          checkpoint: cp,
          save: (c) => saveCheckpoint(dir, c),
          scratch: opts.scratch === undefined ? dir : resolve(opts.scratch),
          ...(opts.inMemoryLimit === undefined ? {} : { inMemoryLimit: opts.inMemoryLimit }),
          ...(executor ? { executor } : {}),
        });
        await closeExecutor(false);
        // one figure for the run's time: report.json, report.html and the summary agree
        const seconds = (performance.now() - t0) / 1000;
        const progress = (fraction: number): ClassifyProgress => ({
          stage: 'write',
          iteration: result.iterations,
          maxIter: result.params.maxIter,
          fraction,
          elapsedSeconds: (performance.now() - t0) / 1000,
        });
        logStage(progress(0.97));
        opts.onProgress?.(progress(0.97));
        const ending = endingFlags(result);
        const report = reportJson(cp, set, result);
        report.timings = { ...result.timings, run: seconds };
        const table = await tableOf(set, particles.pixelSize, result.params.invert);
        const files = await writeOutputs(dir, result, table, report, set.box);
        // loaded here, not at the top: the report pulls in vega (start-up time, issue 11)
        const { writeClassifyReport } = await import('../report/report.js');
        files.push(
          ...(await writeClassifyReport(dir, {
            classAverages: result.classes.averages,
            box: result.classes.box,
            sizes: Int32Array.from(result.sizes),
            trace: result.trace.filter((r) => r.phase === result.trace.at(-1)?.phase),
            title: `ackmeans classify: ${result.params.pipeline.toUpperCase()} ${result.params.method}, k = ${result.params.k}`,
            params: { ...result.params },
            seconds,
            ending: endingOf(ending),
            ...(await reportClasses(particles, result, {
              threads: result.params.threads,
              signal: opts.signal,
            })),
            ...(result.resolution.some(Number.isFinite)
              ? { resolution: Math.min(...result.resolution.filter(Number.isFinite)) }
              : {}),
          })),
        );
        await removeCheckpoint(dir);
        opts.onProgress?.(progress(1));
        const summary: RunSummary = {
          outDir: dir,
          files,
          iterations: result.iterations,
          ...ending,
          sizes: result.sizes,
          seconds,
          quarantined: result.quarantined.length,
        };
        folder.log(summaryLine(summary));
        return summary;
      } catch (err) {
        const aborted = err instanceof DOMException && err.name === 'AbortError';
        if (!aborted && !opts.resume && Object.keys(cp.phases).length === 0) {
          // failed before any iteration (e.g. too few particles after screening): nothing to continue
          await removeCheckpoint(dir);
          if (folder.created) await folder.remove();
        }
        folder.log(
          aborted
            ? `cancelled; continue with: ackmeans classify --continue ${dir}`
            : `failed: ${err instanceof Error ? err.message : String(err)}`,
        );
        throw err;
      } finally {
        folder.release();
      }
    } finally {
      await closeExecutor(true);
    }
  } finally {
    await set.close();
  }
}

export { OUTPUT_FILES };
