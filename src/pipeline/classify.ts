/**
 * `classify()`: particles in, 2D classes out, in memory. `runClassification` (run.ts) is this
 * plus the files; both share {@link classifyParticles}.
 *
 * Steps: screen + phase flip + crop + normalise + mask (stack.ts) → the pipeline's clustering
 * (mra.ts, msa.ts, rfa.ts) → every image aligned to its final class average, averages with
 * even/odd halves (pipeline.ts) → the final CTF-corrected averages at the average box, with
 * their even/odd FRC and resolution (averages.ts).
 */
import { AckmeansError, checkCallback, checkSignal } from '../errors.js';
import { type ParticleSet, openParticles } from '../io/index.js';
import type { JobOptions } from '../job.js';
import { type Checkpoint, PhaseRunner } from './checkpoint.js';
import { finalAverages, recentredPoses } from './averages.js';
import { scoreClasses } from './class-score.js';
import { runMra, startPhaseCount, whyNotScaleEngine } from './mra.js';
import { particleInput } from './particles.js';
import { MSA_ROUNDS, runMsa } from './msa.js';
import { type ClassifyParams, type ResolvedParams, resolveParams } from './params.js';
import { finalClasses, type PipelineContext, type PipelineOutcome } from './pipeline.js';
import { type ClassifyProgress, ProgressTracker, sizeCv } from './progress.js';
import { runRfa } from './rfa.js';
import { type ParticleInput, type WorkingStack, prepareStack } from './stack.js';
import type { ClassificationResult, TraceRow } from './types.js';
import type { PassExecutor } from './scale.js';

const PIPELINE_RUNNERS: Record<
  NonNullable<ClassifyParams['pipeline']>,
  (ctx: PipelineContext) => Promise<PipelineOutcome>
> = {
  mra: runMra,
  msa: runMsa,
  rfa: runRfa,
};

/** Clustering phases of each pipeline (for the progress bar's iteration budget). */
const PHASES = { mra: 1, rfa: 1, msa: 1 + MSA_ROUNDS } as const;

/** Callbacks and cancellation of a classification. */
export interface ClassifyHooks {
  /** Cancels the run (it rejects with an AbortError). */
  signal?: AbortSignal;
  /** Progress reports, about every 100 ms during long steps and at every iteration. */
  onProgress?: (p: ClassifyProgress) => void;
  /** Called after every clustering iteration with its trace row. */
  onIteration?: (row: TraceRow) => void | Promise<void>;
  /**
   * Folder for the float16 scratch file of a working stack too big to keep in memory (default:
   * the system's temporary folder; runClassification: the output folder).
   */
  scratch?: string;
  /**
   * Runs the scale engine's alignment passes elsewhere, with the same results (e.g.
   * `createSlurmExecutor` from src/executor/slurm-pass.ts); default: in this process. Only the
   * MRA pipeline's scale engine uses it (ACK-means without `exhaustive`).
   */
  executor?: PassExecutor;
}

/** Internal: hooks plus the checkpoint to resume from and save to, and the in-memory limit. */
export interface RunHooks extends ClassifyHooks {
  checkpoint?: Checkpoint;
  save?: (checkpoint: Checkpoint) => Promise<void>;
  /** Largest working stack held in memory (bytes of float32 pixels; see stack.ts). */
  inMemoryLimit?: number;
}

/** Particles of a set that are usable for the checks of `resolveParams` (all, before screening). */
function inputFacts(input: ParticleInput) {
  return { count: input.count, box: input.box, pixelSize: input.pixelSize, hasCtf: input.ctf !== undefined };
}

/** Checks `params` against `input` (what the run would check first); throws as `resolveParams`. */
export function checkParams(input: ParticleInput, params: ClassifyParams): void {
  resolveParams(params, inputFacts(input));
}

/**
 * Classifies the particles of `input` (shared by `classify` and `runClassification`).
 * @throws RangeError/TypeError naming a bad parameter; AckmeansError `ERR_TOO_FEW_PARTICLES`
 *   when fewer than k particles survive screening; AbortError when `hooks.signal` fires.
 */
export async function classifyParticles(
  input: ParticleInput,
  params: ClassifyParams,
  hooks: RunHooks = {},
): Promise<ClassificationResult> {
  const signal = checkSignal(hooks.signal);
  checkCallback('onProgress', hooks.onProgress);
  checkCallback('onIteration', hooks.onIteration);
  const p = resolveParams(params, inputFacts(input));
  const executor = hooks.executor?.name ?? 'local';
  const refusal = executor !== 'local' && whyNotScaleEngine(p, input.count);
  if (refusal)
    throw new AckmeansError(
      'ERR_EXECUTOR',
      `ackmeans: the ${executor} executor runs only the scale engine's passes, and this run would not use it: ${refusal}`,
    );
  const timings: Record<string, number> = {};
  const t0 = performance.now();
  const job: JobOptions = { signal, ...(p.threads === undefined ? {} : { threads: p.threads }) };
  const starts = startPhaseCount(p);
  const tracker = new ProgressTracker(
    p.maxIter * PHASES[p.pipeline] + starts * p.startIterations,
    hooks.onProgress,
    {
      maxIter: p.maxIter,
      phases: PHASES[p.pipeline] + starts,
      sigma0: p.sigma0,
    },
  );
  tracker.update('preprocess', 0);
  const stack = await prepareStack(
    input,
    p,
    {
      ...job,
      ...(hooks.scratch === undefined ? {} : { scratch: hooks.scratch }),
      ...(hooks.inMemoryLimit === undefined ? {} : { inMemoryLimit: hooks.inMemoryLimit }),
    },
    (f) => tracker.update('preprocess', f),
  );
  try {
    return await classifyStack(input, p, stack, hooks, job, tracker, timings, t0);
  } finally {
    await stack.close();
  }
}

/** The rest of classifyParticles once the working stack is made (the caller closes the stack). */
async function classifyStack(
  input: ParticleInput,
  p: ResolvedParams,
  stack: WorkingStack,
  hooks: RunHooks,
  job: JobOptions,
  tracker: ProgressTracker,
  timings: Record<string, number>,
  t0: number,
): Promise<ClassificationResult> {
  timings.preprocess = (performance.now() - t0) / 1000;
  if (stack.kept.length < p.k)
    throw new AckmeansError(
      'ERR_TOO_FEW_PARTICLES',
      `ackmeans: only ${stack.kept.length} of ${input.count} particles are usable (${stack.quarantined.length} quarantined), fewer than k = ${p.k}`,
    );
  const phases = new PhaseRunner(
    hooks.checkpoint,
    hooks.save ?? (async () => undefined),
    async (phase, record) => {
      tracker.iterationDone(record.iteration, record.sigma, record.sizes);
      await hooks.onIteration?.({ ...record, phase, sizeCv: sizeCv(record.sizes) });
    },
  );
  const ctx: PipelineContext = {
    stack,
    params: p,
    job,
    alignOptions: {
      box: stack.box,
      particleRadius: p.radius,
      shiftRange: p.shiftRange,
      shiftStep: p.shiftStep,
      mirror: p.mirror,
      shiftReferences: p.shiftReferences,
      bandLimit: Math.min(0.5, Math.max(0.05, stack.pixelSize / p.alignResolution)),
    },
    clusterOptions: {
      k: p.k,
      method: p.method,
      beta: p.beta,
      sigma0: p.sigma0,
      maxIter: p.maxIter,
      seed: p.seed,
      ...job,
    },
    phases,
    onWithinIteration: (f) => tracker.update('align', f),
    ...(hooks.executor ? { executor: hooks.executor } : {}),
  };
  const t1 = performance.now();
  const outcome = await PIPELINE_RUNNERS[p.pipeline](ctx);
  timings.cluster = (performance.now() - t1) / 1000;
  tracker.update('average', 0);
  const t2 = performance.now();
  const final = await finalClasses(ctx, outcome);
  let poses = final.poses;
  let classes = await finalAverages(input, stack.kept, outcome.assignment, poses, p, job);
  if (p.recentre) {
    // centre of mass of each average to the box centre; the members' shifts take it, then average again
    poses = recentredPoses(classes, outcome.assignment, poses, p.box, (p.radius * classes.box) / p.box).poses;
    classes = await finalAverages(input, stack.kept, outcome.assignment, poses, p, job);
  }
  const scores = scoreClasses(classes, (p.radius * classes.box) / p.box);
  timings.average = (performance.now() - t2) / 1000;
  tracker.update('average', 1);
  const trace: TraceRow[] = phases.results.flatMap(({ phase, result }) =>
    result.trace.map((r) => ({ ...r, phase, sizeCv: sizeCv(r.sizes) })),
  );
  timings.total = (performance.now() - t0) / 1000;
  return {
    params: p,
    count: input.count,
    kept: stack.kept,
    quarantined: stack.quarantined,
    box: stack.box,
    pixelSize: stack.pixelSize,
    assignment: outcome.assignment,
    poses,
    averages: final.averages,
    sizes: final.sizes,
    classes,
    scores,
    // the even/odd FRC of the final averages, in Å (Infinity under 2 members)
    resolution: Array.from(classes.resolution, (r) =>
      Number.isFinite(r) ? r * classes.pixelSize : Infinity,
    ),
    trace,
    iterations: outcome.iterations,
    converged: outcome.converged,
    timings,
  };
}

/** Options of {@link classify}: the parameters, callbacks and (for a path) stack remapping. */
export interface ClassifyOptions extends ClassifyParams, ClassifyHooks {
  /** Stack paths as written in the STAR/.cs file (or base names) → real files. */
  remap?: Record<string, string>;
}

/**
 * Classifies particles in memory (nothing is written): `particles` is a path (.star, .cs,
 * .mrcs) or an open ParticleSet (left open).
 * @returns the classes, each particle's pose to its class, class averages, sizes, resolutions,
 *   the trace and the quarantined particles.
 * @example
 *   const r = await classify('particles.star', { k: 50, pipeline: 'mra', method: 'ack', seed: 1 });
 */
export async function classify(
  particles: ParticleSet | string,
  options: ClassifyOptions,
): Promise<ClassificationResult> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const { signal, onProgress, onIteration, remap, scratch, ...params } = options;
  const set =
    typeof particles === 'string' ? await openParticles(particles, remap ? { remap } : {}) : particles;
  try {
    return await classifyParticles(particleInput(set), params, {
      signal,
      onProgress,
      onIteration,
      ...(scratch === undefined ? {} : { scratch }),
    });
  } finally {
    if (typeof particles === 'string') await set.close();
  }
}
